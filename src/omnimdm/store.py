"""The store contract: one DuckDB file, record identity, runs, publish, lock, snapshot.

* **Record identity** - ``record_id`` is a deterministic 63-bit hash of
  ``(source, source_record_id)``; users see records as ``SOURCE:SOURCE_RECORD_ID``.
* **Runs** - every run gets a row in ``runs``; its stages write staging tables named
  ``stg_r{run_id}_{table}``; :meth:`Store.publish` renames them over the published tables
  in one short transaction. A failed or killed run leaves the published tables untouched.
* **One writer, many readers** - writers hold an ``fcntl.flock`` on ``<store>.lock``.
  Because a DuckDB file open for writing cannot be opened by any other process, publishing
  also writes ``<store>.snapshot.duckdb`` (a copy of the published outputs swapped in by
  atomic rename) that exports and the read API use.
* **Erasure** - DuckDB keeps deleted rows' bytes in the file; :meth:`Store.rewrite_file`
  copies the whole store into a fresh file and swaps it in (``omnimdm forget``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import duckdb

from omnimdm.errors import LockError, StoreError

log = logging.getLogger(__name__)

#: tables copied into the read-only snapshot at publish time
SNAPSHOT_TABLES = (
    "golden_customers",
    "golden_winners",
    "golden_collected",
    "golden_consent",
    "golden_events",
    "golden_ids",
    "clusters",
    "runs",
    "quality_profile",
)
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_DUCKDB_CONFIG = {"autoinstall_known_extensions": "false"}

MIGRATIONS: dict[int, Sequence[str]] = {
    1: (
        """CREATE TABLE IF NOT EXISTS runs (
            run_id INTEGER PRIMARY KEY, command VARCHAR, status VARCHAR NOT NULL,
            started_at TIMESTAMP NOT NULL, ended_at TIMESTAMP, config_hash VARCHAR,
            versions JSON, counts JSON, timings JSON, error VARCHAR, pid INTEGER)""",
        """CREATE TABLE IF NOT EXISTS models (
            run_id INTEGER PRIMARY KEY, created_at TIMESTAMP, fingerprint VARCHAR,
            model_json JSON)""",
    ),
    # stable golden ids: the registry of every id ever issued, the sequence's high-water
    # mark and the event log; a run writes staging copies that publish swaps in (events
    # are appended) in the same transaction as everything else
    2: (
        """CREATE TABLE IF NOT EXISTS golden_events (
            run_id INTEGER NOT NULL, event VARCHAR NOT NULL, golden_id VARCHAR NOT NULL,
            related_golden_id VARCHAR, source VARCHAR, source_record_id VARCHAR,
            created_at TIMESTAMP NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS golden_ids (
            golden_id VARCHAR NOT NULL, seq BIGINT, created_run INTEGER,
            retired_run INTEGER, successor VARCHAR)""",
        """CREATE TABLE IF NOT EXISTS golden_id_sequence (
            last_value BIGINT NOT NULL, run_id INTEGER)""",
    ),
    # 3: steward review (issue 6). Decisions are written directly, one short transaction
    # each; the queue is rebuilt by every run and published with it.
    3: (
        """CREATE TABLE IF NOT EXISTS review_decisions (
            decision_id INTEGER PRIMARY KEY,
            source_a VARCHAR NOT NULL, source_record_id_a VARCHAR NOT NULL,
            source_b VARCHAR NOT NULL, source_record_id_b VARCHAR NOT NULL,
            decision VARCHAR NOT NULL CHECK (decision IN ('same', 'different')),
            origin VARCHAR NOT NULL, reviewer VARCHAR NOT NULL,
            decided_at TIMESTAMP NOT NULL, note VARCHAR,
            hash_a VARCHAR NOT NULL, hash_b VARCHAR NOT NULL,
            revoked_at TIMESTAMP, revoked_by VARCHAR, revoke_note VARCHAR)""",
        """CREATE TABLE IF NOT EXISTS review_queue (
            position INTEGER, kind VARCHAR, record_id_l BIGINT, record_id_r BIGINT,
            source_l VARCHAR, source_record_id_l VARCHAR,
            source_r VARCHAR, source_record_id_r VARCHAR,
            golden_id_l VARCHAR, golden_id_r VARCHAR,
            match_probability DOUBLE, match_weight DOUBLE, uncertainty DOUBLE,
            records_affected INTEGER, impact DOUBLE, decision_id INTEGER, run_id INTEGER)""",
    ),
    # 4: erasure (issue 7). Tombstones keep only an HMAC-SHA256 of each forgotten
    # identifier (the key lives outside this file); the audit log holds no personal data.
    4: (
        """CREATE TABLE IF NOT EXISTS erasure_tombstones (
            kind VARCHAR NOT NULL CHECK (kind IN ('record', 'email', 'phone')),
            hmac VARCHAR NOT NULL, key_id VARCHAR NOT NULL, audit_id INTEGER NOT NULL,
            created_at TIMESTAMP NOT NULL, PRIMARY KEY (kind, hmac))""",
        """CREATE TABLE IF NOT EXISTS erasure_audit (
            audit_id INTEGER PRIMARY KEY, requested_at TIMESTAMP NOT NULL,
            finished_at TIMESTAMP, run_id INTEGER, operator VARCHAR, reference VARCHAR,
            selectors JSON, records_removed INTEGER, records_by_source JSON,
            golden_ids_affected VARCHAR[], rejects_removed INTEGER, events_removed INTEGER,
            decisions_removed INTEGER, tombstones_added INTEGER)""",
    ),
}
#: the newest migration this omnimdm knows (numbers may have gaps while branches land;
#: every missing one is applied in ascending order)
SCHEMA_VERSION = max(MIGRATIONS)


def record_id(source: str, source_record_id: str) -> int:
    """The deterministic record id of ``(source, source_record_id)`` (same as the SQL)."""
    digest = hashlib.md5(f"{source}\x1f{source_record_id}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def record_id_sql(source_expr: str, id_expr: str) -> str:
    """SQL expression computing :func:`record_id` from two VARCHAR expressions."""
    return f"(md5_number_upper({source_expr} || chr(31) || {id_expr}) >> 1)::BIGINT"


def quote_ident(name: str) -> str:
    """Quote an identifier taken from a config or a file header for DuckDB SQL."""
    if "\x00" in name:
        raise StoreError(f"identifier {name!r} contains a NUL byte")
    return '"' + name.replace('"', '""') + '"'


def safe_table_name(name: str) -> str:
    """Validate an internal table name (letters, digits, underscore) and return it."""
    if not _IDENT_RE.match(name):
        raise StoreError(f"invalid table name {name!r}")
    return name


def library_versions() -> dict[str, str]:
    import platform
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for pkg in ("omnimdm", "splink", "duckdb", "pandas", "pyarrow", "phonenumbers"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = "not installed"
    return versions


@dataclass(frozen=True)
class LockHolder:
    pid: int
    command: str
    started_at: str

    def describe(self) -> str:
        return f"pid {self.pid} running {self.command!r} since {self.started_at}"


class StoreLock:
    """Exclusive writer lock: ``fcntl.flock`` on ``<store>.lock`` holding pid/command/start.

    The kernel releases an flock when its process dies, so a killed writer never leaves a
    stale lock behind; the JSON inside is only there to name the holder.
    """

    def __init__(self, store_path: Path) -> None:
        self.path = store_path.with_name(store_path.name + ".lock")
        self._fh: IO[str] | None = None

    def acquire(self, command: str, *, wait_s: float = 0.0) -> None:
        """Take the lock, or raise :class:`LockError` naming the holder. ``wait_s`` > 0 polls
        that long first (a run starting while a steward's one-second command holds the
        store waits instead of failing)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release()
        deadline = time.monotonic() + wait_s
        while not self._try_flock(fh):
            if time.monotonic() >= deadline:
                fh.seek(0)
                holder = self._parse(fh.read())
                fh.close()
                who = holder.describe() if holder else "another process"
                raise LockError(
                    f"the store {self.path.with_suffix('')} is locked by {who}. Wait for it to "
                    "finish; readers (export, the read API) keep working from the snapshot."
                )
            time.sleep(0.05)
        fh.seek(0)
        fh.truncate()
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        fh.write(json.dumps({"pid": os.getpid(), "command": command, "started_at": now}))
        fh.flush()
        self._fh = fh

    @staticmethod
    def _try_flock(fh: IO[str]) -> bool:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._fh is not None

    def release(self) -> None:
        if self._fh is not None:
            fh, self._fh = self._fh, None
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            fh.close()

    @staticmethod
    def _parse(text: str) -> LockHolder | None:
        try:
            data = json.loads(text)
            return LockHolder(int(data["pid"]), str(data["command"]), str(data["started_at"]))
        except (ValueError, KeyError, TypeError):
            return None


def _fsync(path: Path) -> None:
    """Flush a file (or a folder, after a rename in it) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def connect(path: Path | str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB database with extension auto-install off."""
    try:
        return duckdb.connect(str(path), read_only=read_only, config=dict(_DUCKDB_CONFIG))
    except duckdb.IOException as err:
        raise StoreError(f"cannot open {path}: {err}") from None


class Store:
    """The embedded DuckDB store and its published snapshot."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.snapshot_path = self.path.with_name(
            self.path.name.removesuffix(".duckdb") + ".snapshot.duckdb"
        )
        self.lock = StoreLock(self.path)

    # -- writer side -------------------------------------------------------------------
    @contextlib.contextmanager
    def writer(self, command: str, *, wait_s: float = 0.0) -> Iterator[duckdb.DuckDBPyConnection]:
        """Hold the writer lock and an open, migrated connection for the block's duration.

        Steward commands (review, explain, report) use it for well under a second at a
        time; ``wait_s`` lets a run wait that long rather than fail on such a holder."""
        with self.locked(command, wait_s=wait_s), self.connection() as con:
            yield con

    @contextlib.contextmanager
    def locked(self, command: str, *, wait_s: float = 0.0) -> Iterator[None]:
        """Hold the writer lock (no connection): for work that must also happen while no
        connection is open, such as :meth:`rewrite_file`."""
        self.lock.acquire(command, wait_s=wait_s)
        try:
            yield
        finally:
            self.lock.release()

    @contextlib.contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """An open, migrated connection to the store; the caller holds the writer lock."""
        con = connect(self.path)
        try:
            self.migrate(con)
            yield con
        finally:
            con.close()

    def rewrite_file(self) -> None:
        """Copy the whole store into a fresh file and swap it in by atomic rename.

        DuckDB keeps the bytes of deleted rows in the file after DELETE, VACUUM and
        CHECKPOINT; a fresh file written by ``COPY FROM DATABASE`` holds only live rows.
        Call with the writer lock held and no connection open. Leftovers of interrupted
        rewrites and snapshot writes (which may hold erased rows) are removed too.
        """
        if not self.lock.held:
            raise StoreError("rewrite_file needs the writer lock")
        self._remove_leftovers()
        tmp = self.path.with_name(f"{self.path.name}.rewrite-{os.getpid()}")
        con = connect(self.path)
        try:
            con.execute("CHECKPOINT")
            name = con.sql("SELECT current_database()").fetchall()[0][0]
            con.execute("ATTACH ? AS omnimdm_fresh", [str(tmp)])
            con.execute(f"COPY FROM DATABASE {quote_ident(name)} TO omnimdm_fresh")
            con.execute("DETACH omnimdm_fresh")
        except BaseException:
            con.close()
            tmp.unlink(missing_ok=True)
            raise
        con.close()
        _fsync(tmp)
        # a WAL left beside the old file would be replayed onto the new one
        self.path.with_name(self.path.name + ".wal").unlink(missing_ok=True)
        os.replace(tmp, self.path)
        _fsync(self.path.parent)

    def _remove_leftovers(self) -> None:
        patterns = (f"{self.path.name}.rewrite-*", f"{self.snapshot_path.name}.tmp-*")
        for pattern in patterns:
            for leftover in self.path.parent.glob(pattern):
                leftover.unlink(missing_ok=True)
                log.info("removed %s (left by an interrupted write)", leftover.name)

    @staticmethod
    def migrate(
        con: duckdb.DuckDBPyConnection, migrations: dict[int, Sequence[str]] | None = None
    ) -> None:
        """Apply every migration not yet recorded in ``schema_version``, in ascending order.

        Numbers need not be contiguous: a store migrated to {1, 3} by one branch gets 2 when
        code that knows it opens the store. A store holding a version this code does not
        know (newer code wrote it) is refused.
        """
        migrations = MIGRATIONS if migrations is None else migrations
        con.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER, applied_at TIMESTAMP)"
        )
        applied = {int(v) for (v,) in con.sql("SELECT version FROM schema_version").fetchall()}
        unknown = sorted(v for v in applied if v not in migrations and v > max(migrations))
        if unknown:
            raise StoreError(
                f"the store has schema version {unknown[-1]}, newer than this omnimdm "
                f"({max(migrations)}); upgrade omnimdm"
            )
        for version in sorted(set(migrations) - applied):
            con.execute("BEGIN TRANSACTION")
            for stmt in migrations[version]:
                con.execute(stmt)
            con.execute("INSERT INTO schema_version VALUES (?, now())", [version])
            con.execute("COMMIT")

    @staticmethod
    def staging(run_id: int, table: str) -> str:
        return safe_table_name(f"stg_r{run_id}_{table}")

    def begin_run(self, con: duckdb.DuckDBPyConnection, command: str, config_hash: str) -> int:
        """Register a new run; clean up what crashed runs left behind."""
        self._recover(con)
        rows = con.sql("SELECT coalesce(max(run_id), 0) + 1 FROM runs").fetchall()
        run_id = int(rows[0][0])
        con.execute(
            "INSERT INTO runs (run_id, command, status, started_at, config_hash, versions, pid)"
            " VALUES (?, ?, 'running', now(), ?, ?, ?)",
            [run_id, command, config_hash, json.dumps(library_versions()), os.getpid()],
        )
        return run_id

    def _recover(self, con: duckdb.DuckDBPyConnection) -> None:
        stale = con.sql("SELECT run_id FROM runs WHERE status = 'running'").fetchall()
        for (run_id,) in stale:
            log.warning("run %s did not finish (killed?); marking it failed", run_id)
        con.execute(
            "UPDATE runs SET status = 'failed', ended_at = coalesce(ended_at, now()), "
            "error = coalesce(error, 'interrupted: the process ended before publishing') "
            "WHERE status = 'running'"
        )
        for name in self.tables(con, prefix="stg_r"):
            con.execute(f"DROP TABLE IF EXISTS {safe_table_name(name)}")

    @staticmethod
    def tables(con: duckdb.DuckDBPyConnection, prefix: str = "") -> list[str]:
        rows = con.sql(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'main' AND starts_with(table_name, $p) ORDER BY table_name",
            params={"p": prefix},
        ).fetchall()
        return [r[0] for r in rows]

    def publish(
        self,
        con: duckdb.DuckDBPyConnection,
        run_id: int,
        tables: Sequence[str],
        *,
        counts: dict[str, Any],
        timings: dict[str, float],
        append: Sequence[str] = (),
        views: dict[str, str] | None = None,
        before_commit: Callable[[], None] | None = None,
    ) -> None:
        """Swap the run's staging tables in as the published tables and append the rows of
        the ``append`` staging tables to their published logs, in one transaction;
        ``views`` (name -> query over published names) are (re)created with them and in
        the snapshot."""
        views = views or {}
        con.execute("BEGIN TRANSACTION")
        try:
            for table in tables:
                con.execute(f"DROP TABLE IF EXISTS {safe_table_name(table)}")
                con.execute(f"ALTER TABLE {self.staging(run_id, table)} RENAME TO {table}")
            for table in append:
                staged = self.staging(run_id, table)
                con.execute(f"INSERT INTO {safe_table_name(table)} BY NAME SELECT * FROM {staged}")
                con.execute(f"DROP TABLE {staged}")
            for name, query in views.items():
                self._drop_object(con, name)
                con.execute(f"CREATE VIEW {safe_table_name(name)} AS {query}")
            con.execute(
                "UPDATE runs SET status = 'published', ended_at = now(), counts = ?, "
                "timings = ? WHERE run_id = ?",
                [json.dumps(counts), json.dumps(timings), run_id],
            )
            if before_commit is not None:
                before_commit()
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("CHECKPOINT")
        self.write_snapshot(con, views)

    @staticmethod
    def _drop_object(con: duckdb.DuckDBPyConnection, name: str) -> None:
        """Drop the table or view ``name`` in the current database, if there is one."""
        kinds = con.sql(
            "SELECT 'TABLE' FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'main' AND table_name = $n UNION ALL SELECT 'VIEW' "
            "FROM duckdb_views() WHERE database_name = current_database() "
            "AND schema_name = 'main' AND view_name = $n",
            params={"n": name},
        ).fetchall()
        for (kind,) in kinds:
            con.execute(f"DROP {kind} {safe_table_name(name)}")

    def fail_run(self, con: duckdb.DuckDBPyConnection, run_id: int, error: str) -> None:
        """Mark the run failed and drop its staging tables."""
        self.end_unpublished(con, run_id, error, status="failed")

    def end_unpublished(
        self, con: duckdb.DuckDBPyConnection, run_id: int, note: str, *, status: str
    ) -> None:
        """End a run without publishing (failed, partial, training only): record the status
        and note, drop its staging tables."""
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        con.execute(
            "UPDATE runs SET status = ?, ended_at = now(), error = ? WHERE run_id = ?",
            [status, note[:2000], run_id],
        )
        for name in self.tables(con, prefix=f"stg_r{run_id}_"):
            con.execute(f"DROP TABLE IF EXISTS {safe_table_name(name)}")

    def write_snapshot(
        self, con: duckdb.DuckDBPyConnection, views: dict[str, str] | None = None
    ) -> None:
        """Copy the published outputs to a fresh file and swap it in by atomic rename;
        ``views`` are created in it over its own tables."""
        tmp = self.snapshot_path.with_name(f"{self.snapshot_path.name}.tmp-{os.getpid()}")
        tmp.unlink(missing_ok=True)
        present = set(self.tables(con))
        main = con.sql("SELECT current_database()").fetchall()[0][0]
        con.execute("ATTACH ? AS snap", [str(tmp)])
        try:
            for table in SNAPSHOT_TABLES:
                if table in present:
                    con.execute(f"CREATE TABLE snap.{table} AS SELECT * FROM main.{table}")
            con.execute("USE snap")
            try:
                for name, query in (views or {}).items():
                    con.execute(f"CREATE VIEW {safe_table_name(name)} AS {query}")
            finally:
                con.execute(f"USE {quote_ident(main)}")
        finally:
            con.execute("DETACH snap")
        _fsync(tmp)
        os.replace(tmp, self.snapshot_path)

    # -- reader side -------------------------------------------------------------------
    @contextlib.contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Read-only connection to the published snapshot; never blocks or is blocked."""
        if not self.snapshot_path.exists():
            raise StoreError(
                f"no published results at {self.snapshot_path}; run `omnimdm run` first"
            )
        con = connect(self.snapshot_path, read_only=True)
        try:
            yield con
        finally:
            con.close()

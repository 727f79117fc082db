"""The store contract: one DuckDB file, record identity, runs, publish, lock, snapshot.

* **Record identity** - ``record_id`` is a deterministic 63-bit hash of
  ``(source, source_record_id)``; users see records as ``SOURCE:SOURCE_RECORD_ID``.
* **Runs** - every run gets a row in ``runs``; its stages write staging tables named
  ``stg_r{run_id}_{table}``; :meth:`Store.publish` renames them over the published tables
  in one short transaction. A failed or killed run leaves the published tables untouched.
* **One writer, many readers** - writers hold an ``fcntl.flock`` on ``<store>.lock``.
  Because a DuckDB file open for writing cannot be opened by any other process, publishing
  also writes ``<store>.snapshot.duckdb`` (a copy of the published outputs swapped in by
  atomic rename) that exports, ``explain`` and the read API use. The lock itself lives in
  :mod:`omnimdm.store_lock`.
* **Crash recovery** - every writer open repairs what a killed writer left (runs marked
  failed, staging tables and temp files dropped, a snapshot older than the last publish
  written again, an erasure's owed file rewrite done); see the Reliability section of the
  README.
* **Erasure** - DuckDB keeps deleted rows' bytes in the file; :meth:`Store.rewrite_file`
  copies the whole store into a fresh file and swaps it in (``omnimdm forget``).

At about 500 lines this module is over the house's soft limit on purpose: recovery and the
snapshot complete the publish transaction and are easiest to check next to it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb

from omnimdm import faults
from omnimdm.errors import StoreError
from omnimdm.logs import scrub
from omnimdm.store_lock import StoreLock

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
#: snapshot tables derived from the store (name -> (tables it needs, query)): what
#: ``explain`` reads besides the tables above, kept small (no canonical records)
SNAPSHOT_QUERIES: dict[str, tuple[tuple[str, ...], str]] = {
    # scored pairs inside one golden record (explain's edges), not every candidate pair
    "cluster_edges": (
        ("match_pairs", "clusters"),
        "SELECT p.record_id_l, p.record_id_r, p.match_weight, p.match_probability "
        "FROM main.match_pairs p JOIN main.clusters a ON a.record_id = p.record_id_l "
        "JOIN main.clusters b ON b.record_id = p.record_id_r WHERE a.golden_id = b.golden_id",
    ),
    # the decisions log as of the published run, and the records it names (their
    # content hashes give each decision's status)
    "review_decisions": (("review_decisions",), "SELECT * FROM main.review_decisions"),
    "decision_records": (
        ("src_records", "review_decisions"),
        "SELECT s.* EXCLUDE (raw) FROM main.src_records s SEMI JOIN (SELECT source_a AS source, "
        "source_record_id_a AS source_record_id FROM main.review_decisions UNION "
        "SELECT source_b, source_record_id_b FROM main.review_decisions) k "
        "ON k.source = s.source AND k.source_record_id = s.source_record_id",
    ),
}
#: the run the snapshot holds, recorded in the store after each swap (not a migration:
#: created when first needed)
SNAPSHOT_STATE = "snapshot_state"
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
#: ``max_vacuum_tasks`` 0: a CHECKPOINT (the publish's, and the snapshot's DETACH) does not
#: merge the partly filled row groups that parallel bulk writes leave behind. At 1M records
#: that merge rewrote ``src_records`` and the golden tables again, 3.7 s in the store and
#: 2.2 s in the snapshot, to save two or three row groups per table (11 instead of 9 for
#: ``src_records``). Every run writes its tables anew, so the slack does not pile up;
#: erasure does not rely on vacuum (it rewrites the file: :meth:`Store.rewrite_file`).
_DUCKDB_CONFIG = {"autoinstall_known_extensions": "false", "max_vacuum_tasks": "0"}
#: ``src_records.content_hash``, the change detector of a source record: DuckDB's 64-bit
#: hash of the original row (ingest writes it, migration 5 recomputes stored ones). md5 cost
#: 1.3 CPU-s more at 1M (hashing plus writing 32 hex characters per row), and a change
#: needs no cryptographic digest. Should a DuckDB upgrade change ``hash``, every record
#: reads as updated once (one full survivorship), never as new.
CONTENT_HASH_SQL = "hash(raw::VARCHAR)"

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
    # 5: src_records.content_hash is CONTENT_HASH_SQL, not md5 hex; the stored rows are
    # hashed again, so nothing reads as changed on the next run
    5: (
        "ALTER TABLE IF EXISTS src_records ALTER content_hash TYPE UBIGINT "
        f"USING {CONTENT_HASH_SQL}",
    ),
}
#: the newest migration this omnimdm knows (numbers may have gaps while branches land;
#: every missing one is applied in ascending order)
SCHEMA_VERSION = max(MIGRATIONS)


@contextlib.contextmanager
def scratch_database(con: duckdb.DuckDBPyConnection, name: str) -> Iterator[None]:
    """An in-memory database attached as ``name`` for the block: a stage's working tables,
    seen by every cursor of the store (temp tables are private to one), dropped with it at
    the end whatever happens."""
    con.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {name}")
    try:
        yield
    finally:
        con.execute(f"DETACH DATABASE IF EXISTS {name}")


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


def sql_literal(text: str) -> str:
    """A SQL string literal of ``text`` (quotes doubled) for the few places where a value
    from a config cannot be a query parameter (e.g. inside generated CASE expressions)."""
    if "\x00" in text:
        raise StoreError(f"value {text!r} contains a NUL byte")
    return "'" + text.replace("'", "''") + "'"


#: column clause storing a column's values as they are. DuckDB's default for text (a
#: dictionary, then FSST) finds little to share in values that are nearly all distinct
#: (e-mails, street lines, record ids, phone lists) and costs about three times the CPU
#: of writing them plain (measured at 1M records: 0.20 vs 0.07 s per column) for half the
#: bytes. zstd is as cheap and as small, but it hides the values' bytes from the erasure
#: tests' byte search of the store file; plain storage keeps them visible.
UNCOMPRESSED = " USING COMPRESSION uncompressed"


def column_ddl(columns: Sequence[Sequence[Any]], uncompressed: Collection[str]) -> str:
    """The column list of a CREATE TABLE from ``DESCRIBE`` rows (name, type, ...), the
    columns named in ``uncompressed`` stored plain (see :data:`UNCOMPRESSED`)."""
    return ", ".join(
        f"{quote_ident(str(c[0]))} {c[1]}{UNCOMPRESSED if c[0] in uncompressed else ''}"
        for c in columns
    )


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


def _fsync(path: Path) -> None:
    """Flush a file (or a folder, after a rename in it) to disk; best effort for folders on
    platforms that cannot open them."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        if path.is_dir():
            return
        raise
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
    def writer(self, command: str) -> Iterator[duckdb.DuckDBPyConnection]:
        """Hold the writer lock and an open, migrated connection for the block's duration.

        Fails at once with :class:`LockError` if another process holds the store. On
        entry it repairs what a killed writer left: runs still marked ``running`` are
        marked failed and their staging tables dropped, and a snapshot older than the last
        published run (a kill between publish and snapshot) is written again."""
        with self.locked(command), self.connection() as con:
            yield con

    @contextlib.contextmanager
    def locked(self, command: str) -> Iterator[None]:
        """Hold the writer lock (no connection): for work that must also happen while no
        connection is open, such as :meth:`rewrite_file`."""
        self.lock.acquire(command)
        try:
            yield
        finally:
            self.lock.release()

    @contextlib.contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """An open, migrated and recovered connection to the store (a file rewrite an
        interrupted erasure still owes is done first); the caller holds the writer lock."""
        con = connect(self.path)
        try:
            self.migrate(con)
            if self._recover(con):
                log.warning(
                    "an erasure was published but the store file was not rewritten "
                    "(killed?); rewriting it now"
                )
                con.close()
                self.rewrite_file()
                con = connect(self.path)
            yield con
        finally:
            con.close()

    def rewrite_file(self) -> None:
        """Copy the whole store into a fresh file and swap it in by atomic rename.

        DuckDB keeps the bytes of deleted rows in the file after DELETE, VACUUM and
        CHECKPOINT; a fresh file written by ``COPY FROM DATABASE`` holds only live rows.
        Call with the writer lock held and no connection open. Leftovers of interrupted
        rewrites and snapshot writes (which may hold erased rows) are removed too. Open
        ``erasure_audit`` rows are marked finished in the fresh file, before the swap: an
        open row means a rewrite is still owed, and the next writer to open the store does it
        (see :meth:`connection`).
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
            con.execute(
                "UPDATE omnimdm_fresh.main.erasure_audit SET finished_at = now() "
                "WHERE finished_at IS NULL"
            )
            con.execute("DETACH omnimdm_fresh")
        except BaseException:
            con.close()
            tmp.unlink(missing_ok=True)
            raise
        con.close()
        _fsync(tmp)
        faults.point("forget:before_rename")
        # a WAL left beside the old file would be replayed onto the new one
        self.path.with_name(self.path.name + ".wal").unlink(missing_ok=True)
        os.replace(tmp, self.path)
        _fsync(self.path.parent)

    def _remove_leftovers(self) -> None:
        """Temp snapshots and rewrites can only be left by a writer that died (we hold the
        lock); a rewrite's may hold erased rows."""
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
        """Register a new run (what crashed runs left was cleaned up by :meth:`writer`)."""
        rows = con.sql("SELECT coalesce(max(run_id), 0) + 1 FROM runs").fetchall()
        run_id = int(rows[0][0])
        con.execute(
            "INSERT INTO runs (run_id, command, status, started_at, config_hash, versions, pid)"
            " VALUES (?, ?, 'running', now(), ?, ?, ?)",
            [run_id, command, config_hash, json.dumps(library_versions()), os.getpid()],
        )
        return run_id

    def _recover(self, con: duckdb.DuckDBPyConnection) -> bool:
        """Repair what a killed writer left: runs still ``running`` are marked failed,
        staging tables and temp files dropped, a stale snapshot written again. Only called
        under the writer lock, so nothing marked ``running`` can still be alive. One query
        finds out whether there is anything to do (every writer open pays for it). Returns
        whether a published erasure still owes the file rewrite (the caller does it: it
        needs the connection closed)."""
        running, staged, has_state, published, owed = con.sql(
            "SELECT (SELECT list(run_id ORDER BY run_id) FROM runs WHERE status = 'running'), "
            "list(table_name ORDER BY table_name) FILTER (starts_with(table_name, 'stg_r')), "
            "bool_or(table_name = $state), "
            "(SELECT max(run_id) FROM runs WHERE status = 'published'), "
            "(SELECT count(*) FROM erasure_audit WHERE finished_at IS NULL) "
            "FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'main'",
            params={"state": SNAPSHOT_STATE},
        ).fetchall()[0]
        for run_id in running or ():
            log.warning("run %s did not finish (killed?); marking it failed", run_id)
        if running:
            con.execute(
                "UPDATE runs SET status = 'failed', ended_at = coalesce(ended_at, now()), "
                "error = coalesce(error, 'interrupted: the process ended before publishing') "
                "WHERE status = 'running'"
            )
        for name in staged or ():
            con.execute(f"DROP TABLE IF EXISTS {safe_table_name(name)}")
        self._remove_leftovers()
        if published is not None:
            self._repair_snapshot(con, int(published), bool(has_state))
        return bool(owed)

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
            faults.point("publish:before_commit")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        faults.point("publish:after_commit")
        try:
            con.execute("CHECKPOINT")
            self.write_snapshot(con)
        except (duckdb.Error, OSError) as err:  # the run is published all the same
            log.warning(
                "run %s is published but its snapshot could not be written (%s); the next "
                "writer to open the store writes it",
                run_id,
                scrub(str(err)),
            )

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

    def published_run(self, con: duckdb.DuckDBPyConnection) -> int | None:
        """The last published run in the database ``con`` is connected to (store or
        snapshot), or None."""
        if "runs" not in self.tables(con, prefix="runs"):
            return None
        rows = con.sql("SELECT max(run_id) FROM runs WHERE status = 'published'").fetchall()
        return None if rows[0][0] is None else int(rows[0][0])

    def snapshot_run(self) -> int | None:
        """The published run the snapshot holds; None if it is missing or unreadable."""
        if not self.snapshot_path.exists():
            return None
        try:
            con = connect(self.snapshot_path, read_only=True)
        except StoreError:
            return None
        try:
            return self.published_run(con)
        except duckdb.Error:
            return None
        finally:
            con.close()

    def repair_snapshot(self, con: duckdb.DuckDBPyConnection) -> bool:
        """Write the snapshot again if it does not hold the store's last published run (a
        writer was killed between publish and snapshot). Returns whether it did."""
        published = self.published_run(con)
        if published is None:
            return False
        has_state = SNAPSHOT_STATE in self.tables(con, prefix=SNAPSHOT_STATE)
        return self._repair_snapshot(con, published, has_state)

    def _repair_snapshot(
        self, con: duckdb.DuckDBPyConnection, published: int, has_state: bool
    ) -> bool:
        """The store records which run the snapshot holds (``snapshot_state``, set after
        each swap), so the check is one small query; a store without that record (written
        by an older omnimdm) has its snapshot opened once instead."""
        held: int | None
        if not self.snapshot_path.exists():
            held = None
        elif has_state:
            rows = con.sql(f"SELECT max(run_id) FROM {SNAPSHOT_STATE}").fetchall()
            held = None if rows[0][0] is None else int(rows[0][0])
        else:
            held = self.snapshot_run()
            if held == published:
                self._mark_snapshot(con, held)
        if held == published:
            return False
        log.warning(
            "the snapshot holds run %s but run %s is published (a publish was interrupted); "
            "writing the snapshot again",
            held,
            published,
        )
        self.write_snapshot(con)
        return True

    @staticmethod
    def _mark_snapshot(con: duckdb.DuckDBPyConnection, run_id: int | None) -> None:
        con.execute(f"CREATE TABLE IF NOT EXISTS {SNAPSHOT_STATE} (run_id INTEGER)")
        con.execute("BEGIN TRANSACTION")
        con.execute(f"DELETE FROM {SNAPSHOT_STATE}")
        con.execute(f"INSERT INTO {SNAPSHOT_STATE} VALUES (?)", [run_id])
        con.execute("COMMIT")

    def write_snapshot(self, con: duckdb.DuckDBPyConnection) -> None:
        """Copy the published outputs to a fresh file and swap it in by atomic rename; the
        store's views are created in it over its own tables."""
        tmp = self.snapshot_path.with_name(f"{self.snapshot_path.name}.tmp-{os.getpid()}")
        tmp.unlink(missing_ok=True)
        present = set(self.tables(con))
        main = con.sql("SELECT current_database()").fetchall()[0][0]
        views = con.sql(
            "SELECT sql FROM duckdb_views() WHERE database_name = current_database() "
            "AND schema_name = 'main' AND NOT internal AND NOT temporary ORDER BY view_oid"
        ).fetchall()
        con.execute("ATTACH ? AS snap", [str(tmp)])
        try:
            for table in SNAPSHOT_TABLES:
                if table in present:
                    con.execute(f"CREATE TABLE snap.{table} AS SELECT * FROM main.{table}")
            for table, (needs, query) in SNAPSHOT_QUERIES.items():
                if set(needs) <= present:
                    con.execute(f"CREATE TABLE snap.{table} AS {query}")
            con.execute("USE snap")
            try:
                for (sql,) in views:
                    con.execute(sql)
            finally:
                con.execute(f"USE {quote_ident(main)}")
        finally:
            con.execute("DETACH snap")
        _fsync(tmp)
        faults.point("snapshot:before_rename")
        os.replace(tmp, self.snapshot_path)
        _fsync(self.snapshot_path.parent)
        # killed before this line: the next writer rewrites the (already good) snapshot
        self._mark_snapshot(con, self.published_run(con))

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

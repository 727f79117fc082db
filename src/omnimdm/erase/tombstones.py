"""Tombstones: what was forgotten, as keyed HMACs only, and suppression at ingest.

``erasure_tombstones`` (kind, hmac, key_id, audit_id, created_at) holds one row per
forgotten identifier (:mod:`omnimdm.erase.identifiers`). At ingest, a row whose record
key, e-mail or phone matches a tombstone is dropped before anything is stored (not in
``src_records``, not in ``rejects``) and counted as ``suppressed``. With no tombstones
the ingest does no extra work at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import duckdb
import pyarrow as pa

from omnimdm.config import Config, SourceConfig
from omnimdm.erase.identifiers import row_identifiers, text_identifiers
from omnimdm.erase.keys import ErasureKey, create_key, hmac_sql, key_path, load_key
from omnimdm.errors import ErasureError

log = logging.getLogger(__name__)

TABLE = "erasure_tombstones"


def tombstone_count(con: duckdb.DuckDBPyConnection) -> int:
    rows = con.sql(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND table_name = $t",
        params={"t": TABLE},
    ).fetchall()
    if not rows[0][0]:
        return 0
    return int(con.sql(f"SELECT count(*) FROM {TABLE}").fetchall()[0][0])


def active_key(
    con: duckdb.DuckDBPyConnection, config: Config, *, create: bool
) -> ErasureKey | None:
    """The key the store's tombstones were made with. With no tombstones yet: the key
    file if there is one, else a new one when ``create`` (else None). With tombstones, a
    missing or different key is an error: suppression must never stop silently."""
    path = key_path(config)
    count = tombstone_count(con)
    key = load_key(path)
    if count == 0:
        return key if key is not None or not create else create_key(path)
    if key is None:
        raise ErasureError(
            f"the store holds {count:,} erasure tombstones but the erasure key file {path} "
            "is missing, so forgotten persons cannot be kept out. Restore the key from its "
            "backup (or point store.erasure_key_file / OMNIMDM_ERASURE_KEY_FILE at it)"
        )
    ids = [r[0] for r in con.sql(f"SELECT DISTINCT key_id FROM {TABLE}").fetchall()]
    if ids != [key.key_id]:
        raise ErasureError(
            f"the erasure key file {path} is not the key the store's tombstones were made "
            "with; restore the original key from its backup"
        )
    return key


def add_tombstones(
    con: duckdb.DuckDBPyConnection,
    key: ErasureKey,
    identifiers: Iterable[tuple[str, str]],
    audit_id: int,
) -> int:
    """Insert the tombstones of ``identifiers`` ((kind, value)); return how many are new."""
    digests = sorted({(kind, key.digest(kind, value)) for kind, value in identifiers})
    if not digests:
        return 0
    before = tombstone_count(con)
    con.register(
        "er_new_tombstones",
        pa.table({"kind": [d[0] for d in digests], "hmac": [d[1] for d in digests]}),
    )
    try:
        con.execute(
            f"INSERT INTO {TABLE} SELECT kind, hmac, $key_id, $audit, now() "
            "FROM er_new_tombstones ON CONFLICT DO NOTHING",
            {"key_id": key.key_id, "audit": audit_id},
        )
    finally:
        con.unregister("er_new_tombstones")
    return tombstone_count(con) - before


class Suppressor:
    """Finds tombstoned rows in an ingest's mapped rows, before anything is stored."""

    #: the temp table :meth:`suppress` leaves the suppressed rows' ordinals in
    suppressed_table = "er_suppressed"

    def __init__(self, key: ErasureKey, kinds: frozenset[str]) -> None:
        self.key = key
        #: the kinds of identifier tombstoned: only those are normalized and hashed
        self.kinds = kinds
        self._known: set[tuple[str, str]] | None = None

    @classmethod
    def for_run(cls, con: duckdb.DuckDBPyConnection, config: Config) -> Suppressor | None:
        """A suppressor when the store holds tombstones (None: nothing to suppress)."""
        key = active_key(con, config, create=False)
        if key is None or tombstone_count(con) == 0:
            return None
        kinds = frozenset(
            str(r[0]) for r in con.sql(f"SELECT DISTINCT kind FROM {TABLE}").fetchall()
        )
        return cls(key, kinds)

    def suppress(
        self,
        con: duckdb.DuckDBPyConnection,
        config: Config,
        source: SourceConfig,
        *,
        rows: str,
        reader_rejects: str,
    ) -> int:
        """Find the tombstoned rows of ``rows`` (mapped input rows: row_ordinal and the
        input fields; a view is fine) and delete those of ``reader_rejects`` (row_ordinal,
        raw); return how many. The row ordinals found in ``rows`` are left in
        :attr:`suppressed_table` for the caller to leave out (and drop)."""
        as_records = (
            f"(SELECT *, row_ordinal AS record_id, '{source.name}' AS source, "
            f"NULL::VARCHAR AS source_kind, NULL::TIMESTAMP AS updated_ts, "
            f"NULL::INTEGER AS retired_run FROM {rows})"
        )
        row_identifiers(con, config, as_records, "er_ingest_ids", kinds=self.kinds)
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {self.suppressed_table} AS
            WITH d AS (SELECT DISTINCT kind, value FROM er_ingest_ids),
            h AS (SELECT kind, value, {hmac_sql("kind", "value")} AS hmac FROM d),
            hit AS (SELECT kind, value FROM h SEMI JOIN {TABLE} t USING (kind, hmac))
            SELECT DISTINCT row_key AS row_ordinal FROM er_ingest_ids SEMI JOIN hit
                USING (kind, value)""",
            self.key.sql_params(),
        )
        mapped = int(con.sql(f"SELECT count(*) FROM {self.suppressed_table}").fetchall()[0][0])
        con.execute("DROP TABLE er_ingest_ids")
        return mapped + self._suppress_rejects(con, source, reader_rejects)

    def _suppress_rejects(
        self, con: duckdb.DuckDBPyConnection, source: SourceConfig, reader_rejects: str
    ) -> int:
        """Rows the reader could not parse carry no fields: their raw text is searched."""
        rows = con.sql(f"SELECT row_ordinal, raw FROM {reader_rejects}").fetchall()
        if not rows:
            return 0
        known = self._tombstones(con)
        hits = [
            ordinal
            for ordinal, raw in rows
            if raw
            and any(
                (kind, self.key.digest(kind, value)) in known
                for kind, value in text_identifiers(raw, source.name, source.default_region)
            )
        ]
        if hits:
            con.execute(
                f"DELETE FROM {reader_rejects} WHERE list_contains($hits, row_ordinal)",
                {"hits": hits},
            )
        return len(hits)

    def _tombstones(self, con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
        if self._known is None:
            self._known = {
                (kind, digest)
                for kind, digest in con.sql(f"SELECT kind, hmac FROM {TABLE}").fetchall()
            }
        return self._known

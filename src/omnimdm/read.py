"""Read API for pipelines: golden records, record lookups and changes since a run.

Every call opens the published snapshot read-only (never the store a job may be writing),
so it never blocks a running job and always sees one published run as a whole::

    import omnimdm

    rec = omnimdm.lookup("ecommerce", "7012345678901", store="omnimdm.duckdb")
    rec["golden_id"], rec["email"], rec["members"]
    omnimdm.golden(rec["golden_id"], store="omnimdm.duckdb")
    changed = omnimdm.changes(since_run=41, store="omnimdm.duckdb")   # pyarrow.Table

``store`` is a store path, a :class:`~omnimdm.store.Store`, a :class:`~omnimdm.config.Config`
or None (the config named by ``OMNIMDM_CONFIG``, else ``configs/omnimdm.yaml``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from omnimdm.config import DEFAULT_CONFIG_PATH, Config, load_config
from omnimdm.exports import check_since, export_sql
from omnimdm.store import Store

StoreRef = str | Path | Store | Config | None
#: how many MERGED_INTO hops :func:`golden` follows to the id that holds a record now
_MAX_HOPS = 1000


def _store(ref: StoreRef) -> Store:
    if isinstance(ref, Store):
        return ref
    if isinstance(ref, Config):
        return Store(ref.store.path)
    if ref is None:
        config = load_config(os.environ.get("OMNIMDM_CONFIG", str(DEFAULT_CONFIG_PATH)))
        return Store(config.store.path)
    return Store(ref)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    table: pa.Table = con.sql(sql, params=params).to_arrow_table()
    return list(table.to_pylist())


def _active(con: duckdb.DuckDBPyConnection, golden_id: str) -> dict[str, Any] | None:
    rows = _rows(
        con,
        "SELECT * EXCLUDE (content_hash) FROM golden_customers WHERE golden_id = $id",
        {"id": golden_id},
    )
    if not rows:
        return None
    record = {"status": "active", **rows[0]}
    record["members"] = _rows(
        con,
        "SELECT source, source_record_id, cluster_match_probability FROM crosswalk "
        "WHERE golden_id = $id ORDER BY source, source_record_id",
        {"id": golden_id},
    )
    record["lineage"] = _rows(
        con,
        "SELECT field, value, source, source_record_id, rule, event_at FROM golden_lineage "
        "WHERE golden_id = $id ORDER BY field, value",
        {"id": golden_id},
    )
    record["consent"] = _rows(
        con,
        "SELECT channel, contact_point, consent, source, source_record_id, event_at, rule "
        "FROM golden_consent WHERE golden_id = $id ORDER BY channel, contact_point",
        {"id": golden_id},
    )
    return record


def _golden(con: duckdb.DuckDBPyConnection, golden_id: str) -> dict[str, Any] | None:
    active = _active(con, golden_id)
    if active is not None:
        return active
    rows = _rows(
        con,
        "SELECT golden_id, created_run, retired_run, successor FROM golden_ids "
        "WHERE golden_id = $id AND retired_run IS NOT NULL",
        {"id": golden_id},
    )
    if not rows:
        return None
    retired = rows[0]
    current, hops = retired["successor"], 0
    while current is not None and hops < _MAX_HOPS:
        found = con.execute(
            "SELECT retired_run IS NULL, successor FROM golden_ids WHERE golden_id = $id",
            {"id": current},
        ).fetchall()
        if not found or found[0][0]:
            break
        current, hops = found[0][1], hops + 1
    return {
        "golden_id": golden_id,
        "status": "retired",
        "created_run": retired["created_run"],
        "retired_run": retired["retired_run"],
        "merged_into": retired["successor"],
        "current_golden_id": current,
    }


def golden(golden_id: str, store: StoreRef = None) -> dict[str, Any] | None:
    """The golden record ``golden_id`` as a dict: its fields, ``status`` ``active``, its
    ``members``, ``lineage`` and ``consent`` per contact point. A retired id gives
    ``status`` ``retired``, ``merged_into`` (its successor) and ``current_golden_id`` (the
    active id its records live in now, following merges). Unknown ids give None."""
    with _store(store).reader() as con:
        return _golden(con, golden_id)


def lookup(source: str, source_record_id: str, store: StoreRef = None) -> dict[str, Any] | None:
    """The golden record that source record ``SOURCE:SOURCE_RECORD_ID`` belongs to (as
    :func:`golden` returns it), or None when the record is not in the published run."""
    with _store(store).reader() as con:
        rows = con.execute(
            "SELECT golden_id FROM crosswalk WHERE source = $s AND source_record_id = $i",
            {"s": source, "i": source_record_id},
        ).fetchall()
        return _golden(con, rows[0][0]) if rows else None


def changes(since_run: int, store: StoreRef = None) -> pa.Table:
    """Golden records created, changed or retired after run ``since_run``, as an Arrow
    table with a ``change`` column (``created``, ``changed``, ``merged``, ``retired``);
    the same rows as ``omnimdm export --what golden --since RUN``."""
    with _store(store).reader() as con:
        check_since(con, since_run)
        return con.sql(export_sql("golden", since=since_run)).to_arrow_table()


def events(since_run: int = 0, store: StoreRef = None) -> pa.Table:
    """Golden-id events (CREATED, MERGED_INTO, SPLIT_FROM, RECORD_MOVED, RETIRED, ERASED)
    of the runs after ``since_run``, oldest first, as an Arrow table."""
    with _store(store).reader() as con:
        check_since(con, since_run)
        return con.sql(export_sql("events", since=since_run)).to_arrow_table()


def published_run(store: StoreRef = None) -> int | None:
    """The id of the run the published snapshot holds (None before the first run): the
    ``since_run`` a pipeline passes next time to get only what changed after it."""
    with _store(store).reader() as con:
        rows = con.sql("SELECT max(run_id) FROM runs WHERE status = 'published'").fetchall()
        return None if rows[0][0] is None else int(rows[0][0])

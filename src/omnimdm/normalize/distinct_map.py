"""Apply a pure Python normalizer set-based: once per distinct value, results as a table.

The per-row work stays in DuckDB (a join); Python sees each distinct value once. With
many distinct values the work is split over worker processes (the machine has 2 cores).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import duckdb
import pyarrow as pa

log = logging.getLogger(__name__)

#: below this many distinct values a process pool costs more than it saves
PARALLEL_MIN_VALUES = 60_000

Mapper = Callable[..., tuple[Any, ...]]
#: seconds of the last mapping into each output table (read by benchmarks)
TIMINGS: dict[str, float] = {}


def create_sql(table: str) -> str:
    """``CREATE OR REPLACE [TEMP] TABLE table``: a plain name is a temp table, private to
    the connection; a qualified one (``work.nc_base``) lives in that database, which every
    connection (cursor) of the store sees: the normalize stage builds its lookups on
    several cursors at once in an attached in-memory database (``canonical.WORK``)."""
    return f"CREATE OR REPLACE {'TABLE' if '.' in table else 'TEMP TABLE'} {table}"


def _apply(fn: Mapper, rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [fn(*row) for row in rows]


def _workers() -> int:
    env = os.environ.get("OMNIMDM_WORKERS")
    if env and env.isdigit():
        return max(1, int(env))
    return min(2, os.cpu_count() or 1)


def map_distinct(
    con: duckdb.DuckDBPyConnection,
    *,
    distinct_sql: str,
    fn: Mapper,
    out: str,
    in_cols: Sequence[str],
    out_schema: pa.Schema,
    params: dict[str, object] | None = None,
) -> int:
    """Run ``fn(*key)`` for each row of ``distinct_sql``; write (key..., result...) to ``out``.

    ``fn`` must be a module-level function (picklable) returning a tuple matching
    ``out_schema``. Returns the number of distinct keys mapped.
    """
    started = time.perf_counter()
    rows = con.sql(distinct_sql, params=params).fetchall()
    workers = _workers()
    if len(rows) >= PARALLEL_MIN_VALUES and workers > 1:
        size = -(-len(rows) // workers)
        chunks = [rows[i : i + size] for i in range(0, len(rows), size)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = [r for part in pool.map(_apply, [fn] * len(chunks), chunks) for r in part]
    else:
        results = _apply(fn, rows)
    columns: dict[str, list[Any]] = {c: [r[i] for r in rows] for i, c in enumerate(in_cols)}
    for j, name in enumerate(out_schema.names):
        columns[name] = [r[j] for r in results]
    key_fields = [pa.field(c, pa.string()) for c in in_cols]
    table = pa.table(columns, schema=pa.schema(key_fields + list(out_schema)))
    view = f"{out.rsplit('.', 1)[-1]}_arrow"
    con.register(view, table)
    con.execute(f"{create_sql(out)} AS SELECT * FROM {view}")
    con.unregister(view)
    TIMINGS[out.rsplit(".", 1)[-1]] = round(time.perf_counter() - started, 3)
    log.debug("mapped %d distinct values into %s (%d workers)", len(rows), out, workers)
    return len(rows)


def append_distinct(
    con: duckdb.DuckDBPyConnection,
    *,
    distinct_sql: str,
    fn: Mapper,
    out: str,
    staging: str,
    in_cols: Sequence[str],
    out_schema: pa.Schema,
    params: dict[str, object] | None = None,
) -> int:
    """:func:`map_distinct` into ``staging`` and append its rows to ``out`` (same columns):
    the Python remainder of a set-based lookup. Returns the number of keys mapped."""
    mapped = map_distinct(
        con,
        distinct_sql=distinct_sql,
        fn=fn,
        out=staging,
        in_cols=in_cols,
        out_schema=out_schema,
        params=params,
    )
    con.execute(f"INSERT INTO {out} SELECT * FROM {staging}")
    con.execute(f"DROP TABLE {staging}")
    return mapped

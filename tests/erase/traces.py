"""Searching a DuckDB file for traces of a person: by SQL over every column of every table
and view (cast to text, lower case, accents stripped), and byte by byte."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb

from omnimdm.store import quote_ident


def _objects(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.sql(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' "
        "UNION ALL SELECT view_name FROM duckdb_views() WHERE schema_name = 'main' "
        "AND NOT internal ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def _text(column: str) -> str:
    return f"strip_accents(lower(CAST({quote_ident(column)} AS VARCHAR)))"


def sql_hits(db: Path, needles: Iterable[str]) -> list[str]:
    """``object: needle`` for every needle found in any column of any table or view."""
    wanted = sorted({n.lower() for n in needles})
    hits = []
    con = duckdb.connect(str(db), read_only=True)
    try:
        for obj in _objects(con):
            columns = [r[0] for r in con.sql(f"DESCRIBE {quote_ident(obj)}").fetchall()]
            blob = "concat_ws(chr(1), " + ", ".join(_text(c) for c in columns) + ")"
            found = con.sql(
                "SELECT n FROM (SELECT unnest($n) AS n) w WHERE EXISTS "
                f"(SELECT 1 FROM {quote_ident(obj)} WHERE contains({blob}, w.n)) ORDER BY n",
                params={"n": wanted},
            ).fetchall()
            hits.extend(f"{obj}: {needle}" for (needle,) in found)
    finally:
        con.close()
    return hits


def table_count(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return len(_objects(con))
    finally:
        con.close()


def byte_hits(path: Path, values: Iterable[str]) -> list[str]:
    """The values whose UTF-8 bytes occur in the file (and its WAL, if any)."""
    data = path.read_bytes()
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        data += wal.read_bytes()
    return [v for v in values if v.encode() in data]

"""Read a source file into a DuckDB temp table where every value is text.

DuckDB's type sniffing would turn postcode ``08001`` into ``8001`` and ids into numbers, so
every reader keeps text. CSV and Parquet columns keep their header names; JSON sources are
read as one JSON document per row (column ``json``) and mapped by JSON path later.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from omnimdm.errors import SourceError
from omnimdm.store import quote_ident


@dataclass(frozen=True)
class RawTable:
    """A temp table holding one source file's rows as text, in file order (``rowid``)."""

    name: str
    columns: tuple[str, ...]
    is_json: bool
    rows: int


def read_source(
    con: duckdb.DuckDBPyConnection,
    *,
    source: str,
    path: Path,
    fmt: str,
    delimiter: str,
) -> RawTable:
    """Load ``path`` into temp table ``raw_<source>``; file-level problems raise SourceError."""
    if not path.exists():
        raise SourceError(
            "file not found",
            source=source,
            path=str(path),
            fix="check the source's `path` in the config (relative paths start at the config)",
        )
    if path.stat().st_size == 0:
        raise SourceError(
            "the file is empty (0 bytes)",
            source=source,
            path=str(path),
            fix="export the source again; a header row at least is expected",
        )
    table = f"raw_{source}"
    con.execute(f"DROP TABLE IF EXISTS {quote_ident(table)}")
    if fmt == "csv":
        sql = (
            f"CREATE TEMP TABLE {quote_ident(table)} AS SELECT * FROM read_csv($path, "
            "all_varchar = true, header = true, delim = $delim, quote = '\"', escape = '\"')"
        )
        params: dict[str, object] = {"path": str(path), "delim": delimiter}
    elif fmt in ("json", "jsonl"):
        layout = "array" if fmt == "json" else "newline_delimited"
        sql = (
            f"CREATE TEMP TABLE {quote_ident(table)} AS SELECT json FROM "
            f"read_json_objects($path, format = '{layout}')"
        )
        params = {"path": str(path)}
    elif fmt == "parquet":
        sql = f"CREATE TEMP TABLE {quote_ident(table)} AS SELECT * FROM read_parquet($path)"
        params = {"path": str(path)}
    else:  # pragma: no cover - config validation forbids it
        raise SourceError(f"unsupported format {fmt!r}", source=source, path=str(path))
    try:
        con.execute(sql, params)
    except duckdb.Error as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise SourceError(
            f"cannot be read as {fmt}: {first}",
            source=source,
            path=str(path),
            fix=f"check the file is a valid {fmt} export in UTF-8 and the configured delimiter",
        ) from None
    if fmt == "parquet":
        _cast_all_to_text(con, table)
    cols = tuple(r[0] for r in con.sql(f"DESCRIBE {quote_ident(table)}").fetchall())
    rows = int(con.sql(f"SELECT count(*) FROM {quote_ident(table)}").fetchall()[0][0])
    return RawTable(table, cols, fmt in ("json", "jsonl"), rows)


def _cast_all_to_text(con: duckdb.DuckDBPyConnection, table: str) -> None:
    cols = [r[0] for r in con.sql(f"DESCRIBE {quote_ident(table)}").fetchall()]
    select = ", ".join(f"{quote_ident(c)}::VARCHAR AS {quote_ident(c)}" for c in cols)
    tmp = quote_ident(table + "_text")
    con.execute(f"CREATE TEMP TABLE {tmp} AS SELECT {select} FROM {quote_ident(table)}")
    con.execute(f"DROP TABLE {quote_ident(table)}")
    con.execute(f"ALTER TABLE {tmp} RENAME TO {quote_ident(table)}")

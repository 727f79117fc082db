"""Read a source file into a DuckDB temp table where every value is text.

DuckDB's type sniffing would turn postcode ``08001`` into ``8001`` and ids into numbers, so
every reader keeps text. CSV and Parquet columns keep their header names; JSON sources are
read as one JSON document per row (column ``json``) and mapped by JSON path later.

Row-level problems (ragged rows, bytes that are not valid in the file's encoding, a JSON
Lines row that is not JSON) go to the temp table ``<raw>_rejects`` with a reason, and the
rest of the file loads. File-level problems (missing, empty, truncated gzip, a JSON array
that does not parse) raise :class:`SourceError` before anything is published.
"""

from __future__ import annotations

import codecs
import gzip
import os
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from omnimdm.errors import SourceError, StoreError
from omnimdm.store import quote_ident

#: DuckDB CSV error types -> omnimdm reject reasons
CSV_REASONS = {
    "TOO MANY COLUMNS": "too_many_columns",
    "MISSING COLUMNS": "missing_columns",
    "INVALID ENCODING": "invalid_encoding",
    "UNQUOTED VALUE": "malformed_quotes",
    "LINE SIZE OVER MAXIMUM": "line_too_long",
    "INVALID STATE": "malformed_row",
}
_CHUNK = 1 << 20
#: JSON documents nested deeper than this are rejected (json_too_deep)
MAX_JSON_DEPTH = 32
#: DuckDB's CSV line limit (a longer line is a file-level error)
MAX_LINE_BYTES = 2_000_000
#: a text file has few control bytes: more than this share of the first bytes means binary
_BINARY_SHARE = 0.05
_SNIFF_BYTES = 8192
_TEXT_CONTROLS = frozenset(b"\t\n\r\x0c")
#: byte-order marks of encodings no reader accepts
_UTF16_32_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
#: column holding the original row in every raw table, as DuckDB's JSON type all the way
#: to ``src_records.raw`` (a round trip through VARCHAR makes the INSERT validate every
#: document again: 0.5 CPU-s at 1M records)
RAW = "__omnimdm_raw"


@dataclass(frozen=True)
class RawTable:
    """A temp table of one source file's accepted rows, as text, in file order.

    ``row_ordinal`` is the 1-based data-row number (header excluded) of each row;
    ``rejects`` names a temp table (row_ordinal, byte_offset, reason, raw).
    """

    name: str
    rejects: str
    columns: tuple[str, ...]
    is_json: bool
    rows_read: int


def read_source(
    con: duckdb.DuckDBPyConnection,
    *,
    source: str,
    path: Path,
    fmt: str,
    delimiter: str | None,
    encoding: str = "utf-8",
) -> RawTable:
    """Load ``path`` into temp table ``raw_<source>``; file-level problems raise."""
    _check_file(source, path, fmt)
    table, rejects = f"raw_{source}", f"raw_{source}_rejects"
    drop_raw(con, RawTable(table, rejects, (), False, 0))
    con.execute(
        f"CREATE TEMP TABLE {quote_ident(rejects)} (row_ordinal BIGINT, byte_offset BIGINT, "
        "reason VARCHAR, raw VARCHAR)"
    )
    try:
        with _as_utf8(source, path, encoding) as readable:
            if fmt == "csv":
                _read_csv(con, readable, table, rejects, delimiter)
            elif fmt == "jsonl":
                _read_jsonl(con, readable, table, rejects)
            elif fmt == "json":
                _read_json_array(con, readable, table)
            else:
                _read_parquet(con, readable, table)
    except StoreError as err:  # a column name that cannot be an identifier (NUL byte)
        raise SourceError(
            f"unusable column name: {err}",
            source=source,
            path=str(path),
            fix="export the file again; column names must be text",
        ) from None
    except duckdb.Error as err:
        # only DuckDB's first line: the next ones may quote the offending row (personal data)
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        if "Maximum line size" in str(err):
            first = (
                f"a line is longer than {MAX_LINE_BYTES:,} bytes, the reader's limit (no "
                "customer row is that long: the file is damaged or not a customer export)"
            )
        raise SourceError(
            f"cannot be read as {fmt}: {first}",
            source=source,
            path=str(path),
            fix=f"check that the file is a complete {fmt} export in the configured encoding "
            f"({encoding}) and delimiter",
        ) from None
    cols = tuple(r[0] for r in con.sql(f"DESCRIBE {quote_ident(table)}").fetchall())
    if any("\x00" in c for c in cols):
        raise SourceError(
            "a column name in the header holds a NUL byte",
            source=source,
            path=str(path),
            fix="export the file again; a header holds column names only",
        )
    accepted = int(con.sql(f"SELECT count(*) FROM {quote_ident(table)}").fetchall()[0][0])
    rejected = int(con.sql(f"SELECT count(*) FROM {quote_ident(rejects)}").fetchall()[0][0])
    return RawTable(
        table,
        rejects,
        tuple(c for c in cols if c not in ("row_ordinal", RAW)),
        fmt in ("json", "jsonl"),
        accepted + rejected,
    )


def drop_raw(con: duckdb.DuckDBPyConnection, raw: RawTable) -> None:
    """Drop the temp objects behind ``raw`` (a CSV's raw table is a view over ``<name>_in``)."""
    for name in (raw.name, raw.name + "_in", raw.rejects):
        kind = con.sql(
            "SELECT 'VIEW' FROM duckdb_views() WHERE view_name = $n AND temporary "
            "UNION ALL SELECT 'TABLE' FROM duckdb_tables() WHERE table_name = $n AND temporary",
            params={"n": name},
        ).fetchall()
        for (k,) in kind:
            con.execute(f"DROP {k} IF EXISTS {quote_ident(name)}")


def _check_file(source: str, path: Path, fmt: str) -> None:
    if not path.exists():
        raise SourceError(
            "file not found",
            source=source,
            path=str(path),
            fix="check the source's `path` in the config (relative paths start at the config)",
        )
    if not path.is_file():
        raise SourceError("not a regular file", source=source, path=str(path))
    if path.stat().st_size == 0:
        raise SourceError(
            "the file is empty (0 bytes)",
            source=source,
            path=str(path),
            fix="export the source again; a header row at least is expected",
        )
    is_gzip = path.suffix.lower() == ".gz"
    if is_gzip:
        _check_gzip(source, path)
    with gzip.open(path, "rb") if is_gzip else open(path, "rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    if head.startswith(_UTF16_32_BOMS):
        raise SourceError(
            "the file is UTF-16 or UTF-32 encoded",
            source=source,
            path=str(path),
            fix="export it as UTF-8 (or Windows-1252 with `encoding: windows-1252`)",
        )
    control = sum(1 for b in head if b < 32 and b not in _TEXT_CONTROLS or b == 127)
    if fmt != "parquet" and control > _BINARY_SHARE * len(head):
        raise SourceError(
            f"the file is not text ({control} control bytes in its first {len(head)})",
            source=source,
            path=str(path),
            fix=f"check that `path` names the {fmt} export (not an image, archive or "
            "spreadsheet) and that `format` is right",
        )


def _check_gzip(source: str, path: Path) -> None:
    """Read a gzip file through once so that truncation is a clear file-level error."""
    try:
        with gzip.open(path, "rb") as fh:
            while fh.read(_CHUNK):
                pass
    except (OSError, EOFError, zlib.error) as err:
        raise SourceError(
            f"the gzip file is damaged or truncated ({err})",
            source=source,
            path=str(path),
            fix="copy or export the file again; nothing was loaded",
        ) from None


@contextmanager
def _as_utf8(source: str, path: Path, encoding: str) -> Iterator[Path]:
    """Yield a UTF-8 readable path: Windows-1252/Latin-1 files are transcoded, streaming.

    DuckDB's CSV reader rejects Windows-1252 bytes (``€`` is 0x80) even as Latin-1, and
    its encodings extension cannot be installed offline. Bytes undefined in Windows-1252
    become U+FFFD; rows holding one are rejected as ``invalid_encoding`` later.
    """
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig"):
        yield path
        return
    codec = "cp1252" if encoding.lower() in ("windows-1252", "cp1252") else "latin-1"
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    fd, tmp_name = tempfile.mkstemp(prefix=f"omnimdm-{source}-", suffix=".utf8")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out, opener(path, "rb") as raw:
            decoder = codecs.getincrementaldecoder(codec)(errors="replace")
            while chunk := raw.read(_CHUNK):
                out.write(decoder.decode(chunk))
            out.write(decoder.decode(b"", final=True))
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def _read_csv(
    con: duckdb.DuckDBPyConnection, path: Path, table: str, rejects: str, delimiter: str | None
) -> None:
    params: dict[str, object] = {"path": str(path)}
    for leftover in ("omnimdm_csv_errors", "omnimdm_csv_scans"):  # from a failed read
        con.execute(f"DROP TABLE IF EXISTS {leftover}")
    delim = ""
    if delimiter:
        delim, params["delim"] = ", delim = $delim", delimiter
    con.execute(
        f"CREATE TEMP TABLE {quote_ident(table + '_in')} AS SELECT * FROM read_csv($path, "
        f"all_varchar = true, header = true, quote = '\"', escape = '\"'{delim}, "
        "store_rejects = true, ignore_errors = true, rejects_table = 'omnimdm_csv_errors', "
        "rejects_scan = 'omnimdm_csv_scans')",
        params,
    )
    reasons = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in CSV_REASONS.items())
    con.execute(
        f"INSERT INTO {quote_ident(rejects)} SELECT line - 1, min(byte_position), "
        f"min(CASE error_type {reasons} ELSE 'malformed_row' END), min(csv_line) "
        "FROM omnimdm_csv_errors GROUP BY line ORDER BY line"
    )
    # Accepted rows get their data-row ordinal back: the k-th accepted row comes after
    # every rejected row j (1-based, ordinal r_j) with r_j - j < k (an ASOF join finds
    # the last such j, which is their count).
    # A view, not a copy: the ingest step reads it once (the raw JSON is built there).
    has_rejects = bool(con.sql(f"SELECT 1 FROM {quote_ident(rejects)} LIMIT 1").fetchall())
    if not has_rejects:
        con.execute(
            f"CREATE TEMP VIEW {quote_ident(table)} AS SELECT i.rowid + 1 AS row_ordinal, "
            f"to_json(i) AS {RAW}, i.* FROM {quote_ident(table + '_in')} i"
        )
    else:
        con.execute(
            f"CREATE TEMP VIEW {quote_ident(table)} AS "
            f"WITH rj AS (SELECT gap, max(j) AS j FROM (SELECT row_ordinal - row_number() OVER "
            f"(ORDER BY row_ordinal) AS gap, row_number() OVER (ORDER BY row_ordinal) AS j "
            f"FROM {quote_ident(rejects)}) GROUP BY gap), "
            f"t AS (SELECT i.rowid + 1 AS k, to_json(i) AS {RAW}, i.* "
            f"FROM {quote_ident(table + '_in')} i) "
            f"SELECT t.k + coalesce(rj.j, 0) AS row_ordinal, t.* EXCLUDE (k) "
            f"FROM t ASOF LEFT JOIN rj ON rj.gap < t.k"
        )
    con.execute("DROP TABLE IF EXISTS omnimdm_csv_errors")
    con.execute("DROP TABLE IF EXISTS omnimdm_csv_scans")


def _read_jsonl(con: duckdb.DuckDBPyConnection, path: Path, table: str, rejects: str) -> None:
    """JSON Lines: each non-blank line one object; a line that is not JSON is rejected."""
    con.execute(
        f"CREATE TEMP TABLE {quote_ident(table + '_lines')} AS SELECT line "
        "FROM read_csv($path, columns = {'line': 'VARCHAR'}, header = false, delim = '\x01', "
        "quote = '', escape = '', strict_mode = false)",
        {"path": str(path)},
    )
    con.execute(
        f"CREATE TEMP TABLE {quote_ident(table + '_in')} AS SELECT rowid + 1 AS line_no, line "
        f"FROM {quote_ident(table + '_lines')}"
    )
    con.execute(f"DROP TABLE {quote_ident(table + '_lines')}")
    con.execute(f"""
        CREATE TEMP TABLE {quote_ident(table)} AS
        WITH numbered AS (
            SELECT row_number() OVER (ORDER BY line_no) AS row_ordinal, line
            FROM {quote_ident(table + "_in")} WHERE nullif(trim(line), '') IS NOT NULL
        ),
        pages AS (  -- API pages ({{"users": [...]}}) on one line become one row per user
            SELECT row_ordinal, line, json_valid(line) AS ok,
                   json_type(CASE WHEN json_valid(line) THEN line END, '$.users') = 'ARRAY'
                       AS is_page
            FROM numbered
        )
        SELECT row_ordinal, json, json AS {RAW} FROM (
            SELECT row_ordinal, line::JSON AS json FROM pages
            WHERE ok AND NOT coalesce(is_page, false)
            UNION ALL
            SELECT row_ordinal, unnest(from_json(line::JSON -> '$.users', '["JSON"]')) FROM pages
            WHERE ok AND is_page
        ) ORDER BY row_ordinal
    """)
    con.execute(
        f"INSERT INTO {quote_ident(rejects)} SELECT row_ordinal, NULL, 'malformed_json', line "
        f"FROM (SELECT row_number() OVER (ORDER BY line_no) AS row_ordinal, line "
        f"FROM {quote_ident(table + '_in')} WHERE nullif(trim(line), '') IS NOT NULL) "
        "WHERE NOT json_valid(line)"
    )
    # DuckDB's parser refuses very deep documents; name that reason precisely
    bad = con.sql(
        f"SELECT row_ordinal, raw FROM {quote_ident(rejects)} WHERE reason = 'malformed_json'"
    ).fetchall()
    deep = [r for r, text in bad if json_depth(text) > MAX_JSON_DEPTH]
    if deep:
        con.execute(
            f"UPDATE {quote_ident(rejects)} SET reason = 'json_too_deep' "
            "WHERE list_contains($rows, row_ordinal)",
            {"rows": deep},
        )
    con.execute(f"DROP TABLE {quote_ident(table + '_in')}")


def json_depth(text: str) -> int:
    """Maximum nesting depth of a JSON text (brackets inside strings ignored)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _read_json_array(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> None:
    """A JSON array of objects, or API pages ``{"users": [...]}`` (one or several)."""
    con.execute(
        f"CREATE TEMP TABLE {quote_ident(table + '_in')} AS SELECT json FROM "
        "read_json_objects($path, format = 'auto', maximum_object_size = 268435456)",
        {"path": str(path)},
    )
    has_pages = con.sql(
        f"SELECT bool_or(json_type(json, '$.users') = 'ARRAY') FROM {quote_ident(table + '_in')}"
    ).fetchall()[0][0]
    if not has_pages:  # the usual export: one document per user, in file order
        con.execute(
            f"CREATE TEMP TABLE {quote_ident(table)} AS SELECT rowid + 1 AS row_ordinal, json, "
            f"json AS {RAW} FROM {quote_ident(table + '_in')} ORDER BY rowid"
        )
        con.execute(f"DROP TABLE {quote_ident(table + '_in')}")
        return
    con.execute(f"""
        CREATE TEMP TABLE {quote_ident(table)} AS
        WITH docs AS (
            SELECT rowid AS doc, json, json_type(json, '$.users') = 'ARRAY' AS is_page
            FROM {quote_ident(table + "_in")}
        ),
        objs AS (
            SELECT doc, 0 AS pos, json FROM docs WHERE NOT coalesce(is_page, false)
            UNION ALL
            SELECT doc, generate_subscripts(from_json(json -> '$.users', '["JSON"]'), 1),
                   unnest(from_json(json -> '$.users', '["JSON"]')) FROM docs WHERE is_page
        )
        SELECT row_number() OVER (ORDER BY doc, pos) AS row_ordinal, json,
               json AS {RAW} FROM objs
        ORDER BY row_ordinal
    """)
    con.execute(f"DROP TABLE {quote_ident(table + '_in')}")


def _read_parquet(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> None:
    described = con.sql(
        "DESCRIBE SELECT * FROM read_parquet($path)", params={"path": str(path)}
    ).fetchall()
    select = ", ".join(f"p.{quote_ident(r[0])}::VARCHAR AS {quote_ident(r[0])}" for r in described)
    con.execute(
        f"CREATE TEMP TABLE {quote_ident(table)} AS SELECT row_number() OVER () AS row_ordinal,"
        f" to_json(p) AS {RAW}, {select} FROM read_parquet($path) p",
        {"path": str(path)},
    )

"""Ingest stage: read every configured source, map it to input fields, reject bad rows.

Writes two staging tables for the run: ``src_records`` (one row per accepted record, every
field as text, the original row as JSON in ``raw``, merged with the previous run's records)
and ``rejects`` (one row per rejected input row with a reason). Rows of forgotten persons
(erasure tombstones) are dropped before either table sees them and counted as
``suppressed``: ``rows read = accepted + rejected + suppressed`` holds per source.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from omnimdm.adapters.presets import INPUT_FIELDS, ISO_TS, PRESETS, Preset
from omnimdm.adapters.readers import (
    MAX_JSON_DEPTH,
    RAW,
    RawTable,
    drop_raw,
    json_depth,
    read_source,
)
from omnimdm.config import Config, SourceConfig
from omnimdm.errors import SourceError
from omnimdm.logs import REDACTED, pii, pii_allowed
from omnimdm.store import (
    CONTENT_HASH_SQL,
    UNCOMPRESSED,
    quote_ident,
    record_id_sql,
    sql_literal,
)

if TYPE_CHECKING:
    from omnimdm.erase.tombstones import Suppressor

log = logging.getLogger(__name__)

FIELD_COLUMNS = tuple(f for f in INPUT_FIELDS if f != "source_record_id")
#: input fields that are near-unique per record and identify no one (amounts, timestamps).
#: DuckDB's default string compression (a dictionary plus FSST) finds nothing to share in
#: them and costs about twice the CPU of zstd for the same size. Contact points, ids, names
#: and street lines never get zstd: it hides their bytes, and the erasure tests prove by a
#: byte search of the store file that a forgotten value is gone (the near-unique ones among
#: them are stored plain instead: :data:`PLAIN_FIELDS`).
NEAR_UNIQUE_FIELDS = frozenset({"total_spent", "created_at", "updated_at"})
#: input fields that are near-unique per record and do identify someone: stored plain
#: (:data:`omnimdm.store.UNCOMPRESSED`), cheaper than the default and still byte-visible
#: (0.55 s less at 1M records for 45 MB more)
PLAIN_FIELDS = frozenset({"source_record_id", "surname", "email", "phone", "mobile", "street"})
#: a CSV field longer than this is rejected (field_too_long); JSON rows are capped as a whole
MAX_FIELD_CHARS = 4096
MAX_JSON_ROW_CHARS = 65536


@dataclass
class SourceCounts:
    """Reconciled row counts for one source in one run."""

    read: int = 0
    accepted: int = 0
    rejected: int = 0
    #: rows of forgotten persons, dropped before anything was stored
    suppressed: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)

    def reconciles(self) -> bool:
        return self.read == self.accepted + self.rejected + self.suppressed


def preset_for(source: SourceConfig) -> Preset:
    """The preset of a source, or an ad-hoc one built from its generic mapping."""
    overrides = {k: tuple(v) for k, v in source.date_formats.items()}
    if source.preset is not None:
        preset = PRESETS[source.preset]
        if not overrides:
            return preset
        return dataclasses.replace(preset, date_formats={**preset.date_formats, **overrides})
    assert source.mapping is not None
    columns = source.mapping.columns
    return Preset(
        name=f"mapping:{source.name}",
        format=source.resolved_format(),
        columns={k: v for k, v in columns.items() if isinstance(v, str)},
        joins={k: tuple(v) for k, v in columns.items() if isinstance(v, list)},
        required=("source_record_id",),
        date_formats={"updated_at": ISO_TS, **overrides},
    )


ZSTD = " USING COMPRESSION zstd"

#: the bookkeeping columns of ``src_records`` (set by the run that loads each record)
RUN_COLUMNS = (
    "first_seen_run INTEGER, updated_run INTEGER, last_seen_run INTEGER, retired_run INTEGER"
)


def create_ingest_tables(con: duckdb.DuckDBPyConnection, records: str, rejects: str) -> None:
    """Create the run's ``src_records`` staging table (sources load into it directly or
    through :func:`finish_records`) and its ``rejects`` table."""

    def compression(column: str) -> str:
        if column in NEAR_UNIQUE_FIELDS:
            return ZSTD
        return UNCOMPRESSED if column in PLAIN_FIELDS else ""

    fields = ", ".join(f"{c} VARCHAR{compression(c)}" for c in FIELD_COLUMNS)
    con.execute(
        f"CREATE TABLE {records} (source VARCHAR, source_kind VARCHAR, "
        f"source_record_id VARCHAR{compression('source_record_id')},"
        # the original rows compress best and fastest with zstd (measured at 1M: a third
        # smaller than the default and about 10% less CPU to write)
        f" record_id BIGINT, row_ordinal BIGINT, content_hash UBIGINT,"
        f" raw JSON{ZSTD},"
        f" updated_ts TIMESTAMP, {fields}, {RUN_COLUMNS})"
    )
    con.execute(
        f"CREATE TABLE {rejects} (source VARCHAR, row_ordinal BIGINT, byte_offset BIGINT,"
        " reason VARCHAR, raw VARCHAR)"
    )


#: in-memory database holding each source's loaded records until :func:`finish_records`
#: writes them all into ``src_records`` at once; attached for the ingest stage, seen by
#: every cursor of the store
LOADED = "omnimdm_loaded"


def create_loaded_table(con: duckdb.DuckDBPyConnection, records: str, source: str) -> str:
    """An empty in-memory table shaped like ``records`` for one source's loaded rows (in
    :data:`LOADED`, which must be attached); returns its name."""
    table = f"{LOADED}.{quote_ident(source)}"
    con.execute(f"CREATE OR REPLACE TABLE {table} AS FROM {records} LIMIT 0")
    return table


#: JSON sources: every mapped path's value, extracted in one parse of the document
JSON_VALUES = "omnimdm_json_values"


class _FieldMapper:
    """The SELECT list mapping a raw table's columns to input fields.

    A JSON source's paths are collected into one list, so that each document is parsed
    once (``json_extract_string(json, [paths])``) rather than once per field (4x faster
    on the Zendesk export's nine paths).
    """

    def __init__(self, raw: RawTable, preset: Preset) -> None:
        self.raw = raw
        self.paths: list[str] = []
        exprs = []
        for fld in INPUT_FIELDS:
            if fld in preset.joins:
                exprs.append(f"{self._joined(preset.joins[fld])} AS {fld}")
                continue
            col = _present_column(raw, preset, fld)
            if col is None:
                exprs.append(f"NULL::VARCHAR AS {fld}")
                continue
            value = self._value(col)
            if fld in preset.strip_apostrophe:
                value = f"regexp_replace({value}, '^''', '')"
            exprs.append(f"nullif(trim({value}), '') AS {fld}")
        self.select = ", ".join(exprs)

    def _value(self, col: str) -> str:
        if not self.raw.is_json:
            return quote_ident(col)
        path = _json_path(col)
        if path not in self.paths:
            self.paths.append(path)
        return f"{JSON_VALUES}[{self.paths.index(path) + 1}]"

    def _joined(self, cols: tuple[str, ...]) -> str:
        """Several columns joined with single spaces (missing or empty ones left out)."""
        parts = [
            f"nullif(trim({self._value(col)}), '')"
            for col in cols
            if self.raw.is_json or col in self.raw.columns
        ]
        return f"nullif(concat_ws(' ', {', '.join(parts)}), '')" if parts else "NULL::VARCHAR"

    def source_sql(self) -> str:
        """What the SELECT list reads: the raw table, with a JSON source's values list.
        Paths are inlined as escaped literals: views cannot hold parameters."""
        table = quote_ident(self.raw.name)
        if not self.paths:
            return f"{table} t"
        values = "[" + ", ".join(sql_literal(p) for p in self.paths) + "]"
        return f"(SELECT *, json_extract_string(json, {values}) AS {JSON_VALUES} FROM {table}) t"


def _json_path(col: str) -> str:
    """The JSON path of a mapped key (``$...`` paths as given)."""
    path = col if col.startswith("$") else f"$.{col}"
    if "\x00" in path:
        raise SourceError(f"the JSON path {path!r} contains a NUL byte")
    return path


def _present_column(raw: RawTable, preset: Preset, input_field: str) -> str | None:
    """The first of the field's column names present in the file (JSON: the first path)."""
    names = preset.candidates(input_field)
    if raw.is_json:
        return names[0] if names else None
    return next((c for c in names if c in raw.columns), None)


def _check_required(raw: RawTable, preset: Preset, source: str, path: Path) -> None:
    if raw.is_json:
        return
    missing = [
        " or ".join(repr(c) for c in preset.candidates(f))
        for f in preset.required
        if _present_column(raw, preset, f) is None
    ]
    if missing:
        fix = "export with the vendor's standard headers, or map the columns with `mapping:`"
        if len(raw.columns) == 1 and any(d in raw.columns[0] for d in ",;\t|"):
            fix = (
                "the rows could not be split into columns: look for a value with an unbalanced "
                'double quote (") or set the `delimiter:` of the source'
            )
        known = set(preset.all_columns())
        found: object = list(raw.columns)
        if not known & set(raw.columns) and not pii_allowed():
            # no known header at all: the first row may be data (names redacted)
            found = f"{len(raw.columns)} column(s), none a known header ({REDACTED} names)"
        raise SourceError(
            f"missing required column(s) {', '.join(missing)}; the preset {preset.name!r} "
            f"expects columns among {preset.all_columns()}; found {found}",
            source=source,
            path=str(path),
            fix=fix,
        )


def _row_problem_sql(raw: RawTable) -> str:
    """Reason to reject a row that parsed but cannot be trusted, else NULL.

    CSV values are checked column by column (no need to build the row's JSON); a header
    holding an undecodable byte makes every row ``invalid_encoding``, as its JSON would.
    """
    if raw.is_json:
        too_long = f"length({RAW}) > {MAX_JSON_ROW_CHARS}"
        undecodable = f"contains({RAW}, '\ufffd')"
    else:
        cols = [quote_ident(c) for c in raw.columns]
        too_long = " OR ".join(f"length({c}) > {MAX_FIELD_CHARS}" for c in cols) or "false"
        bad_header = any("\ufffd" in c for c in raw.columns)
        undecodable = (
            "true"
            if bad_header
            else (" OR ".join(f"contains({c}, '\ufffd')" for c in cols) or "false")
        )
    checks = [
        f"WHEN {too_long} THEN 'field_too_long'",
        f"WHEN {undecodable} THEN 'invalid_encoding'",
    ]
    return f"CASE {' '.join(checks)} END"


def _deep_json_rows(con: duckdb.DuckDBPyConnection, raw: RawTable) -> list[int]:
    """Rows nested deeper than MAX_JSON_DEPTH; only rows with many brackets are parsed."""
    candidates = con.sql(
        f"SELECT row_ordinal, {RAW} FROM {quote_ident(raw.name)} WHERE "
        f"length({RAW}) - length(replace(replace({RAW}, '{{', ''), '[', '')) > $d",
        params={"d": MAX_JSON_DEPTH},
    ).fetchall()
    return [r for r, text in candidates if json_depth(text) > MAX_JSON_DEPTH]


def _int_list(values: list[int]) -> str:
    """A SQL list literal of integers (``[]::BIGINT[]`` when empty)."""
    return "[" + ", ".join(str(int(v)) for v in values) + "]::BIGINT[]"


def _updated_ts_expr(preset: Preset) -> str:
    """Source update time: DuckDB's fast ISO cast first, then the preset's formats.

    Values with an explicit UTC offset go through strptime (``%z``) so the offset is
    honoured rather than dropped.
    """
    fmts = preset.date_formats.get("updated_at", ISO_TS)
    tries = ", ".join(f"try_strptime(updated_at, {sql_literal(f)})::TIMESTAMP" for f in fmts)
    return (
        "CASE WHEN regexp_matches(updated_at, '[+-]\\d\\d:?\\d\\d$') "
        f"THEN coalesce({tries}) "
        f"ELSE coalesce(TRY_CAST(updated_at AS TIMESTAMP), {tries}) END"
    )


def ingest_source(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    source: SourceConfig,
    *,
    records: str,
    rejects: str,
    run_id: int,
    has_previous: bool,
    suppressor: Suppressor | None = None,
) -> SourceCounts:
    """Read one source into the run's ``src_records`` and ``rejects`` staging tables;
    ``suppressor`` (when the store holds erasure tombstones) drops forgotten persons' rows
    first."""
    preset = preset_for(source)
    path = config.source_path(source)
    fmt = source.format or preset.format
    raw = read_source(
        con,
        source=source.name,
        path=path,
        fmt=fmt,
        delimiter=source.delimiter,
        encoding=source.encoding,
    )
    _check_required(raw, preset, source.name, path)
    fields = _FieldMapper(raw, preset)
    deep = _deep_json_rows(con, raw) if raw.is_json else []
    # The mapped rows are a view, read three times rather than materialized once with
    # the raw JSON: (1) the checks, (2) the rejected rows, (3) the accepted rows straight
    # into src_records. Each read computes only the columns it needs.
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW mapped_input AS
        SELECT row_ordinal, {RAW} AS raw, {fields.select},
               CASE WHEN list_contains({_int_list(deep)}, row_ordinal) THEN 'json_too_deep'
                    ELSE {_row_problem_sql(raw)} END AS problem
        FROM {fields.source_sql()}"""
    )
    suppressed = 0
    if suppressor is None:
        con.execute("CREATE OR REPLACE TEMP VIEW mapped AS FROM mapped_input")
    else:
        # forgotten persons' rows go before duplicates are ranked or anything is stored
        suppressed = suppressor.suppress(
            con, config, source, rows="mapped_input", reader_rejects=quote_ident(raw.rejects)
        )
        con.execute(
            "CREATE OR REPLACE TEMP VIEW mapped AS "
            f"FROM mapped_input ANTI JOIN {suppressor.suppressed_table} USING (row_ordinal)"
        )
    # Every row that is not accepted, with its reason, from one scan that reads only the
    # id, the update time and the checked columns: row problems, missing ids, and the
    # losing rows of a duplicated id (all but the most recently updated, then last, one).
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE not_accepted AS
        WITH c AS MATERIALIZED (SELECT row_ordinal, source_record_id, updated_at, problem
                                FROM mapped),
        dup AS (SELECT source_record_id FROM c
                WHERE problem IS NULL AND source_record_id IS NOT NULL
                GROUP BY ALL HAVING count(*) > 1)
        SELECT row_ordinal, problem AS reason FROM c WHERE problem IS NOT NULL
        UNION ALL
        SELECT row_ordinal, 'missing_source_record_id' FROM c
        WHERE problem IS NULL AND source_record_id IS NULL
        UNION ALL
        SELECT row_ordinal, 'duplicate_source_record_id' FROM (
            SELECT row_ordinal, row_number() OVER (
                PARTITION BY source_record_id
                ORDER BY {_updated_ts_expr(preset)} DESC NULLS LAST, row_ordinal DESC) AS rank
            FROM c SEMI JOIN dup USING (source_record_id) WHERE problem IS NULL)
        WHERE rank > 1"""
    )
    con.execute(
        f"INSERT INTO {rejects} SELECT $src, row_ordinal, byte_offset, reason, raw "
        f"FROM {quote_ident(raw.rejects)}",
        {"src": source.name},
    )
    con.execute(
        f"INSERT INTO {rejects} SELECT $src, m.row_ordinal, NULL, n.reason, m.raw "
        "FROM mapped m JOIN not_accepted n USING (row_ordinal) ORDER BY m.row_ordinal",
        {"src": source.name},
    )
    # Accepted rows go straight into src_records, merged with the source's previous
    # records: the same key with changed content is an update, never a new entity.
    cols = ", ".join(FIELD_COLUMNS)
    accepted = (
        f"SELECT $src AS source, $kind AS source_kind, source_record_id, "
        f"{record_id_sql('$src', 'source_record_id')} AS record_id, row_ordinal, "
        f"{CONTENT_HASH_SQL} AS content_hash, raw, "
        f"{_updated_ts_expr(preset)} AS updated_ts, {cols} "
        "FROM mapped ANTI JOIN not_accepted USING (row_ordinal)"
    )
    if has_previous:
        con.execute(
            f"""INSERT INTO {records} SELECT r.*, coalesce(o.first_seen_run, $run),
                CASE WHEN o.record_id IS NULL OR o.content_hash <> r.content_hash
                     OR o.retired_run IS NOT NULL THEN $run ELSE o.updated_run END,
                $run, NULL::INTEGER
            FROM ({accepted}) r
            LEFT JOIN (SELECT record_id, content_hash, first_seen_run, updated_run, retired_run
                       FROM src_records WHERE source = $src) o USING (record_id)""",
            {"src": source.name, "kind": source.kind, "run": run_id},
        )
    else:  # a fresh store: every record is new
        con.execute(
            f"INSERT INTO {records} SELECT *, $run, $run, $run, NULL::INTEGER FROM ({accepted})",
            {"src": source.name, "kind": source.kind, "run": run_id},
        )
    inserted = con.fetchall()
    if log.isEnabledFor(logging.DEBUG):
        _log_rejects(con, rejects, source.name)
    counts = SourceCounts(read=raw.rows_read, suppressed=suppressed)
    for reason, n in con.sql(
        f"SELECT reason, count(*) FROM {rejects} WHERE source = $src GROUP BY ALL ORDER BY 1",
        params={"src": source.name},
    ).fetchall():
        counts.rejected_by_reason[reason] = int(n)
    counts.rejected = sum(counts.rejected_by_reason.values())
    counts.accepted = int(inserted[0][0])
    con.execute("DROP VIEW mapped")
    con.execute("DROP VIEW mapped_input")
    if suppressor is not None:
        con.execute(f"DROP TABLE {suppressor.suppressed_table}")
    con.execute("DROP TABLE not_accepted")
    drop_raw(con, raw)
    if not counts.reconciles():  # pragma: no cover - a bug, not a user error
        raise AssertionError(f"row counts do not reconcile for {source.name}: {counts}")
    log.info(
        "ingested %s: read=%d accepted=%d rejected=%d suppressed=%d",
        source.name,
        counts.read,
        counts.accepted,
        counts.rejected,
        counts.suppressed,
    )
    return counts


#: rejected rows shown per source in debug logs (their raw text only with --log-pii)
DEBUG_REJECTS_SHOWN = 5


def _log_rejects(con: duckdb.DuckDBPyConnection, rejects: str, source: str) -> None:
    rows = con.sql(
        f"SELECT row_ordinal, reason, left(raw, 500) FROM {rejects} WHERE source = $s "
        f"ORDER BY row_ordinal LIMIT {DEBUG_REJECTS_SHOWN}",
        params={"s": source},
    ).fetchall()
    for ordinal, reason, raw in rows:
        log.debug("%s: data row %s rejected (%s); raw row: %s", source, ordinal, reason, pii(raw))


def finish_records(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: int,
    records: str,
    snapshot_sources: list[str],
    has_previous: bool,
    parts: Sequence[str] = (),
) -> dict[str, dict[str, int]]:
    """Write ``parts`` (tables of records loaded per source) into ``records`` with the
    previous records this run did not load (a snapshot source retires them, a delta source
    keeps them), in one INSERT. Without ``parts`` the loaded rows are already in
    ``records``.

    One INSERT writes the table's row groups whole. One append per source left a partial
    row group after each, and the publish's CHECKPOINT then merged them by rewriting most
    of the table (1.5 to 2 s at 1M records).

    Returns per-source counts of new, updated, unchanged and retired records.
    """
    loaded = " UNION ALL ".join(f"SELECT * FROM {p}" for p in parts)
    selects = [loaded] if parts else []
    if has_previous:
        selects.append(
            "SELECT o.* REPLACE (CASE WHEN o.retired_run IS NULL AND "
            "list_contains($snap, o.source) THEN $run ELSE o.retired_run END AS retired_run) "
            f"FROM src_records o ANTI JOIN ({loaded or f'SELECT * FROM {records}'}) i "
            "USING (record_id)"
        )
    if selects:
        con.execute(
            f"INSERT INTO {records} {' UNION ALL '.join(selects)}",
            {"run": run_id, "snap": snapshot_sources} if has_previous else {},
        )
    rows = con.sql(
        f"""SELECT source,
            count(*) FILTER (first_seen_run = $run) AS new,
            count(*) FILTER (updated_run = $run AND first_seen_run <> $run) AS updated,
            count(*) FILTER (last_seen_run = $run AND updated_run <> $run) AS unchanged,
            count(*) FILTER (retired_run = $run) AS retired,
            count(*) FILTER (retired_run IS NULL) AS active
        FROM {records} GROUP BY source ORDER BY source""",
        params={"run": run_id},
    ).fetchall()
    keys = ("new", "updated", "unchanged", "retired", "active")
    return {r[0]: dict(zip(keys, (int(v) for v in r[1:]), strict=True)) for r in rows}

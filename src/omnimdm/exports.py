"""Exports of published results, read from the snapshot (never blocks a running job).

``--since RUN`` keeps what changed after run ``RUN``: golden records created or changed
(``updated_run > RUN``) and ids retired since (``golden`` adds a ``change`` column:
``created``, ``changed``, ``merged``, ``retired``); the crosswalk, lineage and consent rows
of the created or changed golden records; and the events of the later runs.

CSV cells of free-text columns (names, addresses, company) that start with ``=``, ``+``,
``-``, ``@``, tab or carriage return get a leading apostrophe so a spreadsheet does not run
them as formulas; phones, e-mails, ids and numbers are never touched. ``raw=True`` turns
the guard off. Lists are written as ``;``-joined text and spend as JSON in CSV; Parquet
and JSON Lines keep the nested types.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from omnimdm.errors import StoreError
from omnimdm.store import Store, connect

ExportWhat = Literal["golden", "crosswalk", "lineage", "events", "consent"]
ExportFormat = Literal["csv", "parquet", "jsonl"]
EXPORTS: tuple[str, ...] = ("golden", "crosswalk", "lineage", "events", "consent")
FORMATS: tuple[str, ...] = ("csv", "parquet", "jsonl")

#: golden columns holding free text (guarded in CSV); lineage guards their values too
FREE_TEXT = (
    "given_name",
    "surname1",
    "surname2",
    "full_name",
    "street",
    "street_number",
    "postcode",
    "city",
    "region",
    "company",
)
_GUARD_RE = r"^[=+\-@\t\r]"
_LIST_COLUMNS = ("emails", "phones", "channels", "sources")


def guard_sql(expr: str) -> str:
    """``expr`` with a leading apostrophe when it would start a spreadsheet formula."""
    return f"CASE WHEN regexp_matches({expr}, '{_GUARD_RE}') THEN '''' || {expr} ELSE {expr} END"


def _changed(since: int | None) -> str:
    """Golden ids created or changed after run ``since`` (all when None)."""
    if since is None:
        return "SELECT golden_id FROM golden_customers"
    return f"SELECT golden_id FROM golden_customers WHERE updated_run > {int(since)}"


def _golden_sql(since: int | None, csv: bool, guard: bool) -> str:
    out = []
    for col in _golden_columns():
        expr = col
        if csv and col in _LIST_COLUMNS:
            expr = f"array_to_string({col}, ';')"
        elif csv and col == "spend":
            expr = "CASE WHEN spend IS NOT NULL THEN to_json(spend)::VARCHAR END"
        if guard and col in FREE_TEXT:
            expr = guard_sql(expr)
        out.append(f"{expr} AS {col}")
    select = ", ".join(out)
    if since is None:
        return f"SELECT {select} FROM golden_customers ORDER BY golden_id"
    s = int(since)
    # retired ids come as rows with only their id, change and successor
    return f"""
        SELECT * FROM (
            SELECT CASE WHEN created_run > {s} THEN 'created' ELSE 'changed' END AS change,
                   NULL::VARCHAR AS merged_into, {select}
            FROM golden_customers WHERE updated_run > {s}
            UNION ALL BY NAME
            SELECT CASE WHEN successor IS NULL THEN 'retired' ELSE 'merged' END AS change,
                   successor AS merged_into, golden_id
            FROM golden_ids WHERE retired_run > {s}
        ) ORDER BY golden_id
    """


def _golden_columns() -> tuple[str, ...]:
    from omnimdm.survive.golden import GOLDEN_COLUMNS

    return (*GOLDEN_COLUMNS, "created_run", "updated_run")


def export_sql(what: str, *, since: int | None = None, csv: bool = False, raw: bool = False) -> str:
    """The query an export runs against the snapshot."""
    guard = csv and not raw
    changed = _changed(since)
    if what == "golden":
        return _golden_sql(since, csv, guard)
    if what == "crosswalk":
        return (
            "SELECT golden_id, source, source_record_id, cluster_match_probability "
            f"FROM crosswalk WHERE golden_id IN ({changed}) "
            "ORDER BY golden_id, source, source_record_id"
        )
    if what == "lineage":
        value = "value"
        if guard:
            listed = ", ".join(f"'{c}'" for c in FREE_TEXT)
            value = f"CASE WHEN field IN ({listed}) THEN {guard_sql('value')} ELSE value END"
        return (
            f"SELECT golden_id, field, {value} AS value, source, source_record_id, rule, "
            f"event_at FROM golden_lineage WHERE golden_id IN ({changed}) "
            "ORDER BY golden_id, field, value"
        )
    if what == "consent":
        return (
            "SELECT golden_id, channel, contact_point, consent, source, source_record_id, "
            f"event_at, rule, events, opt_ins_ignored FROM golden_consent "
            f"WHERE golden_id IN ({changed}) ORDER BY golden_id, channel, contact_point"
        )
    if what == "events":
        where = "" if since is None else f"WHERE run_id > {int(since)}"
        return (
            "SELECT run_id, event, golden_id, related_golden_id, source, source_record_id, "
            f"created_at FROM golden_events {where} "
            "ORDER BY run_id, event, golden_id, source, source_record_id"
        )
    raise StoreError(f"unknown export {what!r}; choose one of {', '.join(EXPORTS)}")


def check_since(con: duckdb.DuckDBPyConnection, since: int) -> None:
    """A ``--since`` run must be one the store has seen."""
    if since < 0:
        raise StoreError(f"--since must be a run id (0 or more), not {since}")
    latest = con.sql("SELECT coalesce(max(run_id), 0) FROM runs").fetchall()[0][0]
    if since > int(latest):
        raise StoreError(
            f"run {since} is newer than the last run in the published snapshot ({latest}); "
            "pass the id of a run that has finished (see the runs table)"
        )


def read_table(
    store: Store, what: str, *, since: int | None = None, csv: bool = False, raw: bool = False
) -> pa.Table:
    """The rows an export would write, as an Arrow table."""
    with store.reader() as con:
        if since is not None:
            check_since(con, since)
        try:
            return con.sql(export_sql(what, since=since, csv=csv, raw=raw)).to_arrow_table()
        except duckdb.CatalogException as err:
            raise StoreError(
                f"the snapshot has no {what} data ({err}); run `omnimdm run` with this "
                "version of omnimdm"
            ) from None
        except duckdb.BinderException as err:
            raise StoreError(
                f"the snapshot was written by an older omnimdm ({err}); run `omnimdm run`"
            ) from None


def export(
    store: Store,
    what: ExportWhat,
    fmt: ExportFormat,
    out: Path,
    *,
    since: int | None = None,
    raw: bool = False,
) -> int:
    """Write one published table to ``out``; return the number of rows written."""
    table = read_table(store, what, since=since, csv=fmt == "csv", raw=raw)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    if fmt == "csv":
        pacsv.write_csv(table, tmp, pacsv.WriteOptions(quoting_header="none"))
    elif fmt == "parquet":
        pq.write_table(table, tmp)
    else:
        _write_jsonl(table, tmp)
    tmp.replace(out)
    return int(table.num_rows)


def _write_jsonl(table: pa.Table, path: Path) -> None:
    """JSON Lines (one object per row, nested types kept) through DuckDB's writer."""
    mem = connect(":memory:")
    try:
        mem.register("export_rows", table)
        params: dict[str, Any] = {"path": str(path)}
        mem.execute("COPY export_rows TO $path (FORMAT json)", params)
    finally:
        mem.close()

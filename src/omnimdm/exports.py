"""Exports of published results, read from the snapshot (never blocks a running job)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from omnimdm.errors import StoreError
from omnimdm.store import Store

ExportWhat = Literal["golden", "crosswalk", "lineage"]
ExportFormat = Literal["csv", "parquet"]

EXPORT_QUERIES: dict[str, str] = {
    "golden": "SELECT * EXCLUDE (sources), array_to_string(sources, ';') AS sources "
    "FROM golden_customers ORDER BY golden_id",
    "crosswalk": "SELECT golden_id, source, source_record_id, cluster_match_probability "
    "FROM crosswalk ORDER BY golden_id, source, source_record_id",
    "lineage": "SELECT * FROM golden_lineage ORDER BY golden_id, field",
}


def export(store: Store, what: ExportWhat, fmt: ExportFormat, out: Path) -> int:
    """Write one published table to ``out``; return the number of rows written."""
    with store.reader() as con:
        try:
            table = con.sql(EXPORT_QUERIES[what]).to_arrow_table()
        except Exception as err:  # duckdb.CatalogException and friends
            raise StoreError(
                f"the snapshot has no {what} table ({err}); run `omnimdm run`"
            ) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    if fmt == "csv":
        pacsv.write_csv(table, tmp, pacsv.WriteOptions(quoting_header="none"))
    else:
        pq.write_table(table, tmp)
    tmp.replace(out)
    return table.num_rows

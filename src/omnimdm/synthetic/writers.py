"""File writers: CSV (UTF-8, comma, quoted only where needed, ``\\n`` line ends) and the
Zendesk JSON array, both through DuckDB's writers for speed; empty values are written as empty
fields / JSON ``null``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from omnimdm.synthetic.vendors import Column

ZENDESK_USER_FIELDS = ("fecha_nacimiento", "codigo_postal")


def _arrow(values: Column) -> pa.Array:
    if isinstance(values, list):
        return pa.array(values, type=pa.list_(pa.string()))
    if values.dtype == bool:
        return pa.array(values, type=pa.bool_())
    if np.issubdtype(values.dtype, np.integer):
        return pa.array(values, type=pa.int64())
    arr = pa.array(values, type=pa.string())
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def _copy(table: pa.Table, path: Path, options: str) -> None:
    target = str(path).replace("'", "''")
    con = duckdb.connect()
    try:
        con.register("export_table", table)
        con.execute(f"COPY export_table TO '{target}' ({options})")
    finally:
        con.close()


def write_csv(path: Path, columns: Mapping[str, Column]) -> None:
    """Write ``columns`` (header -> values) as a CSV file."""
    table = pa.table({name: _arrow(values) for name, values in columns.items()})
    _copy(table, path, "FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"'")


def write_zendesk_json(path: Path, columns: Mapping[str, Column]) -> None:
    """Write Zendesk users as a JSON array; the ``ZENDESK_USER_FIELDS`` columns go into a
    ``user_fields`` object."""
    top = {k: _arrow(v) for k, v in columns.items() if k not in ZENDESK_USER_FIELDS}
    nested = [_arrow(columns[k]) for k in ZENDESK_USER_FIELDS]
    top["user_fields"] = pa.StructArray.from_arrays(nested, names=list(ZENDESK_USER_FIELDS))
    _copy(pa.table(top), path, "FORMAT json, ARRAY true")


def write_truth(
    path: Path,
    sources: Sequence[str],
    record_ids: Sequence[np.ndarray],
    persons: Sequence[np.ndarray],
    households: Sequence[np.ndarray],
) -> None:
    """``source,source_record_id,person_id,household_id`` with ``P00000001``-style ids."""
    source = np.concatenate(
        [np.full(len(r), s, dtype=object) for s, r in zip(sources, record_ids, strict=True)]
    )
    table = pa.table(
        {
            "source": pa.array(source, type=pa.string()),
            "source_record_id": pa.array(np.concatenate(record_ids), type=pa.string()),
            "person": pa.array(np.concatenate(persons) + 1, type=pa.int64()),
            "household": pa.array(np.concatenate(households) + 1, type=pa.int64()),
        }
    )
    target = str(path).replace("'", "''")
    con = duckdb.connect()
    try:
        con.register("truth", table)
        con.execute(
            "COPY (SELECT source, source_record_id, "
            "'P' || lpad(CAST(person AS VARCHAR), 8, '0') AS person_id, "
            "'H' || lpad(CAST(household AS VARCHAR), 8, '0') AS household_id FROM truth) "
            f"TO '{target}' (FORMAT csv, HEADER true)"
        )
    finally:
        con.close()

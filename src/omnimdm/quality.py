"""Read the data-quality profile of the last published run from the snapshot."""

from __future__ import annotations

import json
from typing import Any

import duckdb

from omnimdm.errors import StoreError
from omnimdm.store import Store


def read_profile(store: Store) -> dict[str, Any]:
    """``{"run_id", "fields": [...], "rejects": {source: {reason: n}}}`` (counts only)."""
    with store.reader() as con:
        try:
            rows = con.sql("SELECT * FROM quality_profile ORDER BY source, field")
            fields = [dict(zip(rows.columns, r, strict=True)) for r in rows.fetchall()]
        except duckdb.CatalogException:
            raise StoreError("the snapshot has no quality profile; run `omnimdm run`") from None
        run = con.sql(
            "SELECT run_id, counts FROM runs WHERE status = 'published' "
            "ORDER BY run_id DESC LIMIT 1"
        ).fetchall()
    counts = json.loads(run[0][1]) if run and run[0][1] else {}
    rejects = {
        name: dict(c.get("rejected_by_reason", {})) for name, c in counts.get("sources", {}).items()
    }
    return {"run_id": run[0][0] if run else None, "fields": fields, "rejects": rejects}

"""Small canonical inputs for the survive stage: hand-written records in real DuckDB tables.

The survive stage reads named tables (canonical records, cluster members, scored pairs),
so tests write those tables directly with a few records each and run the real stage.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from omnimdm.cluster.golden_ids import best_edge_sql
from omnimdm.config import Config, parse_config
from omnimdm.store import record_id
from omnimdm.survive.golden import survive
from omnimdm.survive.lineage import lineage_view_sql

#: the canonical columns survive reads, with their types and defaults
COLUMNS: dict[str, tuple[str, Any]] = {
    "source_kind": ("VARCHAR", None),
    "source_updated_at": ("TIMESTAMP", None),
    "given_name": ("VARCHAR", None),
    "given_name_norm": ("VARCHAR", None),
    "surname1": ("VARCHAR", None),
    "surname1_norm": ("VARCHAR", None),
    "surname2": ("VARCHAR", None),
    "surname2_norm": ("VARCHAR", None),
    "email_norm": ("VARCHAR", None),
    "email_match": ("VARCHAR", None),
    "email_corrected": ("BOOLEAN", False),
    "email_consent": ("VARCHAR", None),
    "sms_consent": ("VARCHAR", None),
    "phones": ("VARCHAR[]", []),
    "mobiles": ("VARCHAR[]", []),
    "mobiles_match": ("VARCHAR[]", None),
    "landlines_match": ("VARCHAR[]", None),
    "birth_date": ("DATE", None),
    "birth_date_reason": ("VARCHAR", None),
    "street": ("VARCHAR", None),
    "street_type": ("VARCHAR", None),
    "street_name": ("VARCHAR", None),
    "street_number": ("VARCHAR", None),
    "postcode": ("VARCHAR", None),
    "city": ("VARCHAR", None),
    "city_norm": ("VARCHAR", None),
    "region": ("VARCHAR", None),
    "country": ("VARCHAR", None),
    "national_id": ("VARCHAR", None),
    "national_id_kind": ("VARCHAR", None),
    "national_id_valid": ("BOOLEAN", False),
    "loyalty_id": ("VARCHAR", None),
    "company": ("VARCHAR", None),
    "total_spent": ("DECIMAL(18, 2)", None),
    "currency": ("VARCHAR", None),
    "orders": ("INTEGER", None),
    "first_seen": ("DATE", None),
    "last_seen": ("DATE", None),
}
KINDS = {"crm": "crm", "shop": "ecommerce", "pos": "pos", "calls": "callcenter"}


def config(trust: dict[str, float] | None = None, **survivorship: Any) -> Config:
    """A config with the test sources (crm, shop, pos, calls) and the given rules."""
    trust = trust or {}
    sources = [
        {
            "name": name,
            "kind": kind,
            "path": f"{name}.csv",
            "trust": trust.get(name, 0.5),
            "mapping": {"columns": {"source_record_id": "id"}},
        }
        for name, kind in KINDS.items()
    ]
    return parse_config({"sources": sources, "survivorship": survivorship})


def record(key: str, golden: str, **fields: Any) -> dict[str, Any]:
    """One member record ``key`` = ``SOURCE:ID`` of golden record ``golden``."""
    source, sid = key.split(":", 1)
    row = {name: default for name, (_, default) in COLUMNS.items()}
    row.update(source=source, source_record_id=sid, golden_id=golden, source_kind=KINDS[source])
    for name in ("given_name", "surname1", "surname2"):
        if name in fields and f"{name}_norm" not in fields and fields[name] is not None:
            fields[f"{name}_norm"] = _fold(fields[name])
    if "email_norm" in fields and "email_match" not in fields:
        fields["email_match"] = fields["email_norm"]
    if "phones" in fields:
        fields.setdefault("mobiles", [p for p in fields["phones"] if p.startswith("+346")])
        fields.setdefault("mobiles_match", fields["mobiles"])
        fields.setdefault(
            "landlines_match", [p for p in fields["phones"] if p not in fields["mobiles"]]
        )
    if "updated" in fields:
        fields["source_updated_at"] = fields.pop("updated")
    unknown = set(fields) - set(COLUMNS)
    assert not unknown, unknown
    row.update(fields)
    return row


def _fold(text: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def load(
    con: duckdb.DuckDBPyConnection,
    records: list[dict[str, Any]],
    edges: dict[tuple[str, str], float] | None = None,
) -> None:
    """Write ``norm``, ``members`` and ``pairs`` (edges between ``SOURCE:ID`` keys)."""
    cols = ", ".join(f"{name} {kind}" for name, (kind, _) in COLUMNS.items())
    con.execute(
        "CREATE OR REPLACE TABLE norm (record_id BIGINT, source VARCHAR, "
        f"source_record_id VARCHAR, {cols})"
    )
    con.execute(
        "CREATE OR REPLACE TABLE members (record_id BIGINT, source VARCHAR, "
        "source_record_id VARCHAR, golden_id VARCHAR)"
    )
    con.execute(
        "CREATE OR REPLACE TABLE pairs (record_id_l BIGINT, record_id_r BIGINT, "
        "match_probability DOUBLE)"
    )
    marks = ", ".join("?" for _ in range(len(COLUMNS) + 3))
    for row in records:
        rid = record_id(row["source"], row["source_record_id"])
        con.execute(
            f"INSERT INTO norm VALUES ({marks})",
            [rid, row["source"], row["source_record_id"], *(row[c] for c in COLUMNS)],
        )
        con.execute(
            "INSERT INTO members VALUES (?, ?, ?, ?)",
            [rid, row["source"], row["source_record_id"], row["golden_id"]],
        )
    for (left, right), p in (edges or {}).items():
        con.execute(
            "INSERT INTO pairs VALUES (?, ?, ?)",
            [record_id(*left.split(":", 1)), record_id(*right.split(":", 1)), p],
        )
    # the cluster stage's members carry each record's best edge to another member
    con.execute(
        "CREATE OR REPLACE TABLE members AS SELECT m.*, b.cluster_match_probability FROM "
        f"members m LEFT JOIN ({best_edge_sql('members', 'golden_id', 'pairs')}) b "
        "USING (record_id)"
    )


def run(
    con: duckdb.DuckDBPyConnection,
    cfg: Config,
    records: list[dict[str, Any]],
    edges: dict[tuple[str, str], float] | None = None,
    *,
    pairs_side_by_side: bool = True,
) -> dict[str, Any]:
    """Run the survive stage on ``records``; return golden rows by id, lineage rows by
    (golden id, field), consent rows and crosswalk rows."""
    load(con, records, edges)
    con.execute(
        "CREATE OR REPLACE TABLE ids (golden_id VARCHAR, seq BIGINT, "
        "created_run INTEGER, retired_run INTEGER, successor VARCHAR)"
    )
    con.execute("DROP VIEW IF EXISTS out_lineage")
    for table in ("golden", "winners", "collected", "consent"):
        con.execute(f"DROP TABLE IF EXISTS out_{table}")
    survive(
        con,
        cfg,
        run_id=1,
        norm="norm",
        members="members",
        ids="ids",
        previous_golden=None,
        golden_out="out_golden",
        winners_out="out_winners",
        collected_out="out_collected",
        consent_out="out_consent",
        pairs_side_by_side=pairs_side_by_side,
    )
    view = lineage_view_sql(
        golden="out_golden",
        winners="out_winners",
        collected="out_collected",
        consent="out_consent",
        crosswalk="members",
    )
    con.execute(f"CREATE VIEW out_lineage AS {view}")
    golden = {r["golden_id"]: r for r in _rows(con, "SELECT * FROM out_golden")}
    lineage: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in _rows(con, "SELECT * FROM out_lineage ORDER BY golden_id, field, value"):
        lineage.setdefault((r["golden_id"], r["field"]), []).append(r)
    return {
        "golden": golden,
        "lineage": lineage,
        "consent": _rows(con, "SELECT * FROM out_consent ORDER BY ALL"),
        "crosswalk": _rows(con, "SELECT * FROM members ORDER BY ALL"),
    }


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    table = con.sql(sql).to_arrow_table()
    return list(table.to_pylist())


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)

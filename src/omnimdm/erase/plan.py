"""Resolve an erasure request into what it removes (read-only; a dry run stops here).

A request names identifiers; the plan finds every stored trace of them:

* records (``src_records``, retired ones included) whose record key, normalized e-mail or
  E.164 phone equals a requested one, or that belong to a requested golden id;
* rejected rows (``rejects``) with any field equal to a requested identifier or to the key
  of a removed record;
* golden-id events and steward decisions that name a removed record.

The identifiers to tombstone are the requested ones plus the keys of every removed
record, so a removed record stays out even if its e-mail changes at the source.
The plan leaves two temp tables for the apply step: ``er_removed`` (source,
source_record_id, record_id) and ``er_rejects`` (the rejects numbered by ``n``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from omnimdm.config import Config
from omnimdm.erase.identifiers import (
    record_value,
    request_email,
    request_phone,
    row_identifiers,
    text_identifiers,
)
from omnimdm.errors import ErasureError
from omnimdm.store import Store


@dataclass(frozen=True)
class ForgetRequest:
    """What to forget. Values are raw as a person gives them; they are normalized as the
    pipeline does (``Maria.Garcia+x@GMAIL.com`` finds ``mariagarcia@gmail.com``)."""

    records: tuple[tuple[str, str], ...] = ()  # (source, source_record_id)
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    golden_ids: tuple[str, ...] = ()
    operator: str | None = None
    #: a ticket or request number for the audit log; never personal data
    reference: str | None = None

    def is_empty(self) -> bool:
        return not (self.records or self.emails or self.phones or self.golden_ids)

    def selectors(self) -> dict[str, Any]:
        """What kinds of identifiers were named, without their values (for the audit)."""
        by_source: dict[str, int] = {}
        for source, _ in self.records:
            by_source[source] = by_source.get(source, 0) + 1
        return {
            "records": by_source,
            "emails": len(self.emails),
            "phones": len(self.phones),
            "golden_ids": sorted(self.golden_ids),
        }

    def raw_values(self) -> list[str]:
        return [*self.emails, *self.phones, *(i for _, i in self.records)]


@dataclass
class ForgetPlan:
    #: (kind, value) to tombstone; plaintext, held in memory only
    identifiers: set[tuple[str, str]]
    #: (source, source_record_id) of the records to remove, sorted
    records: list[tuple[str, str]] = field(default_factory=list)
    #: affected golden id -> (its members removed, its members before)
    golden_ids: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: ``er_rejects.n`` of the rejected rows to remove
    rejects: list[int] = field(default_factory=list)
    events: int = 0
    decisions: int = 0
    #: requested kinds whose value is a shared value (many records, different names)
    shared: list[str] = field(default_factory=list)
    #: whether the store has published results to rebuild
    published: bool = False

    @property
    def changes_data(self) -> bool:
        return bool(self.records or self.rejects or self.events or self.decisions)

    def records_by_source(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for source, _ in self.records:
            counts[source] = counts.get(source, 0) + 1
        return counts


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return table in Store.tables(con, prefix=table)


def _golden_members(con: duckdb.DuckDBPyConnection, golden_id: str) -> list[tuple[str, str]]:
    if not _has(con, "clusters"):
        raise ErasureError("the store has no published golden records; run `omnimdm run` first")
    members = con.sql(
        "SELECT source, source_record_id FROM clusters WHERE golden_id = $g ORDER BY ALL",
        params={"g": golden_id},
    ).fetchall()
    if members:
        return [(str(s), str(i)) for s, i in members]
    registry = (
        con.sql(
            "SELECT retired_run, successor FROM golden_ids WHERE golden_id = $g",
            params={"g": golden_id},
        ).fetchall()
        if _has(con, "golden_ids")
        else []
    )
    if not registry:
        raise ErasureError(f"{golden_id} is not a golden id of this store")
    retired, successor = registry[0]
    where = f"; its records joined {successor}" if successor else ""
    raise ErasureError(
        f"{golden_id} was retired in run {retired}{where}. Forget the current golden id, "
        "or the records by --source/--id, --email or --phone"
    )


def _requested(
    config: Config, request: ForgetRequest, con: duckdb.DuckDBPyConnection
) -> set[tuple[str, str]]:
    wanted: set[tuple[str, str]] = set()
    for source, source_record_id in request.records:
        if not source or not source_record_id:
            raise ErasureError("--source and --id must both be given, and not empty")
        wanted.add(("record", record_value(source, source_record_id)))
    for email in request.emails:
        wanted.add(("email", request_email(email)))
    regions = [s.default_region for s in config.sources]
    for phone in request.phones:
        wanted.add(("phone", request_phone(phone, regions)))
    for golden_id in request.golden_ids:
        wanted.update(("record", record_value(s, i)) for s, i in _golden_members(con, golden_id))
    return wanted


def _match_records(
    con: duckdb.DuckDBPyConnection, config: Config, wanted: set[tuple[str, str]]
) -> None:
    """Temp table ``er_removed``: the stored records carrying a wanted identifier."""
    con.register(
        "er_wanted",
        pa.table({"kind": [k for k, _ in wanted], "value": [v for _, v in wanted]}),
    )
    try:
        every = "(SELECT * REPLACE (NULL::INTEGER AS retired_run) FROM src_records)"
        row_identifiers(con, config, every, "er_ids", kinds={kind for kind, _ in wanted})
        con.execute("""
            CREATE OR REPLACE TEMP TABLE er_removed AS
            SELECT s.source, s.source_record_id, s.record_id FROM src_records s
            WHERE s.record_id IN (SELECT i.row_key FROM er_ids i SEMI JOIN er_wanted w
                                  USING (kind, value))
            ORDER BY s.source, s.source_record_id
        """)
    finally:
        con.unregister("er_wanted")
        con.execute("DROP TABLE IF EXISTS er_ids")


def _matching_rejects(
    con: duckdb.DuckDBPyConnection, config: Config, identifiers: set[tuple[str, str]]
) -> list[int]:
    con.execute(
        "CREATE OR REPLACE TEMP TABLE er_rejects AS SELECT row_number() OVER () AS n, * "
        "FROM rejects"
    )
    regions = {s.name: s.default_region for s in config.sources}
    return [
        int(n)
        for n, source, raw in con.sql("SELECT n, source, raw FROM er_rejects ORDER BY n").fetchall()
        if raw and text_identifiers(raw, source, regions.get(source, "ES")) & identifiers
    ]


def _shared(con: duckdb.DuckDBPyConnection, wanted: set[tuple[str, str]]) -> list[str]:
    values = [(k, v) for k, v in wanted if k in ("email", "phone")]
    if not values or not _has(con, "shared_values"):
        return []
    rows = con.sql(
        "SELECT DISTINCT field FROM shared_values "
        "WHERE list_contains($v, field || chr(31) || value)",
        params={"v": [f"{k}\x1f{v}" for k, v in values]},
    ).fetchall()
    return sorted(str(r[0]) for r in rows)


def plan_forget(
    con: duckdb.DuckDBPyConnection, config: Config, request: ForgetRequest
) -> ForgetPlan:
    """What ``request`` removes from the store ``con`` (nothing is changed)."""
    wanted = _requested(config, request, con)
    plan = ForgetPlan(identifiers=set(wanted), published=_has(con, "src_records"))
    if not plan.published:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE er_removed (source VARCHAR, source_record_id VARCHAR,"
            " record_id BIGINT)"
        )
        return plan
    _match_records(con, config, wanted)
    plan.records = [
        (str(s), str(i))
        for s, i in con.sql("SELECT source, source_record_id FROM er_removed").fetchall()
    ]
    plan.identifiers.update(("record", record_value(s, i)) for s, i in plan.records)
    plan.shared = _shared(con, wanted)
    if _has(con, "clusters"):
        plan.golden_ids = {
            str(g): (int(removed), int(members))
            for g, removed, members in con.sql("""
                SELECT c.golden_id, count(r.record_id), count(*) FROM clusters c
                LEFT JOIN er_removed r USING (record_id)
                GROUP BY c.golden_id HAVING count(r.record_id) > 0 ORDER BY c.golden_id
            """).fetchall()
        }
    if _has(con, "rejects"):
        plan.rejects = _matching_rejects(con, config, plan.identifiers)
    if _has(con, "golden_events"):
        plan.events = int(
            con.sql(
                "SELECT count(*) FROM golden_events SEMI JOIN er_removed "
                "USING (source, source_record_id)"
            ).fetchall()[0][0]
        )
    plan.decisions = int(
        con.sql(f"SELECT count(*) FROM review_decisions d WHERE {DECISION_TOUCHES}").fetchall()[0][
            0
        ]
    )
    return plan


#: a steward decision naming a removed record (``d`` is review_decisions)
DECISION_TOUCHES = (
    "EXISTS (SELECT 1 FROM er_removed r WHERE (r.source = d.source_a AND "
    "r.source_record_id = d.source_record_id_a) OR (r.source = d.source_b AND "
    "r.source_record_id = d.source_record_id_b))"
)

"""Explanations: why is a golden record made of these records, and why does a pair score so?

``explain_golden``: members, the scored edges among them (linked or not), the weakest link
(the weakest edge of the strongest spanning tree: the one the cluster hangs on), the rule
and record behind each golden field, and the steward decisions involved.
``explain_pair``: the per-comparison match weights of any two records (see
:mod:`omnimdm.match.explain`), also for pairs never blocked together.
``explain_golden`` is a reader: it reads the published snapshot only, so it works while a
run holds the store. ``explain_pair`` needs the canonical records and their term
frequencies, which the snapshot does not carry (a second copy of every record would
double the publish at a million records): it reads the store in one short session and
fails at once, naming the holder, while another process writes. Ids and counts only,
except the golden values that ``explain`` shows the steward on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from omnimdm.config import MatchingConfig
from omnimdm.errors import ReviewError, StoreError
from omnimdm.match.explain import PairExplanation, PairScorer, latest_model
from omnimdm.review.decisions import Decision, Status, load_decisions, with_status
from omnimdm.review.records import RecordKey, published
from omnimdm.review.steward import members as entity_members
from omnimdm.store import Store


@dataclass(frozen=True)
class EdgeInfo:
    a: RecordKey
    b: RecordKey
    match_probability: float
    match_weight: float
    linked: bool


@dataclass
class GoldenExplanation:
    golden_id: str
    threshold: float
    members: list[RecordKey]
    edges: list[EdgeInfo]
    weakest: EdgeInfo | None
    lineage: list[tuple[str, str | None, RecordKey, str]]  # field, value, record, rule
    decisions: list[tuple[Decision, Status]] = field(default_factory=list)


def weakest_link(
    nodes: list[RecordKey], edges: list[EdgeInfo], forced: list[tuple[RecordKey, RecordKey]]
) -> EdgeInfo | None:
    """The weakest edge of the maximum spanning tree over linked edges (steward must-links
    count as the strongest); None for a singleton or when must-links hold everything."""
    parent = {n: n for n in nodes}

    def find(x: RecordKey) -> RecordKey:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in forced:
        if a in parent and b in parent:
            parent[find(a)] = find(b)
    tree: list[EdgeInfo] = []
    for e in sorted((e for e in edges if e.linked), key=lambda e: (-e.match_probability, e.a, e.b)):
        ra, rb = find(e.a), find(e.b)
        if ra != rb:
            parent[ra] = rb
            tree.append(e)
    return min(tree, key=lambda e: (e.match_probability, e.a, e.b)) if tree else None


def explain_golden(store: Store, golden_id: str, *, threshold: float) -> GoldenExplanation:
    """Explain a golden record as published. Reads the snapshot only (a reader: works while
    a run holds the store); the decisions shown are the log as of the published run, with
    their status then, i.e. the decisions that shaped this golden record."""
    with store.reader() as con:
        tables = set(Store.tables(con))
        if "cluster_edges" not in tables:
            raise StoreError(
                f"the snapshot {store.snapshot_path} was written by an older omnimdm and "
                "lacks what explain reads; run `omnimdm run` once to refresh it"
            )
        keys = entity_members(con, golden_id)
        edges = [
            EdgeInfo(
                RecordKey(r[0], r[1]),
                RecordKey(r[2], r[3]),
                float(r[4]),
                float(r[5]),
                float(r[4]) >= threshold,
            )
            for r in con.sql(
                """WITH m AS (SELECT * FROM clusters WHERE golden_id = $g)
                    SELECT a.source, a.source_record_id, b.source, b.source_record_id,
                           p.match_probability, p.match_weight
                    FROM cluster_edges p JOIN m a ON a.record_id = p.record_id_l
                    JOIN m b ON b.record_id = p.record_id_r
                    ORDER BY p.match_probability DESC, 1, 2, 3, 4""",
                params={"g": golden_id},
            ).fetchall()
        ]
        lineage = [
            (str(f), None if v is None else str(v), RecordKey(s, i), str(rule))
            for f, v, s, i, rule in con.sql(
                "SELECT field, value, source, source_record_id, rule FROM golden_lineage "
                "WHERE golden_id = $g ORDER BY field",
                params={"g": golden_id},
            ).fetchall()
        ]
        member_set = set(keys)
        logged = load_decisions(con, include_revoked=True) if "review_decisions" in tables else []
        involved = [d for d in logged if d.a in member_set or d.b in member_set]
        decisions = with_status(con, involved, "decision_records")
    forced = [(d.a, d.b) for d, s in decisions if s == "active" and d.decision == "same"]
    return GoldenExplanation(
        golden_id=golden_id,
        threshold=threshold,
        members=keys,
        edges=edges,
        weakest=weakest_link(keys, edges, forced),
        lineage=lineage,
        decisions=decisions,
    )


@dataclass(frozen=True)
class PairReport:
    a: RecordKey
    b: RecordKey
    explanation: PairExplanation
    scored_in_run: float | None  # the last run's probability when the pair was blocked
    golden_a: str | None
    golden_b: str | None
    threshold: float
    decision: tuple[Decision, Status] | None


def explain_pair(
    store: Store,
    a: RecordKey,
    b: RecordKey,
    *,
    threshold: float,
    matching: MatchingConfig | None = None,
) -> PairReport:
    if a == b:
        raise ReviewError("explain-pair needs two different records")
    with published(store, "explain-pair") as con:
        return _explain_pair(con, a, b, threshold, matching)


def _explain_pair(
    con: duckdb.DuckDBPyConnection,
    a: RecordKey,
    b: RecordKey,
    threshold: float,
    matching: MatchingConfig | None = None,
) -> PairReport:
    scorer = PairScorer(latest_model(con), matching)
    try:
        explanation = scorer.explain(con, [(a.record_id, b.record_id)])[0]
    finally:
        scorer.close()
    if explanation is None:
        present = {
            RecordKey(s, i)
            for s, i in con.sql(
                "SELECT source, source_record_id FROM norm_customers WHERE record_id IN ($a, $b)",
                params={"a": a.record_id, "b": b.record_id},
            ).fetchall()
        }
        unknown = ", ".join(str(k) for k in (a, b) if k not in present)
        raise ReviewError(
            f"unknown record {unknown}: not among the records of the last published run"
        )
    lo, hi = sorted((a.record_id, b.record_id))
    scored = con.sql(
        "SELECT match_probability FROM match_pairs WHERE record_id_l = $l AND record_id_r = $r",
        params={"l": lo, "r": hi},
    ).fetchall()
    golden = dict(
        con.sql(
            "SELECT record_id, golden_id FROM clusters WHERE record_id IN ($a, $b)",
            params={"a": a.record_id, "b": b.record_id},
        ).fetchall()
    )
    pair = {a, b}
    decision = next(
        ((d, s) for d, s in with_status(con, load_decisions(con)) if {d.a, d.b} == pair),
        None,
    )
    return PairReport(
        a=a,
        b=b,
        explanation=explanation,
        scored_in_run=float(scored[0][0]) if scored else None,
        golden_a=golden.get(a.record_id),
        golden_b=golden.get(b.record_id),
        threshold=threshold,
        decision=decision,
    )

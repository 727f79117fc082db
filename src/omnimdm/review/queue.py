"""The review queue each run builds (``review_queue``), ordered by impact.

Three kinds of items, none on a pair that already has a decision:

* ``uncertain`` - pairs scored in ``[review.band_low, threshold)`` whose records ended in
  different clusters: not linked while undecided.
* ``weak_link`` - linked pairs below ``review.weak_link_below`` that alone hold their
  cluster together (a bridge of the cluster's link graph: without it the cluster splits).
* ``recheck`` - decisions whose records changed since they were made (flagged, not
  applied until a steward confirms or revokes them).

``uncertainty = 1 - |2p - 1|`` (1 at p = 0.5, 0 at p = 0 or 1; 1 for rechecks);
``records_affected`` is the number of records whose golden record the decision changes
(both clusters for an uncertain pair or a recheck, the whole cluster for a weak link);
``impact = uncertainty x records_affected``. ``position`` numbers the items by impact.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import duckdb
import pyarrow as pa

from omnimdm.config import ReviewConfig
from omnimdm.review.decisions import Decision, Status

QUEUE_KINDS = ("recheck", "uncertain", "weak_link")


def bridges(edges: Sequence[tuple[int, int]]) -> set[int]:
    """Indices of the edges whose removal disconnects their component (iterative Tarjan)."""
    adj: dict[int, list[tuple[int, int]]] = {}
    for i, (u, v) in enumerate(edges):
        adj.setdefault(u, []).append((v, i))
        adj.setdefault(v, []).append((u, i))
    disc: dict[int, int] = {}
    low: dict[int, int] = {}
    found: set[int] = set()
    clock = 0
    for root in adj:
        if root in disc:
            continue
        disc[root] = low[root] = clock
        clock += 1
        stack = [(root, -1, iter(adj[root]))]
        while stack:
            node, via, neighbours = stack[-1]
            for nxt, edge in neighbours:
                if edge == via:
                    continue
                if nxt in disc:
                    low[node] = min(low[node], disc[nxt])
                    continue
                disc[nxt] = low[nxt] = clock
                clock += 1
                stack.append((nxt, edge, iter(adj[nxt])))
                break
            else:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[node])
                    if low[node] > disc[parent]:
                        found.add(via)
    return found


def _pairs_table(pairs: Iterable[tuple[int, int]]) -> pa.Table:
    lo, hi = [], []
    for a, b in pairs:
        lo.append(min(a, b))
        hi.append(max(a, b))
    return pa.table({"lo": pa.array(lo, pa.int64()), "hi": pa.array(hi, pa.int64())})


def _weak_links(
    con: duckdb.DuckDBPyConnection,
    *,
    pairs: str,
    clusters: str,
    threshold: float,
    weak_below: float,
    must_links: list[tuple[int, int]],
) -> pa.Table:
    """Candidate weak links (undecided, in-cluster, below ``weak_below``) that are bridges."""
    candidates = con.sql(
        f"""SELECT p.record_id_l, p.record_id_r, cl.golden_id FROM {pairs} p
        JOIN {clusters} cl ON cl.record_id = p.record_id_l
        JOIN {clusters} cr ON cr.record_id = p.record_id_r AND cr.golden_id = cl.golden_id
        ANTI JOIN rq_decided d ON d.lo = least(p.record_id_l, p.record_id_r)
            AND d.hi = greatest(p.record_id_l, p.record_id_r)
        WHERE p.match_probability >= $t AND p.match_probability < $w""",
        params={"t": threshold, "w": weak_below},
    ).fetchall()
    if not candidates:
        return _pairs_table([])
    con.register("rq_weak_gids", pa.table({"golden_id": sorted({g for _, _, g in candidates})}))
    graph: dict[str, list[tuple[int, int]]] = {}
    for left, right, gid in con.sql(
        f"""SELECT p.record_id_l, p.record_id_r, cl.golden_id FROM {pairs} p
        JOIN {clusters} cl ON cl.record_id = p.record_id_l
        JOIN {clusters} cr ON cr.record_id = p.record_id_r AND cr.golden_id = cl.golden_id
        SEMI JOIN rq_weak_gids g ON g.golden_id = cl.golden_id
        WHERE p.match_probability >= $t""",
        params={"t": threshold},
    ).fetchall():
        graph.setdefault(gid, []).append((min(left, right), max(left, right)))
    con.unregister("rq_weak_gids")
    gid_of = {r: g for g, edges in graph.items() for e in edges for r in e}
    for a, b in must_links:  # a steward's `same` holds a cluster together too
        if a in gid_of and gid_of.get(b) == gid_of[a]:
            graph[gid_of[a]].append((min(a, b), max(a, b)))
    weak: list[tuple[int, int]] = []
    wanted = {(min(a, b), max(a, b)) for a, b, _ in candidates}
    for edges in graph.values():
        unique = sorted(set(edges))
        weak.extend(unique[i] for i in bridges(unique) if unique[i] in wanted)
    return _pairs_table(weak)


def build_queue(
    con: duckdb.DuckDBPyConnection,
    *,
    pairs: str,
    clusters: str,
    decisions: Sequence[tuple[Decision, Status]],
    threshold: float,
    review: ReviewConfig,
    run_id: int,
    out: str,
) -> dict[str, int]:
    """Write ``out`` (the ``review_queue`` schema) and return item counts by kind."""
    live = [(d, s) for d, s in decisions if s != "revoked"]
    con.register("rq_decided", _pairs_table((d.a.record_id, d.b.record_id) for d, _ in live))
    recheck = [d for d, s in live if s == "changed"]
    con.register(
        "rq_recheck",
        pa.table(
            {
                "decision_id": pa.array([d.decision_id for d in recheck], pa.int32()),
                "record_id_l": pa.array([d.a.record_id for d in recheck], pa.int64()),
                "record_id_r": pa.array([d.b.record_id for d in recheck], pa.int64()),
            }
        ),
    )
    must = [
        (d.a.record_id, d.b.record_id) for d, s in live if s == "active" and d.decision == "same"
    ]
    con.register(
        "rq_weak",
        _weak_links(
            con,
            pairs=pairs,
            clusters=clusters,
            threshold=threshold,
            weak_below=review.weak_link_below,
            must_links=must,
        ),
    )
    band_low = min(review.band_low, threshold)
    con.execute(
        f"""CREATE TABLE {out} AS
        WITH sizes AS (SELECT golden_id, count(*) AS n FROM {clusters} GROUP BY golden_id),
        items AS (
            SELECT 'uncertain' AS kind, p.record_id_l, p.record_id_r, p.match_probability,
                   p.match_weight, NULL::INTEGER AS decision_id
            FROM {pairs} p
            JOIN {clusters} cl ON cl.record_id = p.record_id_l
            JOIN {clusters} cr ON cr.record_id = p.record_id_r
            ANTI JOIN rq_decided d ON d.lo = least(p.record_id_l, p.record_id_r)
                AND d.hi = greatest(p.record_id_l, p.record_id_r)
            WHERE p.match_probability >= $band_low AND p.match_probability < $t
              AND cl.golden_id <> cr.golden_id
            UNION ALL
            SELECT 'weak_link', p.record_id_l, p.record_id_r, p.match_probability,
                   p.match_weight, NULL
            FROM {pairs} p SEMI JOIN rq_weak w
                ON w.lo = least(p.record_id_l, p.record_id_r)
                AND w.hi = greatest(p.record_id_l, p.record_id_r)
            UNION ALL
            SELECT 'recheck', r.record_id_l, r.record_id_r, p.match_probability,
                   p.match_weight, r.decision_id
            FROM rq_recheck r LEFT JOIN {pairs} p
                ON least(p.record_id_l, p.record_id_r) = least(r.record_id_l, r.record_id_r)
                AND greatest(p.record_id_l, p.record_id_r)
                    = greatest(r.record_id_l, r.record_id_r)
        ),
        scored AS (
            SELECT i.*, cl.source AS source_l, cl.source_record_id AS source_record_id_l,
                   cr.source AS source_r, cr.source_record_id AS source_record_id_r,
                   cl.golden_id AS golden_id_l, cr.golden_id AS golden_id_r,
                   CASE WHEN i.kind = 'recheck' THEN 1.0
                        ELSE 1 - abs(2 * i.match_probability - 1) END AS uncertainty,
                   (sl.n + CASE WHEN cl.golden_id = cr.golden_id THEN 0 ELSE sr.n END)::INTEGER
                       AS records_affected
            FROM items i
            JOIN {clusters} cl ON cl.record_id = i.record_id_l
            JOIN {clusters} cr ON cr.record_id = i.record_id_r
            JOIN sizes sl ON sl.golden_id = cl.golden_id
            JOIN sizes sr ON sr.golden_id = cr.golden_id
        )
        SELECT (row_number() OVER (ORDER BY uncertainty * records_affected DESC,
                    kind, source_l, source_record_id_l, source_r, source_record_id_r))::INTEGER
                   AS position,
               kind, record_id_l, record_id_r, source_l, source_record_id_l,
               source_r, source_record_id_r, golden_id_l, golden_id_r,
               match_probability, match_weight, uncertainty, records_affected,
               uncertainty * records_affected AS impact, decision_id, $run::INTEGER AS run_id
        FROM scored ORDER BY position""",
        {"band_low": band_low, "t": threshold, "run": run_id},
    )
    for name in ("rq_decided", "rq_recheck", "rq_weak"):
        con.unregister(name)
    rows = con.sql(f"SELECT kind, count(*) FROM {out} GROUP BY kind").fetchall()
    counts = {f"queue_{k}": 0 for k in QUEUE_KINDS}
    counts.update({f"queue_{k}": int(n) for k, n in rows})
    counts["queue_items"] = sum(counts.values())
    return counts

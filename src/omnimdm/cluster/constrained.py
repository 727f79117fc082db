"""Clustering with constraints: steward decisions > automatic rules > model edges.

Plain connected components (from Splink) are kept wherever they hold no conflict. A
component that would join two records the rules keep apart is re-clustered greedily:
its edges are added strongest first (must-links before everything), and an edge whose two
sides conflict is skipped, so the weakest links between the two sides are the ones cut.
Only conflicting components reach Python, so the cost stays small at a million records.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from omnimdm.cluster.constraints import Identity, any_conflict

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Edge:
    left: int
    right: int
    weight: float
    must_link: bool = False


def constrained_components(
    nodes: dict[int, Identity],
    edges: Iterable[Edge],
    cannot_link: AbstractSet[tuple[int, int]] = frozenset(),
) -> tuple[dict[int, int], int]:
    """Greedy constrained merge. Returns (record -> cluster key, edges cut).

    The cluster key is the smallest record id of the cluster (deterministic). Edges are
    taken must-links first, then by weight descending, then by ids, so the result does not
    depend on input order.
    """
    parent = {n: n for n in nodes}
    ident = {n: nodes[n] for n in nodes}
    members = {n: {n} for n in nodes}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    cut = 0
    ordered = sorted(edges, key=lambda e: (not e.must_link, -e.weight, e.left, e.right))
    for e in ordered:
        a, b = find(e.left), find(e.right)
        if a == b:
            continue
        blocked = not e.must_link and (
            ident[a].conflicts_with(ident[b]) is not None
            or bool(cannot_link)
            and any((min(x, y), max(x, y)) in cannot_link for x in members[a] for y in members[b])
        )
        if blocked:
            cut += 1
            continue
        keep, drop = (a, b) if len(members[a]) >= len(members[b]) else (b, a)
        parent[drop] = keep
        ident[keep].absorb(ident[drop])
        members[keep] |= members.pop(drop)
        ident.pop(drop)
    keys: dict[int, int] = {}
    for group in members.values():
        key = min(group)
        for n in group:
            keys[n] = key
    return keys, cut


def apply_constraints(
    con: duckdb.DuckDBPyConnection,
    *,
    clusters: str,
    pairs: str,
    norm: str,
    threshold: float,
    out: str,
) -> dict[str, int]:
    """Write ``out`` (record_id, cluster_key) from plain ``clusters``, re-clustering the
    components that hold a conflict under :mod:`constraints`."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE cc_ident AS
        SELECT c.record_id, c.cluster_key, n.birth_date,
               CASE WHEN n.national_id_match IS NOT NULL THEN n.national_id_kind END AS id_kind,
               n.national_id_match AS id_value
        FROM {clusters} c JOIN {norm} n USING (record_id)
    """)
    # components with two distinct full birth dates or two ids of one kind may conflict;
    # the exact rule is checked in Python on these few
    suspects = con.sql("""
        SELECT cluster_key FROM cc_ident GROUP BY cluster_key
        HAVING count(DISTINCT birth_date) > 1
            OR count(DISTINCT id_kind || ':' || id_value) > count(DISTINCT id_kind)
    """).fetchall()
    keys = [k for (k,) in suspects]
    rows = con.sql(
        "SELECT record_id, cluster_key, birth_date, id_kind, id_value FROM cc_ident "
        "WHERE list_contains($k, cluster_key) ORDER BY record_id",
        params={"k": keys},
    ).fetchall()
    by_component: dict[int, dict[int, Identity]] = {}
    for rid, ckey, dob, kind, value in rows:
        by_component.setdefault(ckey, {})[rid] = Identity.of(dob, kind, value)
    edges_by_component: dict[int, list[Edge]] = {}
    for left, right, weight, ckey in con.sql(
        f"SELECT p.record_id_l, p.record_id_r, p.match_weight, c.cluster_key "
        f"FROM {pairs} p JOIN cc_ident c ON c.record_id = p.record_id_l "
        "WHERE p.match_probability >= $t AND list_contains($k, c.cluster_key)",
        params={"t": threshold, "k": keys},
    ).fetchall():
        edges_by_component.setdefault(ckey, []).append(Edge(left, right, float(weight)))
    new_keys: dict[int, int] = {}
    cut = split = 0
    for ckey, nodes in by_component.items():
        if not any_conflict(nodes.values()):
            continue
        assigned, n_cut = constrained_components(nodes, edges_by_component.get(ckey, []))
        cut += n_cut
        split += len(set(assigned.values())) > 1
        new_keys.update(assigned)
    relabel = pa.table(
        {"record_id": list(new_keys), "new_key": list(new_keys.values())},
        schema=pa.schema([("record_id", pa.int64()), ("new_key", pa.int64())]),
    )
    con.register("cc_relabel", relabel)
    con.execute(
        f"CREATE TABLE {out} AS SELECT c.record_id, coalesce(r.new_key, c.cluster_key) "
        f"AS cluster_key FROM {clusters} c LEFT JOIN cc_relabel r USING (record_id)"
    )
    con.unregister("cc_relabel")
    con.execute("DROP TABLE cc_ident")
    log.info("constraints: %d suspect components, %d split, %d edges cut", len(keys), split, cut)
    return {"components_checked": len(keys), "components_split": split, "edges_cut": cut}

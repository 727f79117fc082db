"""Clustering with constraints: steward decisions > automatic rules > model edges.

Plain connected components (from Splink) are kept wherever they hold no conflict and no
steward decision. A component that would join two records the rules keep apart, or that
a steward decision touches, is re-clustered greedily: steward must-links are merged first
(joining components below the threshold if need be), then model edges strongest first; an
edge whose two sides conflict (automatic rule or steward cannot-link) is skipped, so the
weakest links between the two sides are the ones cut. Only those components reach
Python, so the cost stays small at a million records.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from omnimdm.cluster.constraints import Identity, StewardLinks, any_conflict

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
    depend on input order. A must-link outranks the automatic rules; a cannot-link
    (steward ``different``) blocks every edge, must-links included (a consistent set of
    decisions never needs that).
    """
    parent = {n: n for n in nodes}
    ident = {n: nodes[n] for n in nodes}
    members = {n: {n} for n in nodes}
    cannot: dict[int, set[int]] = {}
    for x, y in cannot_link:
        if x in nodes and y in nodes:
            cannot.setdefault(x, set()).add(y)
            cannot.setdefault(y, set()).add(x)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def steward_apart(a: int, b: int) -> bool:
        small, other = (a, b) if len(members[a]) <= len(members[b]) else (b, a)
        return any(find(y) == other for x in members[small] for y in cannot.get(x, ()))

    cut = 0
    ordered = sorted(edges, key=lambda e: (not e.must_link, -e.weight, e.left, e.right))
    for e in ordered:
        if e.left not in parent or e.right not in parent:
            continue
        a, b = find(e.left), find(e.right)
        if a == b:
            continue
        blocked = (bool(cannot) and steward_apart(a, b)) or (
            not e.must_link and ident[a].conflicts_with(ident[b]) is not None
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


def _steward_groups(key_of: dict[int, int], steward: StewardLinks) -> dict[int, set[int]]:
    """Components (by cluster key) that steward must-links join: root key -> member keys."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for rid in steward.records():
        if rid in key_of:
            find(key_of[rid])
    for a, b in steward.must_link:
        if a in key_of and b in key_of:
            ra, rb = find(key_of[a]), find(key_of[b])
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, set[int]] = {}
    for key in list(parent):
        groups.setdefault(find(key), set()).add(key)
    return groups


def _register_ids(con: duckdb.DuckDBPyConnection, name: str, ids: Iterable[int]) -> None:
    con.register(name, pa.table({"id": pa.array(sorted(ids), type=pa.int64())}))


def apply_constraints(
    con: duckdb.DuckDBPyConnection,
    *,
    clusters: str,
    pairs: str,
    norm: str,
    threshold: float,
    out: str,
    steward: StewardLinks | None = None,
) -> dict[str, int]:
    """Write ``out`` (record_id, cluster_key) from plain ``clusters``, re-clustering the
    components that hold a conflict under :mod:`constraints` or a steward decision."""
    steward = steward or StewardLinks()
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE cc_ident AS
        SELECT c.record_id, c.cluster_key, n.birth_date,
               CASE WHEN n.national_id_match IS NOT NULL THEN n.national_id_kind END AS id_kind,
               n.national_id_match AS id_value
        FROM {clusters} c JOIN {norm} n USING (record_id)
    """)
    # components with two distinct full birth dates or two ids of one kind may conflict;
    # the exact rule is checked in Python on these few
    suspects = {
        k
        for (k,) in con.sql("""
        SELECT cluster_key FROM cc_ident GROUP BY cluster_key
        HAVING count(DISTINCT birth_date) > 1
            OR count(DISTINCT id_kind || ':' || id_value) > count(DISTINCT id_kind)
    """).fetchall()
    }
    _register_ids(con, "cc_steward_ids", steward.records())
    key_of = {
        rid: key
        for rid, key in con.sql(
            "SELECT record_id, cluster_key FROM cc_ident SEMI JOIN cc_steward_ids s "
            "ON s.id = record_id"
        ).fetchall()
    }
    con.unregister("cc_steward_ids")
    groups = _steward_groups(key_of, steward)
    group_of = {key: root for root, keys in groups.items() for key in keys}
    for key in suspects:
        if key not in group_of:
            groups[key] = {key}
            group_of[key] = key
    _register_ids(con, "cc_keys", group_of)
    by_group: dict[int, dict[int, Identity]] = {}
    for rid, ckey, dob, kind, value in con.sql(
        "SELECT record_id, cluster_key, birth_date, id_kind, id_value FROM cc_ident "
        "SEMI JOIN cc_keys k ON k.id = cluster_key ORDER BY record_id"
    ).fetchall():
        by_group.setdefault(group_of[ckey], {})[rid] = Identity.of(dob, kind, value)
    edges_by_group: dict[int, list[Edge]] = {}
    for left, right, weight, ckey in con.sql(
        f"SELECT p.record_id_l, p.record_id_r, p.match_weight, c.cluster_key "
        f"FROM {pairs} p JOIN cc_ident c ON c.record_id = p.record_id_l "
        "SEMI JOIN cc_keys k ON k.id = c.cluster_key WHERE p.match_probability >= $t",
        params={"t": threshold},
    ).fetchall():
        edges_by_group.setdefault(group_of[ckey], []).append(Edge(left, right, float(weight)))
    for a, b in sorted(steward.must_link):
        if a in key_of and b in key_of:
            edges_by_group.setdefault(group_of[key_of[a]], []).append(
                Edge(a, b, float("inf"), must_link=True)
            )
    con.unregister("cc_keys")
    touched = {group_of[key] for key in key_of.values()}
    new_keys: dict[int, int] = {}
    cut = split = 0
    for root, nodes in by_group.items():
        if root not in touched and not any_conflict(nodes.values()):
            continue
        assigned, n_cut = constrained_components(
            nodes, edges_by_group.get(root, []), steward.cannot_link
        )
        cut += n_cut
        split += len(set(assigned.values())) > len(groups[root])
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
    joined = sum(1 for keys_ in groups.values() if len(keys_) > 1)
    log.info(
        "constraints: %d components checked, %d split, %d joined by stewards, %d edges cut",
        len(by_group),
        split,
        joined,
        cut,
    )
    return {
        "components_checked": len(by_group),
        "components_split": split,
        "components_joined_by_steward": joined,
        "edges_cut": cut,
    }

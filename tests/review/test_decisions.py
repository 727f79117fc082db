"""Steward decisions drive every run: different cuts, same joins, retraining keeps them,
contradictions are refused, a changed record flags its decision, split and merge."""

from __future__ import annotations

import csv
from pathlib import Path

from omnimdm.review.queue import bridges
from tests.review.conftest import StewardEnv


def _key(source: object, sid: object) -> str:
    return f"{source}:{sid}"


def _pair_in_cluster_of(env: StewardEnv, size: int) -> tuple[str, str, str]:
    """Two linked records of a cluster with ``size`` members, and their golden id."""
    row = env.query(
        """SELECT a.source, a.source_record_id, b.source, b.source_record_id, a.golden_id
        FROM clusters a JOIN clusters b ON a.golden_id = b.golden_id AND a.record_id < b.record_id
        JOIN match_pairs p ON p.record_id_l = least(a.record_id, b.record_id)
            AND p.record_id_r = greatest(a.record_id, b.record_id)
        WHERE a.golden_id IN (SELECT golden_id FROM clusters GROUP BY 1 HAVING count(*) = ?)
        ORDER BY a.golden_id, a.record_id, b.record_id LIMIT 1""",
        [size],
    )[0]
    return _key(row[0], row[1]), _key(row[2], row[3]), str(row[4])


def _uncertain(env: StewardEnv, n: int = 1) -> list[tuple[str, str]]:
    rows = env.query(
        "SELECT source_l, source_record_id_l, source_r, source_record_id_r FROM review_queue "
        "WHERE kind = 'uncertain' ORDER BY position LIMIT ?",
        [n],
    )
    return [(_key(r[0], r[1]), _key(r[2], r[3])) for r in rows]


def test_bridges() -> None:
    # a triangle (no bridges) with a tail 3-4-5, and a separate edge 6-7
    edges = [(1, 2), (2, 3), (1, 3), (3, 4), (4, 5), (6, 7)]
    assert bridges(edges) == {3, 4, 5}
    assert bridges([]) == set()
    assert bridges([(1, 2), (1, 2)]) == set()  # parallel edges hold each other


def test_queue_is_ordered_by_impact_and_in_the_band(env: StewardEnv) -> None:
    rows = env.query(
        "SELECT q.position, q.kind, q.match_probability, q.impact, q.golden_id_l, q.golden_id_r "
        "FROM review_queue q ORDER BY position"
    )
    assert rows, "the sample has uncertain pairs"
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    impacts = [r[3] for r in rows]
    assert impacts == sorted(impacts, reverse=True)
    kinds = {r[1] for r in rows}
    assert kinds <= {"uncertain", "weak_link"} and "uncertain" in kinds
    for _, kind, p, _, gl, gr in rows:
        if kind == "uncertain":
            assert 0.5 <= p < 0.95 and gl != gr  # not linked while undecided
        else:
            assert 0.95 <= p < 0.99 and gl == gr
    out = env.ok("review", "list", "--limit", "3")
    assert f"{len(rows):,} undecided pairs" in out


def test_different_and_same_change_clusters_and_survive_retraining(env: StewardEnv) -> None:
    a, b, golden = _pair_in_cluster_of(env, 2)
    ((c, d),) = _uncertain(env)
    assert env.golden_of(c) != env.golden_of(d)
    out = env.ok(
        "review", "decide", a, b, "--different", "--note", "household", "--reviewer", "ana"
    )
    assert "decision #1" in out and "next `omnimdm run`" in out
    env.ok("review", "decide", c, d, "--same")
    # decided pairs leave the queue at once
    listed = env.ok("review", "list", "--limit", "500")
    assert c not in listed or d not in listed
    env.ok("run")
    assert env.golden_of(a) != env.golden_of(b)
    assert env.golden_of(c) == env.golden_of(d)
    counts = env.query(
        "SELECT counts FROM runs WHERE status = 'published' ORDER BY run_id DESC LIMIT 1"
    )
    assert '"decisions_active": 2' in str(counts[0][0])
    # the queue of the new run leaves the decided pairs out
    assert not env.query(
        "SELECT 1 FROM review_queue WHERE (source_l || ':' || source_record_id_l) IN (?, ?) "
        "AND (source_r || ':' || source_record_id_r) IN (?, ?)",
        [c, d, c, d],
    )
    env.ok("run", "--retrain")
    assert env.golden_of(a) != env.golden_of(b)
    assert env.golden_of(c) == env.golden_of(d)
    decisions = env.ok("review", "list", "--decisions")
    assert "ana" in decisions and "active" in decisions
    # revoking restores the model's view at the next run
    env.ok("review", "revoke", a, b)
    env.ok("run")
    assert env.golden_of(a) == env.golden_of(b) == golden


def test_contradiction_is_refused_naming_the_decisions(env: StewardEnv) -> None:
    (a, b), (c, _) = _uncertain(env, 2)
    env.ok("review", "decide", a, b, "--same")
    env.ok("review", "decide", b, c, "--same")
    refused = env.cli("review", "decide", a, c, "--different")
    assert refused.exit_code == 1
    assert "contradicts decision #" in refused.output
    assert "#1" in refused.output and "#2" in refused.output
    assert "Traceback" not in refused.output
    # the direct reversal is a contradiction too
    assert env.cli("review", "decide", b, a, "--different").exit_code == 1
    # the same decision again changes nothing
    assert "already decided" in env.ok("review", "decide", b, a, "--same")
    assert env.query("SELECT count(*) FROM review_decisions")[0][0] == 2
    env.ok("review", "revoke", c, b)
    assert "decision #3" in env.ok("review", "decide", a, c, "--different")


def test_unknown_record_and_bad_key_are_clear_errors(env: StewardEnv) -> None:
    ((a, _),) = _uncertain(env)
    result = env.cli("review", "decide", a, "crm:NOPE", "--same")
    assert result.exit_code == 1 and "unknown record crm:NOPE" in result.output
    result = env.cli("review", "decide", a, "no-colon", "--same")
    assert result.exit_code == 2 and "SOURCE:SOURCE_RECORD_ID" in result.output
    assert env.cli("review", "decide", a, a, "--same").exit_code == 1
    assert env.cli("review", "decide", a, "crm:x").exit_code != 0  # neither --same nor --different


def _edit_record(data: Path, source_record_id: str, column: str, value: str) -> None:
    path = data / "crm_salesforce_contacts.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    fieldnames = list(rows[0])
    hits = [r for r in rows if r["Id"] == source_record_id]
    assert hits
    hits[0][column] = value
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fieldnames)
        writer.writeheader()
        writer.writerows(rows)


def test_changed_record_flags_its_decision(env: StewardEnv) -> None:
    a, b, _ = _pair_in_cluster_of(env, 2)
    crm = a if a.startswith("crm:") else b if b.startswith("crm:") else None
    if crm is None:  # pick a pair with a CRM side
        row = env.query(
            "SELECT a.source_record_id, b.source, b.source_record_id FROM clusters a "
            "JOIN clusters b ON a.golden_id = b.golden_id AND a.record_id <> b.record_id "
            "WHERE a.source = 'crm' ORDER BY 1, 2, 3 LIMIT 1"
        )[0]
        a, b, crm = f"crm:{row[0]}", _key(row[1], row[2]), f"crm:{row[0]}"
    env.ok("review", "decide", a, b, "--different")
    env.ok("run")
    assert env.golden_of(a) != env.golden_of(b)
    # a non-identity field (here the update time) does not flag it; a name change does
    _edit_record(env.data, crm.split(":", 1)[1], "LastModifiedDate", "2030-01-01T00:00:00.000Z")
    env.ok("run")
    counts = env.query("SELECT counts FROM runs ORDER BY run_id DESC LIMIT 1")
    assert '"decisions_changed": 0' in str(counts[0][0])
    assert '"updated": 1' in str(counts[0][0])
    _edit_record(env.data, crm.split(":", 1)[1], "FirstName", "Zacarías")
    out = env.ok("run")
    assert "flagged" in out  # the run says so
    counts = env.query("SELECT counts FROM runs ORDER BY run_id DESC LIMIT 1")
    assert '"decisions_changed": 1' in str(counts[0][0])
    assert "changed" in env.ok("review", "list", "--decisions")
    recheck = env.query("SELECT decision_id FROM review_queue WHERE kind = 'recheck'")
    assert recheck == [(1,)]
    # not applied while flagged: the model decides meanwhile; confirming re-applies it
    confirm = env.ok("review", "decide", a, b, "--different")
    assert "supersedes #1" in confirm
    assert not env.query(
        "SELECT 1 FROM review_decisions WHERE decision_id = 1 AND revoked_at IS NULL"
    )
    env.ok("run")
    assert env.golden_of(a) != env.golden_of(b)
    assert "active" in env.ok("review", "list", "--decisions")
    assert not env.query("SELECT 1 FROM review_queue WHERE kind = 'recheck'")


def test_split_and_merge(env: StewardEnv) -> None:
    members = env.query(
        "SELECT golden_id, list(source || ':' || source_record_id "
        "ORDER BY source, source_record_id) FROM clusters GROUP BY golden_id "
        "HAVING count(*) >= 3 ORDER BY golden_id LIMIT 1"
    )
    golden, keys = members[0][0], list(members[0][1])  # type: ignore[arg-type]
    named = keys[:2]
    out = env.ok("split", str(golden), "--records", ",".join(named), "--note", "twins")
    assert "next `omnimdm run`" in out
    bad = env.cli("split", str(golden), "--records", "crm:NOPE")
    assert bad.exit_code == 1 and "not in" in bad.output
    env.ok("run")
    assert env.golden_of(named[0]) == env.golden_of(named[1])
    assert all(env.golden_of(k) != env.golden_of(named[0]) for k in keys[2:])
    # the steward's split reaches downstream systems as an event: the part that left the
    # entity gets a new id that points back to the one it split from
    part, rest = env.golden_of(named[0]), env.golden_of(keys[2])
    assert rest == golden or part == golden
    split_off = part if rest == golden else rest
    assert env.query(
        "SELECT 1 FROM golden_events WHERE event = 'SPLIT_FROM' AND golden_id = ? "
        "AND related_golden_id = ?",
        [split_off, golden],
    )
    # merge the split-off part back with an unrelated entity
    ((c, _),) = _uncertain(env)
    ga, gb = env.golden_of(named[0]), env.golden_of(c)
    assert ga != gb
    out = env.ok("merge", ga, gb)
    assert "merges" in out
    env.ok("run")
    assert env.golden_of(named[0]) == env.golden_of(c) == env.golden_of(named[1])
    # the steward's merge: one of the two ids survives, the other is retired into it
    survivor = env.golden_of(c)
    retired = gb if survivor == ga else ga
    assert env.query(
        "SELECT 1 FROM golden_events WHERE event = 'MERGED_INTO' AND golden_id = ? "
        "AND related_golden_id = ?",
        [retired, survivor],
    )
    assert env.cli("merge", ga, "GNOPE").exit_code == 1

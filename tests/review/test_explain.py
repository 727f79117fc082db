"""Explanations: a pair's waterfall adds up to the run's score (also for pairs never
blocked together); a golden record's members, edges, weakest link, lineage, decisions."""

from __future__ import annotations

import pytest

from omnimdm.review.explain import EdgeInfo, explain_pair, weakest_link
from omnimdm.review.records import RecordKey
from omnimdm.store import Store
from tests.review.conftest import StewardEnv


def _k(text: str) -> RecordKey:
    return RecordKey.parse(text)


def test_weakest_link_is_the_bottleneck_of_the_strongest_tree() -> None:
    a, b, c, d = (_k(f"crm:{i}") for i in "abcd")
    edges = [
        EdgeInfo(a, b, 0.999, 10, True),
        EdgeInfo(b, c, 0.97, 5, True),
        EdgeInfo(a, c, 0.96, 4, True),  # a cycle: not the one the cluster hangs on
        EdgeInfo(c, d, 0.98, 6, True),
        EdgeInfo(a, d, 0.60, 1, False),  # not linked
    ]
    assert weakest_link([a, b, c, d], edges, []) == edges[1]
    # a steward's `same` between b and c holds them: the next weakest tree edge is c-d
    assert weakest_link([a, b, c, d], edges, [(b, c)]) == edges[3]
    assert weakest_link([a], [], []) is None


def test_pair_waterfall_adds_up_to_the_runs_score(env: StewardEnv) -> None:
    rows = env.query(
        "SELECT a.source || ':' || a.source_record_id, b.source || ':' || b.source_record_id, "
        "p.match_weight, p.match_probability FROM match_pairs p "
        "JOIN norm_customers a ON a.record_id = p.record_id_l "
        "JOIN norm_customers b ON b.record_id = p.record_id_r ORDER BY 1, 2 LIMIT 5"
    )
    threshold = env.config().matching.threshold_match_probability
    for a, b, weight, probability in rows:
        report = explain_pair(Store(env.store), _k(str(a)), _k(str(b)), threshold=threshold)
        e = report.explanation
        assert e.match_weight == pytest.approx(weight, abs=1e-9)
        assert e.match_probability == pytest.approx(probability, abs=1e-9)
        assert e.prior_weight + sum(p.total for p in e.parts) == pytest.approx(weight, abs=1e-9)
        assert report.scored_in_run == pytest.approx(probability, abs=1e-9)
    out = env.ok("explain-pair", str(rows[0][0]), str(rows[0][1]))
    for text in ("prior", "given_name", "birth_date", "total match weight", "scored in the last"):
        assert text in out


def test_pair_never_blocked_together_is_explained(env: StewardEnv) -> None:
    rows = env.query(
        "SELECT a.source || ':' || a.source_record_id, b.source || ':' || b.source_record_id "
        "FROM norm_customers a JOIN norm_customers b ON a.record_id < b.record_id "
        "AND a.surname1_norm <> b.surname1_norm "
        "ANTI JOIN match_pairs p ON p.record_id_l = a.record_id AND p.record_id_r = b.record_id "
        "ORDER BY 1, 2 LIMIT 1"
    )
    a, b = str(rows[0][0]), str(rows[0][1])
    out = env.ok("explain-pair", a, b)
    assert "not blocked together" in out and "not linked" in out
    bad = env.cli("explain-pair", a, "crm:NOPE")
    assert bad.exit_code == 1 and "unknown record crm:NOPE" in bad.output


def test_explain_golden(env: StewardEnv) -> None:
    golden, members = env.query(
        "SELECT golden_id, list(source || ':' || source_record_id ORDER BY source, "
        "source_record_id) FROM clusters GROUP BY golden_id HAVING count(*) = 3 "
        "ORDER BY golden_id LIMIT 1"
    )[0]
    keys = [str(k) for k in members]  # type: ignore[union-attr]
    env.ok("review", "decide", keys[0], keys[1], "--same", "--note", "checked by phone")
    # explain reads the published snapshot: a decision shows once a run has applied it
    assert "checked by" not in env.ok("explain", str(golden))
    env.ok("run")
    out = env.ok("explain", str(golden))
    assert f"{golden}: 3 records" in out
    for key in keys:
        assert key in out
    assert "weakest link:" in out and "explain-pair" in out
    for fld in ("given_name", "surname1", "most_recent"):
        assert fld in out
    assert "checked by" in out and "active" in out  # (the table may wrap the note)
    bad = env.cli("explain", "GNOPE")
    assert bad.exit_code == 1 and "unknown golden id" in bad.output

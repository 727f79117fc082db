"""End to end on seeded synthetic data: accuracy floor, determinism, model reuse."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from omnimdm import Store, load_config, run
from omnimdm.evaluate import blocking_recall, evaluate_snapshot, load_truth
from omnimdm.synthetic import generate
from tests.conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's own data: the recipe `omnimdm demo` and `make bench-demo` use."""
    out = tmp_path_factory.mktemp("synth")
    generate(20_000, out, seed=42)
    return out


def test_demo_pipeline_accuracy_and_determinism(tmp_path: Path, synthetic: Path) -> None:
    base = load_config(REPO / "configs" / "omnimdm.yaml").with_data_dir(synthetic)
    first = base.with_store(tmp_path / "a.duckdb")
    result = run(first, retrain=True)
    assert result.counts["match"]["model"] == "trained"
    for name, c in result.sources.items():
        assert c["read"] == c["accepted"] + c["rejected"] + c["suppressed"], name
    with Store(first.store.path).reader() as con:
        metrics = evaluate_snapshot(con, synthetic / "truth.csv")
    assert metrics.records_without_truth == 0
    assert metrics.f1 >= 0.85, metrics
    assert metrics.precision >= 0.85, metrics

    # blocking: every rule's pairs are counted, and most true pairs reach scoring
    match = result.counts["match"]
    assert sum(match["pairs_per_blocking_rule"].values()) == match["pairs_blocked"]
    assert match["pairs_blocked"] >= match["pairs_scored_kept"] >= match["pairs_linked"]
    with duckdb.connect(str(first.store.path), read_only=True) as con:
        load_truth(con, synthetic / "truth.csv")
        blocking = blocking_recall(con, first.matching)
        kept_true = con.sql(
            "SELECT count(*) FROM match_pairs p "
            "JOIN norm_customers a ON a.record_id = p.record_id_l "
            "JOIN norm_customers b ON b.record_id = p.record_id_r "
            "JOIN truth ta ON ta.source = a.source AND ta.source_record_id = a.source_record_id "
            "JOIN truth tb ON tb.source = b.source AND tb.source_record_id = b.source_record_id "
            "WHERE ta.person_id = tb.person_id"
        ).fetchall()[0][0]
    assert kept_true <= blocking["true_pairs_blocked"] <= blocking["true_pairs"]
    assert blocking["blocking_recall"] >= 0.95, blocking

    # the same inputs and config in a fresh store give the same clusters and golden ids
    second = base.with_store(tmp_path / "b.duckdb")
    run(second, retrain=True)
    query = "SELECT golden_id, source, source_record_id FROM crosswalk ORDER BY ALL"
    a = duckdb.connect(str(first.store.path.with_name("a.snapshot.duckdb")), read_only=True)
    b = duckdb.connect(str(second.store.path.with_name("b.snapshot.duckdb")), read_only=True)
    assert a.sql(query).fetchall() == b.sql(query).fetchall()
    a.close()
    b.close()

    # a rerun reuses the saved model and reproduces the published crosswalk
    again = run(first)
    assert again.counts["match"]["model"] == "reused"
    with Store(first.store.path).reader() as con:
        assert evaluate_snapshot(con, synthetic / "truth.csv") == metrics

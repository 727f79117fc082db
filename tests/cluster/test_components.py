"""Connected components over numpy arrays give Splink's clusters, labelled by smallest id."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest
from splink import DuckDBAPI, Linker, SettingsCreator
from splink import comparison_library as cl

from omnimdm.cluster.components import component_labels


def _ids(*values: int) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def test_hand_made_graph() -> None:
    # a chain given backwards (needs several rounds), a star, a self-contained pair, loners
    ids = _ids(3, 5, 8, 13, 21, 34, 55, 89, 144, 233)
    left = _ids(144, 89, 55, 13, 13, 233, 3)
    right = _ids(233, 144, 89, 21, 34, 55, 5)
    labels = component_labels(ids, left, right)
    assert dict(zip(ids.tolist(), labels.tolist(), strict=True)) == {
        3: 3, 5: 3, 8: 8, 13: 13, 21: 13, 34: 13, 55: 55, 89: 55, 144: 55, 233: 55,
    }  # fmt: skip
    assert component_labels(_ids(), _ids(), _ids()).size == 0
    assert component_labels(ids, _ids(), _ids()).tolist() == ids.tolist()


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="sorted"):
        component_labels(_ids(2, 1), _ids(), _ids())
    with pytest.raises(ValueError, match="not in ids"):
        component_labels(_ids(1, 2), _ids(1), _ids(3))


def test_random_graphs_match_splink_clustering() -> None:
    rng = np.random.default_rng(7)
    con = duckdb.connect()
    for trial in range(3):
        ids = np.unique(rng.integers(0, 5000, 800)).astype(np.int64)
        n_links = 700 + 200 * trial
        left, right = rng.choice(ids, n_links), rng.choice(ids, n_links)
        keep = left != right
        left, right = np.minimum(left, right)[keep], np.maximum(left, right)[keep]
        con.execute(
            "CREATE OR REPLACE TABLE nodes AS SELECT unnest($ids) AS record_id",
            {"ids": ids.tolist()},
        )
        con.execute(
            "CREATE OR REPLACE TABLE links AS SELECT unnest($l) AS record_id_l, "
            "unnest($r) AS record_id_r, 0.99 AS match_probability",
            {"l": left.tolist(), "r": right.tolist()},
        )
        api = DuckDBAPI(connection=con)
        linker = Linker(
            api.register("nodes", table_name=f"nodes_{trial}"),
            SettingsCreator(
                link_type="dedupe_only",
                unique_id_column_name="record_id",
                comparisons=[cl.ExactMatch("record_id")],
            ),
            log_level=None,
        )
        predictions = linker.table_management.register_table_predict(
            api.register("links", table_name=f"links_{trial}")
        )
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=0.5
        )
        splink = dict(
            con.sql(f"SELECT record_id, cluster_id FROM {clusters.physical_name}").fetchall()
        )
        ours = dict(zip(ids.tolist(), component_labels(ids, left, right).tolist(), strict=True))
        # the same partition
        groups_ours: dict[int, set[int]] = {}
        groups_splink: dict[object, set[int]] = {}
        for rid in ids.tolist():
            groups_ours.setdefault(ours[rid], set()).add(rid)
            groups_splink.setdefault(splink[rid], set()).add(rid)
        assert sorted(map(sorted, groups_ours.values())) == sorted(
            map(sorted, groups_splink.values())
        )
        assert all(label == min(groups_ours[label]) for label in groups_ours)
        assert len(groups_ours) < len(ids)  # the graph did join records

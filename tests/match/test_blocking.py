"""omnimdm's one-join blocking gives exactly the pairs Splink's own blocking gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from splink import DuckDBAPI, Linker, SettingsCreator
from splink import comparison_library as cl

from omnimdm import load_config, run
from omnimdm.match.blocking import create_blocked_pairs
from omnimdm.match.model import INPUT_TABLE, prepare_input
from omnimdm.match.model_spec import BlockingSpec, blocking_rule, load_model_spec
from omnimdm.match.settings import settings
from omnimdm.synthetic import generate
from tests.conftest import REPO

# hand-made edge cases: nulls in one of two columns, lists with nulls, repeats and no
# elements, two lists exploded together (cross product), pairs several rules find
ROWS = [
    # record_id, a, b, xs, ys
    (1, "ana", 1, ["m1", "m2"], ["y1"]),
    (2, "ana", 1, ["m2"], ["y2"]),
    (3, "ana", None, ["m3", None], None),
    (4, None, 1, [None], ["y1"]),
    (5, "luis", 2, ["m1", "m1"], ["y1", "y2"]),
    (6, "luis", 2, [], ["y2"]),
    (7, "luis", 3, None, []),
    (8, "eva", 4, ["m3"], ["y9"]),
    (9, "eva", 4, ["m4"], ["y9"]),
    (10, None, None, None, None),
]
RULES = [
    BlockingSpec(columns=["xs", "ys"], explode=True),
    BlockingSpec(columns=["xs"], explode=True),
    BlockingSpec(columns=["a", "b"]),
    BlockingSpec(columns=["a"]),
]


def _splink_pairs(con: duckdb.DuckDBPyConnection, model: Any) -> set[tuple]:
    linker = Linker(DuckDBAPI(connection=con).register(INPUT_TABLE), model, log_level=None)
    blocked = linker.inference.compute_blocked_pairs_for_predict()
    rows = con.sql(f"SELECT join_key_l, join_key_r FROM {blocked.physical_name}").fetchall()
    return {(int(left), int(right)) for left, right in rows}


def _ours(con: duckdb.DuckDBPyConnection, rules: list[BlockingSpec]) -> dict[tuple, int]:
    create_blocked_pairs(con, rules, table=INPUT_TABLE, out="ours")
    rows = con.sql("SELECT join_key_l, join_key_r, match_key FROM ours").fetchall()
    return {(int(left), int(right)): int(key) for left, right, key in rows}


def _holds(rule: BlockingSpec, x: dict[str, Any], y: dict[str, Any]) -> bool:
    if rule.explode:
        return all(
            bool({v for v in x[c] or [] if v is not None} & set(y[c] or [])) for c in rule.columns
        )
    return all(x[c] is not None and x[c] == y[c] for c in rule.columns)


def test_hand_made_cases_match_splink_and_name_the_first_rule() -> None:
    con = duckdb.connect()
    con.execute(
        f"CREATE TABLE {INPUT_TABLE} (record_id BIGINT, a VARCHAR, b INTEGER, "
        "xs VARCHAR[], ys VARCHAR[])"
    )
    con.executemany(f"INSERT INTO {INPUT_TABLE} VALUES (?, ?, ?, ?, ?)", ROWS)
    model = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[cl.ExactMatch("a")],
        blocking_rules_to_generate_predictions=[blocking_rule(r) for r in RULES],
    )
    ours = _ours(con, RULES)
    assert set(ours) == _splink_pairs(con, model)
    records = {r[0]: dict(zip(("record_id", "a", "b", "xs", "ys"), r, strict=True)) for r in ROWS}
    expected = {}
    for left in records:
        for right in records:
            if left < right:
                found = [
                    i for i, rule in enumerate(RULES) if _holds(rule, records[left], records[right])
                ]
                if found:
                    expected[(left, right)] = found[0]
    assert ours == expected
    # the cases the rows are there for
    assert expected[(1, 5)] == 0  # an element of both lists in common
    assert expected[(1, 2)] == 1 and expected[(3, 8)] == 1  # one list only
    assert expected[(8, 9)] == 2 and expected[(5, 6)] == 2 and expected[(5, 7)] == 3
    assert (1, 4) not in expected and (4, 10) not in expected  # nulls never agree


@pytest.mark.slow
def test_default_model_on_synthetic_data_matches_splink(tmp_path: Path) -> None:
    data = tmp_path / "data"
    generate(3000, data, seed=11)
    config = (
        load_config(REPO / "configs" / "omnimdm.yaml")
        .with_data_dir(data)
        .with_store(tmp_path / "s.duckdb")
    )
    result = run(config)
    with duckdb.connect(str(config.store.path), read_only=True) as store:
        mem, _ = prepare_input(store, config.matching, norm="norm_customers")
    rules = load_model_spec(config.matching.model).blocking
    ours = _ours(mem, rules)
    assert set(ours) == _splink_pairs(mem, settings(config.matching))
    assert len(ours) == result.counts["match"]["pairs_blocked"] > 1000
    per_rule = result.counts["match"]["pairs_per_blocking_rule"]
    assert list(per_rule.values()) == [
        sum(1 for key in ours.values() if key == i) for i in range(len(rules))
    ]

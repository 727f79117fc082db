"""Accuracy metrics from clusters: pairwise counts and the household hard negatives."""

from __future__ import annotations

import duckdb
import pandas as pd

from omnimdm.evaluate import extended_metrics, pairwise_metrics


def _con(rows: list[tuple[str, str, str, str, str]]) -> duckdb.DuckDBPyConnection:
    """rows: (source_record_id, person_id, household_id, golden_id, full_name_key)."""
    con = duckdb.connect()
    frame = pd.DataFrame(rows, columns=["source_record_id", "person", "hh", "golden", "key"])
    frame["source"] = "crm"
    con.register("f", frame)
    con.execute(
        "CREATE TABLE truth AS SELECT source, source_record_id, person AS person_id, "
        "hh AS household_id FROM f"
    )
    con.execute(
        "CREATE TABLE clusters AS SELECT source, source_record_id, golden AS golden_id FROM f"
    )
    con.execute(
        "CREATE TABLE names AS SELECT source, source_record_id, key AS full_name_key FROM f"
    )
    return con


def test_a_son_named_after_his_father_is_a_same_name_pair_even_where_a_record_lacks_a_key() -> None:
    con = _con(
        [
            # father: two records, one of them with a name key the son never shows
            ("1", "father", "h1", "G1", "juan zarero"),
            ("2", "father", "h1", "G1", "j zarero"),
            # son: same name as one of the father's records; merged with the father
            ("3", "son", "h1", "G1", "juan zarero"),
            # daughter: another name, kept apart
            ("4", "daughter", "h1", "G2", "lucia zarero"),
            # a stranger elsewhere
            ("5", "stranger", "h2", "G3", "ana ruiz"),
        ]
    )
    m = extended_metrics(con, "clusters", "truth", names="names")
    # father x son: both record pairs of the father with the son are same-name pairs
    assert m["same_name_household_pairs"] == 2
    assert m["same_name_household_pairs_merged_rate"] == 1.0
    # father x daughter (2 pairs) and son x daughter (1 pair): other household pairs
    assert m["household_pairs"] == 3
    assert m["household_pairs_merged_rate"] == 0.0
    # G1 holds two persons, G2 and G3 one each
    assert m["false_merge_rate"] == round(1 / 3, 6)
    pw = pairwise_metrics(con, "clusters", "truth")
    assert (pw.true_pairs, pw.predicted_pairs, pw.true_positive_pairs) == (1, 3, 1)


def test_without_names_every_household_pair_is_an_other_member_pair() -> None:
    con = _con(
        [
            ("1", "father", "h1", "G1", "juan zarero"),
            ("3", "son", "h1", "G2", "juan zarero"),
        ]
    )
    m = extended_metrics(con, "clusters", "truth")
    assert m["same_name_household_pairs"] == 0
    assert m["same_name_household_pairs_merged_rate"] is None
    assert m["household_pairs"] == 1

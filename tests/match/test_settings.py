"""The model definition renders for DuckDB and for Spark (scale-out stays open)."""

from __future__ import annotations

import pytest
import sqlglot

from omnimdm.config import MatchingConfig
from omnimdm.match.settings import settings, settings_fingerprint


@pytest.mark.parametrize("dialect", ["duckdb", "spark"])
def test_settings_render_and_parse(dialect: str) -> None:
    rendered = settings(MatchingConfig()).get_settings(dialect).as_dict()
    parsed = 0
    for comparison in rendered["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level["sql_condition"].strip().upper() == "ELSE":
                continue
            sqlglot.parse_one(level["sql_condition"], read=dialect)
            parsed += 1
    for rule in rendered["blocking_rules_to_generate_predictions"]:
        sqlglot.parse_one(rule["blocking_rule"], read=dialect)
    assert parsed >= 20
    if dialect == "spark":
        text = str(rendered).upper()
        # DuckDB-only spellings must have been translated (arrays: size/array_intersect)
        for duckdb_only in ("LIST_", "LEN(", "&&", "JARO_WINKLER_SIMILARITY", "STRFTIME"):
            assert duckdb_only not in text


def test_fingerprint_ignores_trained_values() -> None:
    d = settings(MatchingConfig()).get_settings("duckdb").as_dict()
    trained = {**d, "probability_two_random_records_match": 0.123}
    assert settings_fingerprint(d) == settings_fingerprint(trained)

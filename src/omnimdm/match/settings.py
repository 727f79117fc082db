"""Splink settings from the configured model definition (:mod:`model_spec`).

Comparisons are built from small Splink creators and rendered to SQL only when a Linker
is made, so the same definition serves DuckDB and Spark.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from splink import SettingsCreator
from splink.internals.blocking_rule_creator import BlockingRuleCreator

from omnimdm.config import MatchingConfig
from omnimdm.match.model_spec import blocking_rule, comparison, load_model_spec


def column_sql(matching: MatchingConfig, prefix: str = "") -> str:
    """SELECT list of the model's columns over the canonical table (derived ones computed;
    ``prefix`` qualifies canonical column names, e.g. ``n.``)."""
    spec = load_model_spec(matching.model)
    return ", ".join(
        f"{spec.derived[c]} AS {c}" if c in spec.derived else f"{prefix}{c}" for c in spec.columns
    )


def capped_keys(matching: MatchingConfig) -> dict[str, str]:
    """Broad blocking keys (name -> SQL over the canonical table), capped by block size."""
    return dict(load_model_spec(matching.model).capped_keys)


def comparisons(matching: MatchingConfig) -> list[Any]:
    """The Splink comparison creators of the configured model."""
    return [comparison(c) for c in load_model_spec(matching.model).comparisons]


def prediction_blocking_rules(
    matching: MatchingConfig,
) -> list[BlockingRuleCreator | dict[str, Any]]:
    return [blocking_rule(b) for b in load_model_spec(matching.model).blocking]


def settings(matching: MatchingConfig) -> SettingsCreator:
    """Splink settings for a deduplication of the union of all sources."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=comparisons(matching),
        blocking_rules_to_generate_predictions=prediction_blocking_rules(matching),
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
        additional_columns_to_retain=[],
    )


def settings_fingerprint(settings_dict: dict[str, Any]) -> str:
    """Hash of the model's structure (comparisons, blocking), ignoring trained values."""

    def strip(obj: Any) -> Any:
        if isinstance(obj, dict):
            return {
                k: strip(v)
                for k, v in obj.items()
                if k
                not in (
                    "m_probability",
                    "u_probability",
                    "probability_two_random_records_match",
                    "linker_uid",
                    "tf_minimum_u_value",
                    "sql_dialect",
                )
            }
        if isinstance(obj, list):
            return [strip(v) for v in obj]
        return obj

    return hashlib.sha256(json.dumps(strip(settings_dict), sort_keys=True).encode()).hexdigest()[
        :16
    ]

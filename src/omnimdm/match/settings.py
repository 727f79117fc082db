"""The Splink model definition: comparisons and blocking rules on canonical columns.

Comparisons are built from small Splink creators and rendered to SQL only when a Linker
is made, so the same definition serves DuckDB and Spark.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator, block_on
from splink.internals.blocking_rule_creator import BlockingRuleCreator

from omnimdm.config import MatchingConfig

#: canonical columns the model reads (the match stage sends only these to Splink)
MODEL_COLUMNS = (
    "record_id",
    "source",
    "given_name_norm",
    "given_first_norm",
    "given_names",
    "surname1_norm",
    "surname2_norm",
    "email_match",
    "mobiles_match",
    "landlines_match",
    "birth_date",
    "birth_month",
    "birth_day",
    "postcode",
    "street_number",
    "street_key",
    "city_norm",
    "national_id_match",
    "loyalty_id",
)


def comparisons() -> list[Any]:
    """The comparisons of the default customer model."""
    ymd_l = "strftime(birth_date_l, '%Y%m%d')"
    ymd_r = "strftime(birth_date_r, '%Y%m%d')"
    dob = cl.CustomComparison(
        output_column_name="birth_date",
        comparison_levels=[
            cll.CustomLevel(
                "(birth_date_l IS NULL AND birth_month_l IS NULL) OR "
                "(birth_date_r IS NULL AND birth_month_r IS NULL)",
                label_for_charts="null",
            ).configure(is_null_level=True),
            cll.ExactMatchLevel("birth_date"),
            cll.CustomLevel(
                "year(birth_date_l) = year(birth_date_r) AND birth_month_l = birth_day_r "
                "AND birth_day_l = birth_month_r",
                label_for_charts="day and month swapped",
            ),
            cll.CustomLevel(
                f"damerau_levenshtein({ymd_l}, {ymd_r}) <= 1",
                label_for_charts="one digit off or two transposed",
            ),
            cll.CustomLevel(
                "birth_month_l = birth_month_r AND birth_day_l = birth_day_r",
                label_for_charts="same day and month (year missing or different)",
            ),
            cll.CustomLevel(
                "year(birth_date_l) = year(birth_date_r)", label_for_charts="same year"
            ),
            cll.ElseLevel(),
        ],
    )
    given = cl.CustomComparison(
        output_column_name="given_name",
        comparison_levels=[
            cll.NullLevel("given_name_norm"),
            cll.ExactMatchLevel("given_name_norm", term_frequency_adjustments=True),
            cll.CustomLevel(
                "list_has_any(given_names_l, given_names_r)", label_for_charts="nickname"
            ),
            cll.JaroWinklerLevel("given_name_norm", 0.92),
            cll.ExactMatchLevel("given_first_norm"),
            cll.CustomLevel(
                "given_first_norm_l = surname1_norm_r AND surname1_norm_l = given_first_norm_r",
                label_for_charts="given name and surname swapped",
            ),
            cll.JaroWinklerLevel("given_name_norm", 0.8),
            cll.ElseLevel(),
        ],
    )
    phones = cl.CustomComparison(
        output_column_name="phones",
        comparison_levels=[
            cll.CustomLevel(
                "len(mobiles_match_l) + len(landlines_match_l) = 0 OR "
                "len(mobiles_match_r) + len(landlines_match_r) = 0",
                label_for_charts="null",
            ).configure(is_null_level=True),
            cll.CustomLevel(
                "len(list_intersect(mobiles_match_l, mobiles_match_r)) > 0",
                label_for_charts="shared mobile",
            ),
            # household evidence: members share the landline, the address and the surnames,
            # so EM (which assumes independence) would score it like a shared mobile. Its
            # weight is fixed at +3 bits instead of estimated.
            cll.CustomLevel(
                "len(list_intersect(list_concat(mobiles_match_l, landlines_match_l), "
                "list_concat(mobiles_match_r, landlines_match_r))) > 0",
                label_for_charts="shared landline",
            ).configure(
                m_probability=0.16,
                u_probability=0.02,
                fix_m_probability=True,
                fix_u_probability=True,
            ),
            cll.ElseLevel(),
        ],
    )
    address = cl.CustomComparison(
        output_column_name="address",
        comparison_levels=[
            cll.CustomLevel(
                "(postcode_l IS NULL AND street_key_l IS NULL) OR "
                "(postcode_r IS NULL AND street_key_r IS NULL)",
                label_for_charts="null",
            ).configure(is_null_level=True),
            # a shared address is household evidence (members share it, and their surnames
            # and landline): weights fixed rather than estimated under independence
            cll.CustomLevel(
                "postcode_l = postcode_r AND street_number_l = street_number_r",
                label_for_charts="postcode and number",
            ).configure(
                m_probability=0.64,
                u_probability=0.02,
                fix_m_probability=True,
                fix_u_probability=True,
            ),
            cll.CustomLevel(
                "street_number_l = street_number_r AND "
                "jaro_winkler_similarity(street_key_l, street_key_r) >= 0.88",
                label_for_charts="number and similar street",
            ).configure(
                m_probability=0.16,
                u_probability=0.01,
                fix_m_probability=True,
                fix_u_probability=True,
            ),
            cll.ExactMatchLevel("postcode"),
            cll.ExactMatchLevel("city_norm"),
            cll.ElseLevel(),
        ],
    )
    return [
        given,
        cl.JaroWinklerAtThresholds("surname1_norm", [0.95, 0.85]).configure(
            term_frequency_adjustments=True
        ),
        cl.JaroWinklerAtThresholds("surname2_norm", [0.95]),
        cl.ExactMatch("email_match"),
        phones,
        dob,
        address,
        cl.ExactMatch("national_id_match"),
        cl.ExactMatch("loyalty_id"),
    ]


def prediction_blocking_rules() -> list[BlockingRuleCreator | dict[str, Any]]:
    return [
        block_on("email_match"),
        block_on("mobiles_match", arrays_to_explode=["mobiles_match"]),
        block_on("landlines_match", arrays_to_explode=["landlines_match"]),
        block_on("national_id_match"),
        block_on("loyalty_id"),
        block_on("surname1_norm", "birth_date"),
        block_on("given_first_norm", "surname1_norm", "postcode"),
        block_on("given_first_norm", "birth_date"),
        block_on("name_block"),
        block_on("surname_block"),
        block_on("surname_postcode_block"),
        block_on("given_postcode_block"),
        block_on("address_block"),
    ]


def settings(matching: MatchingConfig) -> SettingsCreator:
    """Splink settings for a deduplication of the union of all sources."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=prediction_blocking_rules(),
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

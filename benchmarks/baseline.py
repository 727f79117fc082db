"""The FROZEN plain-Splink baseline that omnimdm is compared against. Do not tune it.

Stock Splink comparisons on omnimdm's canonical columns (given name, surnames, normalized
e-mail, first phone, birth date, postcode, city), the same blocking rules as omnimdm's
model, stock training (prior from exact e-mail or exact name + birth date, u by random
sampling, EM blocked on names and on birth date), plain connected components at 0.95.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import duckdb
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from omnimdm.config import MatchingConfig
from omnimdm.match.model_spec import load_model_spec
from omnimdm.match.settings import capped_keys, prediction_blocking_rules

THRESHOLD = 0.95
_CAP = MatchingConfig().max_block_size
_SPEC = load_model_spec(MatchingConfig().model)
#: derived columns that omnimdm's blocking rules name: the baseline blocks as omnimdm does,
#: so it follows the rules' columns (its model stays frozen)
_BLOCKING_DERIVED = [
    f"{expr} AS {name}"
    for name, expr in _SPEC.derived.items()
    if any(name in rule.columns for rule in _SPEC.blocking)
]
COLUMNS = (
    "record_id, given_name_norm, surname1_norm, surname2_norm, email_norm, "
    "phones[1] AS phone, birth_date, postcode, street_number, city_norm, given_first_norm, "
    "email_match, mobiles_match, landlines_match, national_id_match, loyalty_id, "
    + "".join(f"{c}, " for c in _BLOCKING_DERIVED)
    + ", ".join(
        f"CASE WHEN count(*) OVER (PARTITION BY {expr}) <= {_CAP} THEN {expr} END AS {name}"
        for name, expr in capped_keys(MatchingConfig()).items()
    )
)


def baseline_clusters(
    norm: duckdb.DuckDBPyConnection,
    table: str = "norm_customers",
    timings: dict[str, Any] | None = None,
) -> list[tuple[int, int]]:
    """(record_id, cluster_id) from the baseline on ``table`` of the given connection.

    ``timings`` (if given) receives seconds for training, blocking + scoring and
    clustering, and the number of pairs scored: measurement only, the model is unchanged.
    """
    timings = timings if timings is not None else {}
    started = time.perf_counter()
    arrow = norm.sql(f"SELECT {COLUMNS} FROM {table} ORDER BY record_id").to_arrow_table()
    mem = duckdb.connect()
    mem.register("a", arrow)
    mem.execute("CREATE TABLE customers AS SELECT * FROM a")
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[
            cl.NameComparison("given_name_norm"),
            cl.NameComparison("surname1_norm"),
            cl.NameComparison("surname2_norm"),
            cl.EmailComparison("email_norm"),
            cl.ExactMatch("phone"),
            cl.DateOfBirthComparison("birth_date", input_is_string=False),
            cl.ExactMatch("postcode"),
            cl.ExactMatch("city_norm"),
        ],
        blocking_rules_to_generate_predictions=prediction_blocking_rules(MatchingConfig()),
    )
    linker = Linker(DuckDBAPI(mem).register("customers"), settings, log_level=None)
    # a failing step (no pairs for a rule) keeps Splink's defaults, as a stock user would
    with contextlib.suppress(Exception):
        linker.training.estimate_probability_two_random_records_match(
            [block_on("email_norm"), block_on("given_name_norm", "surname1_norm", "birth_date")],
            recall=0.7,
        )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=42)
    for rule in (block_on("given_name_norm", "surname1_norm"), block_on("birth_date")):
        with contextlib.suppress(Exception):
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
    timings["train_s"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    # no output threshold: every blocked pair is scored either way, and keeping them all
    # lets the benchmark count them; clusters at THRESHOLD are the same
    predictions = linker.inference.predict()
    timings["block_and_score_s"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=THRESHOLD
    )
    timings["cluster_s"] = round(time.perf_counter() - started, 3)
    timings["pairs_blocked"] = int(
        mem.sql(
            f"SELECT sum(count) FROM (SELECT count(*) AS count FROM {predictions.physical_name})"
        ).fetchall()[0][0]
        or 0
    )
    rows = mem.sql(f"SELECT record_id, cluster_id FROM {clusters.physical_name}").fetchall()
    mem.close()
    return [(int(r), int(c)) for r, c in rows]

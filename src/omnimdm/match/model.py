"""Match stage: train or load the Splink model, score blocked pairs, cluster.

Splink runs on its own in-memory DuckDB connection (its many intermediate tables never
touch the store file); canonical records go in and pairs and clusters come back as Arrow.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from splink import DuckDBAPI, Linker, block_on
from splink.internals.exceptions import SplinkException

from omnimdm.cluster.components import component_labels
from omnimdm.config import MatchingConfig
from omnimdm.match.blocking import create_blocked_pairs
from omnimdm.match.model_spec import load_model_spec
from omnimdm.match.settings import (
    capped_keys,
    column_sql,
    settings,
    settings_fingerprint,
)

log = logging.getLogger(__name__)

INPUT_TABLE = "customers"
#: the candidate pairs of ``INPUT_TABLE`` (:mod:`omnimdm.match.blocking`), scored by predict()
BLOCKED_TABLE = "omnimdm_blocked_pairs"


#: scored pairs below this probability are not kept in ``match_pairs``
KEEP_PAIRS_FROM = 0.01


@dataclass
class MatchResult:
    skipped_block_keys: int
    pairs: int
    pairs_blocked: int
    pairs_per_rule: dict[str, int]
    linked_pairs: int
    model_json: dict[str, Any]
    trained: bool
    timings: dict[str, float] = field(default_factory=dict)
    #: pairs kept per blocking rule (the first rule that found each pair), for the report


def _linker(mem: duckdb.DuckDBPyConnection, model: Any) -> Linker:
    api = DuckDBAPI(connection=mem)
    sdf = api.register(INPUT_TABLE, dataset_display_name="customers")
    return Linker(sdf, model, log_level=None)


def block(mem: duckdb.DuckDBPyConnection, matching: MatchingConfig) -> int:
    """Write the model's blocked pairs of the input to ``BLOCKED_TABLE``; return how many."""
    rules = load_model_spec(matching.model).blocking
    return create_blocked_pairs(mem, rules, table=INPUT_TABLE, out=BLOCKED_TABLE)


def use_blocked_pairs(linker: Linker) -> None:
    """Make ``linker``'s predict() score ``BLOCKED_TABLE`` rather than block again (Splink's
    public hook for pairs blocked elsewhere; the table is registered under a fresh name
    for each linker, as Splink requires)."""
    api = linker._db_api
    sdf = api.register(BLOCKED_TABLE, table_name=f"{BLOCKED_TABLE}_{id(linker):x}")
    cached = linker.table_management.register_blocked_pairs_for_predict(sdf)
    # Registered pairs make Splink's DuckDB predict() first copy the input twice, cut down
    # to the records the pairs name (its path for chunked scoring): 2-2.5 s more at 1M
    # records, for nothing when the pairs cover every record. Unflagged, predict() scores
    # them as pairs it blocked itself.
    cached.metadata["registered_for_predict"] = False


def train(linker: Linker, matching: MatchingConfig) -> None:
    """Prior from near-certain rules, u by seeded random sampling, m by EM sessions; the
    rules and sessions come from the model definition's ``training`` block.

    The default sessions block on email and on postcode+surname (dominated by true matches
    and households rather than random same-name strangers) so that m(name) and m(dob) come
    from sessions that do not fix them.
    """
    tr = matching.training
    spec = load_model_spec(matching.model).training
    _try(
        "prior",
        lambda: linker.training.estimate_probability_two_random_records_match(
            [block_on(*cols) for cols in spec.prior_rules], recall=tr.prior_recall
        ),
    )
    settings_obj = linker._settings_obj
    prior = settings_obj._probability_two_random_records_match
    if not 0 < prior < 1:
        # no deterministic matches at all (tiny or very clean data): assume about one
        # duplicate per record rather than letting log(0) break scoring
        records = int(
            linker._db_api.duckdb_con.sql(f"SELECT count(*) FROM {INPUT_TABLE}").fetchall()[0][0]
        )
        settings_obj._probability_two_random_records_match = min(0.5, 1 / max(records, 2))
        log.warning(
            "prior estimate was %s; using %s",
            prior,
            settings_obj._probability_two_random_records_match,
        )
    _try(
        "u sampling",
        lambda: linker.training.estimate_u_using_random_sampling(
            max_pairs=tr.u_max_pairs, seed=tr.seed
        ),
    )
    sessions = [block_on(*cols) for cols in spec.em_sessions]
    prior = settings_obj._probability_two_random_records_match
    for rule in sessions:
        _try(
            "EM session",
            lambda rule=rule: linker.training.estimate_parameters_using_expectation_maximisation(  # type: ignore[misc]
                rule, estimate_without_term_frequencies=True
            ),
        )
    # EM varies the prior inside its blocks but it is not the population prior; a session
    # that fails half-way (no pairs) must not leave its value behind either
    settings_obj._probability_two_random_records_match = prior


#: the model's own prior stays within this factor of the rule-based estimate
PRIOR_BOUND = 10.0


def prior_from_model(linker: Linker, iterations: int = 200) -> float:
    """Re-estimate the prior from the trained model: the fixed point where the prior equals
    the expected number of matching pairs (the sum of match probabilities over the blocked
    pairs) divided by the number of record pairs.

    The rule-based estimate assumes a recall for its deterministic rules (``prior_recall``),
    which is wrong whenever the data is noisier or cleaner than assumed (FEBRL without the
    social security number: 2.2e-4 for a true 5.2e-4). With m and u trained, each pair's
    Bayes factor is known, and this is the EM update of the mixing weight alone, run over
    every blocked pair. Pairs are summed in key order, so the result is deterministic; it
    stays within ``PRIOR_BOUND`` of the rule-based estimate.
    """
    settings_obj = linker._settings_obj
    start = settings_obj._probability_two_random_records_match
    con = linker._db_api.duckdb_con
    records = int(con.sql(f"SELECT count(*) FROM {INPUT_TABLE}").fetchall()[0][0])
    total_pairs = records * (records - 1) / 2
    if not 0 < start < 1 or total_pairs < 1:
        return float(start)
    try:
        use_blocked_pairs(linker)
        predictions = linker.inference.predict()
    except SplinkException as err:  # pragma: no cover - predict failing means no pairs
        log.warning("prior from model skipped: %s", str(err).splitlines()[0])
        return float(start)
    weights = con.sql(
        f"SELECT match_weight FROM {predictions.physical_name} ORDER BY record_id_l, record_id_r"
    ).fetchnumpy()["match_weight"]
    predictions.drop_table_from_database_and_remove_from_cache()
    # log2 Bayes factor of each pair: its match weight minus the prior's log2 odds
    log_bf = np.asarray(weights, dtype=np.float64) - math.log2(start / (1 - start))
    prior = start
    for _ in range(iterations):
        # clipped: 2^1000 is far past any probability's resolution, 2^1100 overflows
        log_odds = np.clip(log_bf + math.log2(prior / (1 - prior)), -1000.0, 1000.0)
        expected = float(np.sum(1 / (1 + np.exp2(-log_odds))))
        new = min(max(expected / total_pairs, start / PRIOR_BOUND), start * PRIOR_BOUND)
        new = min(new, 0.5)
        if abs(new - prior) <= 1e-9 * prior:
            prior = new
            break
        prior = new
    settings_obj._probability_two_random_records_match = prior
    log.info("prior: rules %.3g, model fixed point %.3g", start, prior)
    return float(prior)


def _try(step: str, fn: Callable[[], object]) -> None:
    """Run a training step; on data too small for it, log and keep the defaults."""
    try:
        fn()
    except (SplinkException, ZeroDivisionError, ValueError) as err:
        text = str(err).strip()
        log.warning("%s skipped: %s", step, text.splitlines()[0] if text else type(err).__name__)


def prepare_input(
    store: duckdb.DuckDBPyConnection, matching: MatchingConfig, *, norm: str
) -> tuple[duckdb.DuckDBPyConnection, int]:
    """Copy the model's columns of ``norm`` into a fresh in-memory connection for Splink.

    Returns the connection and the number of name blocking keys skipped for size.
    """
    cols = column_sql(matching)
    keys = capped_keys(matching)
    # broad keys are blocking keys only while few records share them (capped blocks):
    # pairs per record stay bounded as common names and big postcodes grow with the data
    # one size histogram per key gives both its cap and the blocks it skips
    records = _count(store, norm)
    sizes = {name: _block_sizes(store, norm, expr) for name, expr in keys.items()}
    caps = {name: block_cap(sizes[name], matching, records) for name in keys}
    skipped = sum(g for name in keys for n, g in sizes[name] if n > caps[name])
    # a key value is kept where its block fits the cap: the admitted values of each key
    # (one GROUP BY) joined back, not a window count per key (2.6 s instead of 6.3 s at 1M)
    if keys:
        exprs = ", ".join(f"{expr} AS {name}" for name, expr in keys.items())
        admitted = ", ".join(
            f"s_{name} AS (SELECT {name} AS v FROM base WHERE {name} IS NOT NULL "
            f"GROUP BY {name} HAVING count(*) <= {int(caps[name])})"
            for name in keys
        )
        capped = ", ".join(
            f"CASE WHEN s_{name}.v IS NOT NULL THEN base.{name} END AS {name}" for name in keys
        )
        joins = " ".join(f"LEFT JOIN s_{name} ON s_{name}.v = base.{name}" for name in keys)
        query = (
            f"WITH base AS (SELECT {cols}, {exprs} FROM {norm}), {admitted} "
            f"SELECT base.* REPLACE ({capped}) FROM base {joins} ORDER BY base.record_id"
        )
    else:
        query = f"SELECT {cols} FROM {norm} ORDER BY record_id"
    arrow = store.sql(query).to_arrow_table()
    mem = duckdb.connect(config={"autoinstall_known_extensions": "false"})
    mem.register("customers_arrow", arrow)
    mem.execute(f"CREATE TABLE {INPUT_TABLE} AS SELECT * FROM customers_arrow")
    mem.unregister("customers_arrow")
    return mem, int(skipped)


def _block_sizes(store: duckdb.DuckDBPyConnection, norm: str, expr: str) -> list[tuple[int, int]]:
    """(block size, number of blocks of that size) of a key over ``norm``, by size."""
    rows = store.sql(
        f"SELECT n, count(*) FROM (SELECT count(*) AS n FROM {norm} WHERE {expr} IS NOT NULL "
        f"GROUP BY {expr}) GROUP BY n ORDER BY n"
    ).fetchall()
    return [(int(n), int(g)) for n, g in rows]


def block_cap(sizes: list[tuple[int, int]], matching: MatchingConfig, records: int) -> int:
    """The largest block size for a broad key that keeps its pairs within budget.

    Blocks (``sizes``: :func:`_block_sizes`) are admitted smallest first while their pairs
    add up to at most ``max(min_pairs_per_key, pairs_per_record_per_key x records)``; never
    below ``max_block_size``. Small datasets thus keep big blocks (a few hundred thousand
    pairs are cheap) while large ones stay bounded per record.
    """
    budget = max(matching.min_pairs_per_key, matching.pairs_per_record_per_key * records)
    cap, cumulative = 0, 0
    for n, blocks in sizes:
        cumulative += blocks * (n * (n - 1) // 2)
        if cumulative > budget:
            break
        cap = n
    return max(matching.max_block_size, cap)


def _count(store: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(store.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0])


def round_model(obj: Any, digits: int = 12) -> Any:
    """Every float rounded to ``digits`` significant digits, so that repeated training runs
    (floating-point sums in a different order across threads) save identical models."""
    if isinstance(obj, float):
        return float(f"{obj:.{digits}g}")
    if isinstance(obj, dict):
        return {k: round_model(v, digits) for k, v in obj.items()}
    if isinstance(obj, list):
        return [round_model(v, digits) for v in obj]
    return obj


def train_or_load(
    mem: duckdb.DuckDBPyConnection, matching: MatchingConfig, saved: dict[str, Any] | None
) -> tuple[Linker, dict[str, Any], bool]:
    """A linker with the saved model if it fits the current definition, else a newly
    trained one; the parameters used are exactly the (rounded) ones saved. Training
    scores the blocked pairs, so call :func:`block` on ``mem`` first."""
    fresh = settings(matching)
    fingerprint = settings_fingerprint(fresh.get_settings("duckdb").as_dict())
    if saved is not None and saved.get("omnimdm_fingerprint") == fingerprint:
        model = {k: v for k, v in saved.items() if k != "omnimdm_fingerprint"}
        return _linker(mem, model), dict(saved), False
    if saved is not None:
        log.info("saved model does not fit the current model definition; retraining")
    trainer = _linker(mem, fresh)
    # one thread while training: parallel float sums come out in a varying order, and EM
    # amplifies the last-digit differences; scoring afterwards uses every core again
    threads = mem.sql("SELECT current_setting('threads')").fetchall()[0][0]
    mem.execute("SET threads TO 1")
    try:
        train(trainer, matching)
    finally:
        mem.execute(f"SET threads TO {int(threads)}")
    prior_from_model(trainer)
    model = round_model(trainer.misc.save_model_to_json())
    return _linker(mem, model), {**model, "omnimdm_fingerprint": fingerprint}, True


def _clusters(
    mem: duckdb.DuckDBPyConnection, predictions: str, matching: MatchingConfig
) -> pa.Table:
    """(record_id, cluster_key): connected components of the pairs at or above the
    threshold, keyed by their smallest record id (:mod:`omnimdm.cluster.components`)."""
    ids = mem.sql(f"SELECT record_id FROM {INPUT_TABLE} ORDER BY record_id").fetchnumpy()
    links = mem.sql(
        f"SELECT record_id_l, record_id_r FROM {predictions} WHERE match_probability >= $t",
        params={"t": matching.threshold_match_probability},
    ).fetchnumpy()
    record_ids = np.asarray(ids["record_id"], dtype=np.int64)
    labels = component_labels(
        record_ids,
        np.asarray(links["record_id_l"], dtype=np.int64),
        np.asarray(links["record_id_r"], dtype=np.int64),
    )
    return pa.table({"record_id": record_ids, "cluster_key": labels})


def run_match(
    store: duckdb.DuckDBPyConnection,
    matching: MatchingConfig,
    *,
    norm: str,
    pairs_out: str,
    clusters_out: str,
    saved_model: dict[str, Any] | None,
) -> MatchResult:
    """Score and cluster ``norm``; write ``pairs_out`` and ``clusters_out`` into the store."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    mem, skipped = prepare_input(store, matching, norm=norm)
    timings["load"] = time.perf_counter() - t0
    # the candidate pairs first, in one join (omnimdm.match.blocking); training's prior
    # fixed point scores them too
    t = time.perf_counter()
    pairs_blocked = block(mem, matching)
    timings["block"] = time.perf_counter() - t
    t = time.perf_counter()
    linker, model_json, trained = train_or_load(mem, matching, saved_model)
    if trained:
        timings["train"] = time.perf_counter() - t

    t = time.perf_counter()
    use_blocked_pairs(linker)
    predictions = linker.inference.predict()
    timings["score"] = time.perf_counter() - t
    timings["block_and_score"] = timings["block"] + timings["score"]
    mem.execute(f"DROP TABLE {BLOCKED_TABLE}")
    per_rule = dict(
        mem.sql(
            f"SELECT match_key::INTEGER, count(*) FROM {predictions.physical_name} GROUP BY 1"
        ).fetchall()
    )
    rules = load_model_spec(matching.model).blocking
    pairs_per_rule = {rule.label: int(per_rule.get(i, 0)) for i, rule in enumerate(rules)}
    t = time.perf_counter()
    clusters_arrow = _clusters(mem, predictions.physical_name, matching)
    timings["cluster"] = time.perf_counter() - t

    pairs_arrow = mem.sql(
        f"SELECT record_id_l, record_id_r, match_weight, match_probability "
        f"FROM {predictions.physical_name} WHERE match_probability >= {KEEP_PAIRS_FROM} "
        "ORDER BY record_id_l, record_id_r"
    ).to_arrow_table()
    mem.close()
    store.register("pairs_arrow", pairs_arrow)
    store.execute(f"CREATE TABLE {pairs_out} AS SELECT * FROM pairs_arrow")
    store.unregister("pairs_arrow")
    store.register("clusters_arrow", clusters_arrow)
    store.execute(f"CREATE TABLE {clusters_out} AS SELECT * FROM clusters_arrow")
    store.unregister("clusters_arrow")
    linked = int(
        store.sql(
            f"SELECT count(*) FROM {pairs_out} WHERE match_probability >= $t",
            params={"t": matching.threshold_match_probability},
        ).fetchall()[0][0]
    )
    return MatchResult(
        skipped_block_keys=skipped,
        pairs=pairs_arrow.num_rows,
        pairs_blocked=pairs_blocked,
        pairs_per_rule=pairs_per_rule,
        linked_pairs=linked,
        model_json=model_json,
        trained=trained,
        timings=timings,
    )

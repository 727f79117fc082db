"""The pipeline: STAGES = (ingest, normalize, match, cluster, survive, review).

Each stage reads named tables and writes run-scoped staging tables
(``stg_r{run}_{table}``); nothing is visible to readers until :meth:`Store.publish` swaps
them all in at the end. A failure anywhere marks the run failed and leaves the previously
published results intact.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import duckdb

from omnimdm import faults
from omnimdm.adapters.ingest import (
    LOADED,
    SourceCounts,
    create_ingest_tables,
    create_loaded_table,
    finish_records,
    ingest_source,
)
from omnimdm.cluster.constrained import apply_constraints
from omnimdm.cluster.golden_ids import PreviousIds, assign_golden_ids
from omnimdm.config import Config, SourceConfig
from omnimdm.erase.tombstones import Suppressor
from omnimdm.errors import OmnimdmError, StageError
from omnimdm.match.model import run_match
from omnimdm.normalize.canonical import normalize
from omnimdm.review.decisions import load_decisions, steward_links, with_status
from omnimdm.review.queue import build_queue
from omnimdm.store import Store, scratch_database
from omnimdm.survive.golden import survive
from omnimdm.survive.lineage import lineage_view_sql

log = logging.getLogger(__name__)

#: tables a run publishes (staging name -> published name)
PUBLISHED_TABLES = (
    "src_records",
    "rejects",
    "norm_customers",
    "shared_values",
    "quality_profile",
    "match_pairs",
    "clusters",
    "golden_customers",
    "golden_winners",
    "golden_collected",
    "golden_consent",
    "golden_ids",
    "golden_id_sequence",
    "review_queue",
)
#: logs a run appends to (staging rows inserted into the published table at publish)
APPENDED_TABLES = ("golden_events",)
#: views over the published tables (created with them, and in the snapshot, in order)
PUBLISHED_VIEWS = {
    # record -> golden id with each record's best edge to another member: the clusters
    "crosswalk": "SELECT golden_id, source, source_record_id, record_id, "
    "cluster_match_probability FROM clusters",
    "golden_lineage": lineage_view_sql(
        golden="golden_customers",
        winners="golden_winners",
        collected="golden_collected",
        consent="golden_consent",
        crosswalk="crosswalk",
    ),
}

#: per-source counts every run reports, in display order
SOURCE_COUNTS = (
    "read",
    "accepted",
    "rejected",
    "suppressed",
    "new",
    "updated",
    "unchanged",
    "retired",
    "active",
)

ProgressHook = Callable[[str, str], None]


@dataclass
class RunContext:
    """What a stage needs: the store connection, the config and this run's bookkeeping."""

    con: duckdb.DuckDBPyConnection
    config: Config
    store: Store
    run_id: int
    retrain: bool = False
    counts: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    model_json: dict[str, Any] | None = None
    model_trained: bool = False

    def stg(self, table: str) -> str:
        return self.store.staging(self.run_id, table)

    def has_published(self, table: str) -> bool:
        return table in self.store.tables(self.con, prefix=table)

    def published(self, table: str, *, with_column: str | None = None) -> str | None:
        """``table`` if it is published (and has ``with_column``), else None."""
        if not self.has_published(table):
            return None
        if with_column is not None:
            cols = [r[0] for r in self.con.sql(f"DESCRIBE {table}").fetchall()]
            if with_column not in cols:
                return None
        return table


@dataclass(frozen=True)
class RunResult:
    """What :func:`run` returns: the run id, counts per stage and source, timings."""

    run_id: int
    status: str
    counts: dict[str, Any]
    timings: dict[str, float]
    store_path: str

    @property
    def sources(self) -> dict[str, dict[str, Any]]:
        return dict(self.counts.get("sources", {}))


#: sources ingested at once, each on its own connection (cursor) of the store. Reading,
#: mapping and checking a source is partly single-threaded (the JSON parser, the CSV
#: sniffer, row checks), so two at a time keep both cores of the CI machine busy: at 1M
#: records ingest went from 11.3 s to 8.3 s; four at a time was slower (8.8 s).
PARALLEL_SOURCES = 2


def stage_ingest(ctx: RunContext) -> None:
    """Read every source into the run's ``src_records`` and ``rejects``, two sources at a
    time. Each source has its own connection (its temp tables and views are its own) and
    loads into its own in-memory table; all of them are written to ``src_records`` at the
    end in one statement. Physical row order in those tables carries no meaning (every
    consumer orders explicitly)."""
    records, rejects = ctx.stg("src_records"), ctx.stg("rejects")
    has_previous = ctx.has_published("src_records")
    create_ingest_tables(ctx.con, records, rejects)
    suppressor = Suppressor.for_run(ctx.con, ctx.config)
    with scratch_database(ctx.con, LOADED):
        _ingest_sources(ctx, records, rejects, has_previous, suppressor)


def _ingest_sources(
    ctx: RunContext,
    records: str,
    rejects: str,
    has_previous: bool,
    suppressor: Suppressor | None,
) -> None:
    """Load each source into its own in-memory table (two at a time), then write them all
    into ``records`` in one statement with :func:`finish_records`."""
    sources = ctx.config.sources
    parts = {s.name: create_loaded_table(ctx.con, records, s.name) for s in sources}

    def one(source: SourceConfig) -> tuple[SourceCounts, float]:
        started = time.perf_counter()
        cursor = ctx.con.cursor()
        try:
            counts = ingest_source(
                cursor,
                ctx.config,
                source,
                records=parts[source.name],
                rejects=rejects,
                run_id=ctx.run_id,
                has_previous=has_previous,
                suppressor=suppressor,
            )
        finally:
            cursor.close()
        return counts, time.perf_counter() - started

    per_source: dict[str, dict[str, Any]] = {}
    with ThreadPoolExecutor(min(PARALLEL_SOURCES, len(sources)) or 1) as pool:
        futures = [pool.submit(one, source) for source in sources]
        try:
            # results in config order: the first failing source (in that order) is reported
            for source, future in zip(sources, futures, strict=True):
                c, seconds = future.result()
                ctx.timings[f"ingest.{source.name}"] = round(seconds, 3)
                per_source[source.name] = dataclasses.asdict(c)
                faults.point("ingest:mid")
        finally:
            for future in futures:  # a failed source stops the ones not yet started
                future.cancel()
    t = time.perf_counter()
    changes = finish_records(
        ctx.con,
        run_id=ctx.run_id,
        records=records,
        snapshot_sources=[s.name for s in ctx.config.sources if s.mode == "snapshot"],
        has_previous=has_previous,
        parts=list(parts.values()),
    )
    ctx.timings["ingest.merge"] = round(time.perf_counter() - t, 3)
    for name, change in changes.items():
        per_source.setdefault(
            name, {"read": 0, "accepted": 0, "rejected": 0, "suppressed": 0}
        ).update(change)
    ctx.counts["sources"] = per_source


def stage_normalize(ctx: RunContext) -> None:
    ctx.counts["normalize"] = normalize(
        ctx.con,
        ctx.config,
        timings=ctx.timings,
        records=ctx.stg("src_records"),
        out=ctx.stg("norm_customers"),
        shared_out=ctx.stg("shared_values"),
        profile_out=ctx.stg("quality_profile"),
    )


def _saved_model(ctx: RunContext) -> dict[str, Any] | None:
    if ctx.retrain:
        return None
    rows = ctx.con.sql("SELECT model_json FROM models ORDER BY run_id DESC LIMIT 1").fetchall()
    return json.loads(rows[0][0]) if rows else None


def stage_match(ctx: RunContext) -> None:
    result = run_match(
        ctx.con,
        ctx.config.matching,
        norm=ctx.stg("norm_customers"),
        pairs_out=ctx.stg("match_pairs"),
        clusters_out=ctx.stg("splink_clusters"),
        saved_model=_saved_model(ctx),
    )
    ctx.model_json, ctx.model_trained = result.model_json, result.trained
    ctx.counts["match"] = {
        "pairs_blocked": result.pairs_blocked,
        "pairs_per_blocking_rule": result.pairs_per_rule,
        "pairs_scored_kept": result.pairs,
        "name_block_keys_over_cap": result.skipped_block_keys,
        "pairs_linked": result.linked_pairs,
        "model": "trained" if result.trained else "reused",
    }
    ctx.timings.update({f"match.{k}": round(v, 3) for k, v in result.timings.items()})


def stage_cluster(ctx: RunContext) -> None:
    steward, decision_counts = steward_links(ctx.con, ctx.stg("src_records"))
    constraints = apply_constraints(
        ctx.con,
        clusters=ctx.stg("splink_clusters"),
        pairs=ctx.stg("match_pairs"),
        norm=ctx.stg("norm_customers"),
        threshold=ctx.config.matching.threshold_match_probability,
        out=ctx.stg("constrained_clusters"),
        steward=steward,
    )
    ctx.con.execute(f"DROP TABLE {ctx.stg('splink_clusters')}")
    t = time.perf_counter()
    ids = assign_golden_ids(
        ctx.con,
        run_id=ctx.run_id,
        clusters=ctx.stg("constrained_clusters"),
        norm=ctx.stg("norm_customers"),
        previous=PreviousIds(
            members=ctx.published("clusters"),
            registry=ctx.published("golden_ids"),
            sequence=ctx.published("golden_id_sequence"),
        ),
        out=ctx.stg("clusters"),
        registry_out=ctx.stg("golden_ids"),
        sequence_out=ctx.stg("golden_id_sequence"),
        events_out=ctx.stg("golden_events"),
        pairs=ctx.stg("match_pairs"),
    )
    ctx.timings["cluster.golden_ids"] = round(time.perf_counter() - t, 3)
    ctx.con.execute(f"DROP TABLE {ctx.stg('constrained_clusters')}")
    sizes = ctx.con.sql(
        f"SELECT n, count(*) FROM (SELECT count(*) AS n FROM {ctx.stg('clusters')} "
        "GROUP BY golden_id) GROUP BY n ORDER BY n"
    ).fetchall()
    ctx.counts["cluster"] = {
        **constraints,
        **decision_counts,
        **ids,
        "size_distribution": {str(n): int(c) for n, c in sizes},
    }


def stage_survive(ctx: RunContext) -> None:
    ctx.counts["survive"] = survive(
        ctx.con,
        ctx.config,
        run_id=ctx.run_id,
        norm=ctx.stg("norm_customers"),
        members=ctx.stg("clusters"),
        ids=ctx.stg("golden_ids"),
        previous_golden=ctx.published("golden_customers", with_column="content_hash"),
        golden_out=ctx.stg("golden_customers"),
        winners_out=ctx.stg("golden_winners"),
        collected_out=ctx.stg("golden_collected"),
        consent_out=ctx.stg("golden_consent"),
        timings=ctx.timings,
    )


def stage_review(ctx: RunContext) -> None:
    """Rebuild the review queue; published with the run (a failed run keeps the old one)."""
    decisions = with_status(
        ctx.con, load_decisions(ctx.con, include_revoked=False), ctx.stg("src_records")
    )
    ctx.counts["review"] = build_queue(
        ctx.con,
        pairs=ctx.stg("match_pairs"),
        clusters=ctx.stg("clusters"),
        decisions=decisions,
        threshold=ctx.config.matching.threshold_match_probability,
        review=ctx.config.review,
        run_id=ctx.run_id,
        out=ctx.stg("review_queue"),
    )


STAGES: tuple[tuple[str, Callable[[RunContext], None]], ...] = (
    ("ingest", stage_ingest),
    ("normalize", stage_normalize),
    ("match", stage_match),
    ("cluster", stage_cluster),
    ("survive", stage_survive),
    ("review", stage_review),
)


def save_model_sql(ctx: RunContext) -> None:
    """Save a model trained in this run (inside the publishing transaction)."""
    if ctx.model_json is not None and ctx.model_trained:
        ctx.con.execute(
            "INSERT INTO models VALUES (?, now(), ?, ?)",
            [ctx.run_id, ctx.model_json.get("omnimdm_fingerprint"), json.dumps(ctx.model_json)],
        )


def timed_stage(
    ctx: RunContext, stage: str, fn: Callable[[RunContext], None], progress: ProgressHook | None
) -> None:
    """Run one stage, time it and report its start and end to ``progress``."""
    if progress:
        progress(stage, "start")
    t = time.perf_counter()
    fn(ctx)
    ctx.timings[stage] = round(time.perf_counter() - t, 3)
    faults.point(f"after:{stage}")
    if progress:
        progress(stage, "done")


def fail_stage(ctx: RunContext, stage: str, err: BaseException) -> NoReturn:
    """Mark the run failed (staging dropped), then re-raise as a user-facing error."""
    ctx.store.fail_run(ctx.con, ctx.run_id, f"{stage}: {err}")
    if isinstance(err, OmnimdmError | KeyboardInterrupt):
        raise err
    raise StageError(stage, ctx.run_id, err) from err


def run(
    config: Config,
    *,
    command: str = "run",
    retrain: bool = False,
    progress: ProgressHook | None = None,
    stop_after: str | None = None,
) -> RunResult:
    """Run the whole pipeline on ``config`` and publish the results atomically.

    ``stop_after`` (a stage name) runs the stages up to and including that one, then
    discards the staging tables without publishing: status ``partial``. Benchmarks use it
    to time stages alone.
    """
    names = [name for name, _ in STAGES]
    if stop_after is not None and stop_after not in names:
        raise ValueError(f"unknown stage {stop_after!r}; stages: {names}")
    faults.check()
    store = Store(config.store.path)
    with store.writer(command) as con:
        run_id = store.begin_run(con, command, config.config_hash())
        ctx = RunContext(con=con, config=config, store=store, run_id=run_id, retrain=retrain)
        started = time.perf_counter()
        stage = "setup"
        try:
            for stage, fn in STAGES:
                timed_stage(ctx, stage, fn, progress)
                if stage == stop_after:
                    break
            if stop_after is not None:
                store.end_unpublished(
                    con, run_id, f"partial run: stopped after {stop_after}", status="partial"
                )
                return RunResult(
                    run_id=run_id,
                    status="partial",
                    counts=ctx.counts,
                    timings=ctx.timings,
                    store_path=str(store.path),
                )
            stage = "publish"
            t = time.perf_counter()
            store.publish(
                con,
                run_id,
                PUBLISHED_TABLES,
                counts=ctx.counts,
                timings=ctx.timings,
                append=APPENDED_TABLES,
                views=PUBLISHED_VIEWS,
                before_commit=lambda: save_model_sql(ctx),
            )
            ctx.timings["publish"] = round(time.perf_counter() - t, 3)
        except BaseException as err:
            fail_stage(ctx, stage, err)
        ctx.timings["total"] = round(time.perf_counter() - started, 3)
        con.execute(
            "UPDATE runs SET timings = ? WHERE run_id = ?", [json.dumps(ctx.timings), run_id]
        )
    log.info("run %d published", run_id)
    return RunResult(
        run_id=run_id,
        status="published",
        counts=ctx.counts,
        timings=ctx.timings,
        store_path=str(store.path),
    )


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train` returns: the training run, the model file and the timings."""

    run_id: int
    model_path: str
    fingerprint: str
    timings: dict[str, float]


def train(config: Config, *, model_path: Path | None = None) -> TrainResult:
    """Ingest and normalize, then train the model and save it in the store (``models``)
    and as a Splink JSON file. Nothing else is published; ``run`` reuses the model."""
    from omnimdm.match.model import block, prepare_input, train_or_load

    store = Store(config.store.path)
    path = model_path or store.path.with_name(store.path.stem + ".model.json")
    faults.check()
    with store.writer("train") as con:
        run_id = store.begin_run(con, "train", config.config_hash())
        ctx = RunContext(con=con, config=config, store=store, run_id=run_id, retrain=True)
        stage = "setup"
        try:
            for stage, fn in STAGES[:2]:
                timed_stage(ctx, stage, fn, None)
            stage = "train"
            t = time.perf_counter()
            mem, _ = prepare_input(con, config.matching, norm=ctx.stg("norm_customers"))
            block(mem, config.matching)  # the prior's fixed point scores the blocked pairs
            _, model_json, _ = train_or_load(mem, config.matching, None)
            mem.close()
            ctx.timings["train"] = round(time.perf_counter() - t, 3)
            ctx.model_json, ctx.model_trained = model_json, True
            faults.point("train:before_save")
            con.execute("BEGIN TRANSACTION")
            save_model_sql(ctx)
            con.execute("COMMIT")
            store.end_unpublished(con, run_id, "training run: nothing published", status="trained")
        except BaseException as err:
            fail_stage(ctx, stage, err)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model_json, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return TrainResult(run_id, str(path), str(model_json.get("omnimdm_fingerprint")), ctx.timings)

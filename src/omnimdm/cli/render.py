"""Rich rendering of run results and metrics for the terminal."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from omnimdm.evaluate import Metrics
from omnimdm.pipeline import SOURCE_COUNTS, RunResult


def source_table(result: RunResult) -> Table:
    table = Table(
        title=f"Run {result.run_id}: rows per source (read = accepted + rejected + suppressed)"
    )
    for col in ("source", *SOURCE_COUNTS):
        table.add_column(col, justify="left" if col == "source" else "right")
    for name, c in result.sources.items():
        table.add_row(
            name,
            *(f"{int(c.get(k, 0)):,}" for k in SOURCE_COUNTS),
        )
    return table


def stage_table(result: RunResult) -> Table:
    counts: dict[str, Any] = result.counts
    table = Table(title="Stages")
    table.add_column("stage")
    table.add_column("result")
    table.add_column("seconds", justify="right")
    norm = counts.get("normalize", {})
    match = counts.get("match", {})
    clus = counts.get("cluster", {})
    surv = counts.get("survive", {})
    rev = counts.get("review", {})
    rows = [
        (
            "ingest",
            f"{sum(int(s.get('accepted', 0)) for s in result.sources.values()):,} records accepted",
        ),
        (
            "normalize",
            f"{norm.get('records', 0):,} canonical records, "
            f"{norm.get('distinct_phones', 0):,} distinct phones parsed, "
            f"{norm.get('shared_values', 0):,} shared values flagged",
        ),
        (
            "match",
            f"{match.get('pairs_scored_kept', 0):,} candidate pairs kept, "
            f"{match.get('pairs_linked', 0):,} linked (model {match.get('model')})",
        ),
        (
            "cluster",
            f"{clus.get('clusters', 0):,} clusters, "
            f"{clus.get('decisions_active', 0):,} steward decisions applied"
            + (
                f", {clus['decisions_changed']:,} flagged for re-review (records changed)"
                if clus.get("decisions_changed")
                else ""
            ),
        ),
        (
            "survive",
            f"{surv.get('golden_records', 0):,} golden records, "
            f"{surv.get('crosswalk_rows', 0):,} crosswalk rows",
        ),
        (
            "review",
            f"{rev.get('queue_items', 0):,} pairs to review "
            f"({rev.get('queue_uncertain', 0):,} uncertain, "
            f"{rev.get('queue_weak_link', 0):,} weak links, "
            f"{rev.get('queue_recheck', 0):,} decisions to recheck): omnimdm review",
        ),
    ]
    for stage, text in rows:
        table.add_row(stage, text, f"{result.timings.get(stage, 0):.2f}")
    table.add_row("total", "", f"{result.timings.get('total', 0):.2f}")
    return table


def metrics_table(m: Metrics) -> Table:
    table = Table(title="Accuracy against ground truth (pairwise, from final clusters)")
    for col in ("precision", "recall", "F1", "predicted entities", "true entities", "records"):
        table.add_column(col, justify="right")
    table.add_row(
        f"{m.precision:.4f}",
        f"{m.recall:.4f}",
        f"{m.f1:.4f}",
        f"{m.predicted_entities:,}",
        f"{m.true_entities:,}",
        f"{m.records:,}",
    )
    return table


def print_run(console: Console, result: RunResult) -> None:
    console.print(source_table(result))
    console.print(stage_table(result))


def profile_table(profile: dict[str, Any]) -> Table:
    table = Table(
        title=f"Data quality, run {profile['run_id']} (fill = present / records; "
        "valid = usable / present)"
    )
    for col in ("source", "field", "records", "fill", "valid", "shared"):
        table.add_column(col, justify="left" if col in ("source", "field") else "right")
    for f in profile["fields"]:
        table.add_row(
            f["source"],
            f["field"],
            f"{f['records']:,}",
            f"{f['fill_rate']:.1%}",
            f"{f['validity_rate']:.1%}",
            f"{f['shared']:,}",
        )
    for source, reasons in profile["rejects"].items():
        for reason, n in reasons.items():
            table.add_row(source, f"rejected: {reason}", f"{n:,}", "", "", "")
    return table

"""``explain``, ``explain-pair`` and ``report``: why the engine decided what it did."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from omnimdm.cli.main import AppState, cli, handle_errors
from omnimdm.cli.review import RECORD
from omnimdm.review.records import RecordKey
from omnimdm.store import Store

console = Console()
BAR_BITS = 2.0  # one bar character per 2 bits of weight


def _bar(weight: float) -> str:
    n = min(20, int(round(abs(weight) / BAR_BITS)))
    return ("+" if weight >= 0 else "-") * n


def waterfall_lines(report: object) -> list[str]:
    """The text waterfall of a :class:`~omnimdm.review.explain.PairReport`."""
    from omnimdm.review.explain import PairReport

    assert isinstance(report, PairReport)
    e = report.explanation
    lines = [f"{report.a}  vs  {report.b}", ""]
    lines.append(f"{'step':<20} {'level reached':<48} {'weight':>8}  {'running':>8}")
    running = e.prior_weight
    lines.append(
        f"{'prior':<20} {'two random records match':<48} {e.prior_weight:>+8.2f}  {running:>+8.2f}"
    )
    for part in e.parts:
        running += part.total
        level = part.level if len(part.level) <= 48 else part.level[:45] + "..."
        tf = f" (tf {part.tf_adjustment:+.2f})" if part.tf_adjustment else ""
        lines.append(
            f"{part.comparison:<20} {level:<48} {part.total:>+8.2f}  {running:>+8.2f}  "
            f"{_bar(part.total)}{tf}"
        )
    linked = "linked" if e.match_probability >= report.threshold else "not linked"
    lines += [
        "",
        f"total match weight {e.match_weight:+.2f}  ->  probability {e.match_probability:.4f} "
        f"({linked} at threshold {report.threshold})",
    ]
    if report.scored_in_run is None:
        lines.append("not blocked together in the last run (never scored there)")
    else:
        lines.append(f"scored in the last run: {report.scored_in_run:.4f}")
    same = report.golden_a is not None and report.golden_a == report.golden_b
    lines.append(
        f"golden ids: {report.golden_a} / {report.golden_b}" + (" (same entity)" if same else "")
    )
    if report.decision is not None:
        d, status = report.decision
        lines.append(f"steward decision {d.describe()}: {d.decision}, {status}")
    return lines


@cli.command("explain-pair")
@click.argument("record_a", type=RECORD)
@click.argument("record_b", type=RECORD)
@click.pass_obj
@handle_errors
def explain_pair_cmd(state: AppState, record_a: RecordKey, record_b: RecordKey) -> None:
    """Per-comparison match weights of two records (SOURCE:ID) as a text waterfall, with
    the saved model; works for pairs that were never blocked together."""
    from omnimdm.review.explain import explain_pair

    matching = state.config().matching
    report = explain_pair(
        Store(state.store_path()),
        record_a,
        record_b,
        threshold=matching.threshold_match_probability,
        matching=matching,
    )
    click.echo("\n".join(waterfall_lines(report)))


@cli.command("explain")
@click.argument("golden_id")
@click.pass_obj
@handle_errors
def explain_cmd(state: AppState, golden_id: str) -> None:
    """Why GOLDEN_ID is what it is: members, edges with probabilities, the weakest link,
    the rule and record behind each golden field, and steward decisions involved."""
    from omnimdm.review.explain import explain_golden

    x = explain_golden(
        Store(state.store_path()),
        golden_id,
        threshold=state.config().matching.threshold_match_probability,
    )
    console.print(f"[bold]{x.golden_id}[/]: {len(x.members)} records")
    for key in x.members:
        console.print(f"  {key}", highlight=False)
    edges = Table(title=f"Scored pairs among members (linked at >= {x.threshold})")
    for col in ("record A", "record B", "probability", "weight", "linked"):
        edges.add_column(col, overflow="fold")
    for e in x.edges:
        edges.add_row(
            str(e.a),
            str(e.b),
            f"{e.match_probability:.4f}",
            f"{e.match_weight:+.2f}",
            "yes" if e.linked else "no",
        )
    console.print(edges)
    if x.weakest is not None:
        w = x.weakest
        console.print(
            f"weakest link: {w.a} - {w.b} at {w.match_probability:.4f} "
            f"(omnimdm explain-pair {w.a} {w.b})",
            highlight=False,
        )
    elif len(x.members) > 1:
        console.print("held together by steward decisions only")
    lineage = Table(title="Golden fields: the record and rule behind each")
    for col in ("field", "value", "from record", "rule"):
        lineage.add_column(col, overflow="fold")
    for fld, value, key, rule in x.lineage:
        lineage.add_row(fld, value or "", str(key), rule)
    console.print(lineage)
    if x.decisions:
        table = Table(title="Steward decisions involving its records")
        for col in ("id", "record A", "", "record B", "status", "reviewer", "note"):
            table.add_column(col, overflow="fold")
        for d, status in x.decisions:
            table.add_row(
                str(d.decision_id),
                str(d.a),
                "=" if d.decision == "same" else "!=",
                str(d.b),
                status,
                d.reviewer,
                d.note or "",
            )
        console.print(table)
    else:
        console.print("no steward decisions involve its records")


@cli.command("report")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="HTML file to write.")
@click.pass_obj
@handle_errors
def report_cmd(state: AppState, out: Path) -> None:
    """Write the run report: one self-contained HTML file (charts inlined, no network
    needed) with counts per stage and source, data quality, blocking, match weights, m/u,
    cluster sizes and the review queue. Ids and counts only."""
    from omnimdm.report import write_report

    data = write_report(
        Store(state.store_path()),
        out,
        threshold=state.config().matching.threshold_match_probability,
    )
    console.print(f"report of run {data.run_id} written to {out}")

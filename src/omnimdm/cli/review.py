"""Steward commands: ``review`` (interactive and batch), ``split``, ``merge``.

The interactive review needs a terminal; the TTY check lives here only. For scripted
input (tests, a pipe) set ``OMNIMDM_REVIEW_INPUT=stdin``: keys are then read one
character at a time from standard input.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from omnimdm.cli.main import AppState, cli, handle_errors
from omnimdm.errors import OmnimdmError, ReviewError
from omnimdm.review.records import RecordKey
from omnimdm.store import Store

console = Console()
NEXT_RUN = "It takes effect at the next `omnimdm run`."


def _reviewer(state: AppState, reviewer: str | None) -> str:
    from omnimdm.review.decisions import default_reviewer

    if reviewer:
        return reviewer
    try:
        configured = state.config().review.reviewer
    except OmnimdmError:  # a reviewer name never needs a valid config
        configured = None
    return default_reviewer(configured)


def _store(state: AppState) -> Store:
    return Store(state.store_path())


class RecordKeyType(click.ParamType):
    name = "SOURCE:ID"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> RecordKey:
        if isinstance(value, RecordKey):
            return value
        try:
            return RecordKey.parse(str(value))
        except ReviewError as err:
            self.fail(str(err), param, ctx)


RECORD = RecordKeyType()
reviewer_option = click.option(
    "--reviewer", default=None, help="Who decides (default: review.reviewer, else the OS user)."
)
note_option = click.option("--note", default=None, help="Why (kept with the decision).")


@cli.group("review", invoke_without_command=True)
@reviewer_option
@click.pass_context
@handle_errors
def review_group(ctx: click.Context, reviewer: str | None) -> None:
    """Review uncertain matches. Without a subcommand: the interactive review (one key a
    pair: y same, n different, s skip, u undo, q quit); it needs a terminal."""
    if ctx.invoked_subcommand is not None:
        return
    state: AppState = ctx.obj
    scripted = os.environ.get("OMNIMDM_REVIEW_INPUT") == "stdin"
    if not scripted and not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise ReviewError(
            "the interactive review needs a terminal. Without one use the batch commands: "
            "`omnimdm review list`, `omnimdm review decide A B --same|--different`, "
            "`omnimdm review export --out queue.csv` and `omnimdm review import FILE`"
        )
    from omnimdm.cli.review_screen import run_interactive

    run_interactive(_store(state), _reviewer(state, reviewer), scripted=scripted)


@review_group.command("list")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--kind", type=click.Choice(["uncertain", "weak_link", "recheck"]), default=None)
@click.option("--decisions", "show_decisions", is_flag=True, help="List decisions instead.")
@click.option("--all", "show_all", is_flag=True, help="With --decisions: revoked ones too.")
@click.pass_obj
@handle_errors
def review_list(
    state: AppState, limit: int, kind: str | None, show_decisions: bool, show_all: bool
) -> None:
    """The undecided review queue by impact (or, with --decisions, the decisions log)."""
    from omnimdm.review import steward

    if show_decisions:
        rows = steward.list_decisions(_store(state), include_revoked=show_all)
        table = Table(title=f"{len(rows)} decisions")
        for col in (
            "id",
            "record A",
            "",
            "record B",
            "status",
            "reviewer",
            "UTC",
            "origin",
            "note",
        ):
            table.add_column(col)
        for d, status in rows:
            table.add_row(
                str(d.decision_id),
                str(d.a),
                "=" if d.decision == "same" else "!=",
                str(d.b),
                status,
                d.reviewer,
                d.decided_at.strftime("%Y-%m-%d %H:%M"),
                d.origin,
                d.note or "",
            )
        console.print(table)
        return
    items, total = steward.list_queue(_store(state), limit=limit, kind=kind)
    table = Table(title=f"Review queue: {total:,} undecided pairs (by impact)")
    for col in (
        "#",
        "kind",
        "record A",
        "record B",
        "probability",
        "impact",
        "golden A",
        "golden B",
    ):
        table.add_column(col, justify="right" if col in ("#", "probability", "impact") else "left")
    for i in items:
        table.add_row(
            str(i.position),
            i.kind,
            str(i.a),
            str(i.b),
            "" if i.match_probability is None else f"{i.match_probability:.3f}",
            f"{i.impact:.2f}",
            i.golden_a,
            i.golden_b,
        )
    console.print(table)


@review_group.command("decide")
@click.argument("record_a", type=RECORD)
@click.argument("record_b", type=RECORD)
@click.option("--same", "kind", flag_value="same", help="The two records are one person.")
@click.option("--different", "kind", flag_value="different", help="Two different people.")
@note_option
@reviewer_option
@click.pass_obj
@handle_errors
def review_decide(
    state: AppState,
    record_a: RecordKey,
    record_b: RecordKey,
    kind: str | None,
    note: str | None,
    reviewer: str | None,
) -> None:
    """Record that RECORD_A and RECORD_B (SOURCE:ID) are the same person or different."""
    from omnimdm.review import steward

    if kind is None:
        raise click.UsageError("give --same or --different")
    outcome = steward.decide(
        _store(state),
        record_a,
        record_b,
        kind,  # type: ignore[arg-type]
        reviewer=_reviewer(state, reviewer),
        note=note,
    )
    if outcome.unchanged:
        console.print(f"already decided (#{outcome.unchanged[0]}); nothing changed")
        return
    sign = "=" if kind == "same" else "!="
    extra = (
        f" (supersedes #{', #'.join(map(str, outcome.superseded))})" if outcome.superseded else ""
    )
    console.print(
        f"decision #{outcome.written[0]}: {record_a} {sign} {record_b}{extra}. {NEXT_RUN}"
    )


@review_group.command("revoke")
@click.argument("record_a", type=RECORD)
@click.argument("record_b", type=RECORD)
@note_option
@reviewer_option
@click.pass_obj
@handle_errors
def review_revoke(
    state: AppState,
    record_a: RecordKey,
    record_b: RecordKey,
    note: str | None,
    reviewer: str | None,
) -> None:
    """Revoke the active decision on RECORD_A and RECORD_B (kept in the log as revoked)."""
    from omnimdm.review import steward

    d = steward.revoke_pair(
        _store(state), record_a, record_b, reviewer=_reviewer(state, reviewer), note=note
    )
    console.print(f"revoked {d.describe()}. {NEXT_RUN}")


@review_group.command("export")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="CSV file to write.")
@click.pass_obj
@handle_errors
def review_export(state: AppState, out: Path) -> None:
    """Write the undecided queue as CSV, records side by side, with empty decision and note
    columns to fill in a spreadsheet (same / different / blank); then `review import`."""
    from omnimdm.review import steward

    n = steward.export_queue(_store(state), out)
    console.print(f"wrote {n:,} pairs to {out} (it holds personal data: handle with care)")


@review_group.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@reviewer_option
@click.pass_obj
@handle_errors
def review_import(state: AppState, path: Path, reviewer: str | None) -> None:
    """Apply decisions from a CSV (record_a, record_b, decision, note): every line is
    checked first; any problem is reported with its line number and nothing is applied."""
    from omnimdm.review import steward

    outcome = steward.import_decisions(_store(state), path, reviewer=_reviewer(state, reviewer))
    console.print(
        f"imported {len(outcome.written):,} decisions ({len(outcome.unchanged):,} already "
        f"decided, {len(outcome.superseded):,} superseded). {NEXT_RUN}"
    )


@cli.command("split")
@click.argument("golden_id")
@click.option(
    "--records",
    required=True,
    help="Comma-separated SOURCE:ID of the records to split off (they stay together).",
)
@note_option
@reviewer_option
@click.pass_obj
@handle_errors
def split_cmd(
    state: AppState, golden_id: str, records: str, note: str | None, reviewer: str | None
) -> None:
    """Split records off an entity: steward decisions keep them together and apart from
    the rest of GOLDEN_ID."""
    from omnimdm.review import steward

    keys = [RecordKey.parse(r) for r in records.split(",") if r.strip()]
    outcome = steward.split(
        _store(state), golden_id, keys, reviewer=_reviewer(state, reviewer), note=note
    )
    console.print(
        f"recorded {len(outcome.written)} decisions splitting {len(keys)} record(s) off "
        f"{golden_id}. {NEXT_RUN}"
    )


@cli.command("merge")
@click.argument("golden_a")
@click.argument("golden_b")
@note_option
@reviewer_option
@click.pass_obj
@handle_errors
def merge_cmd(
    state: AppState, golden_a: str, golden_b: str, note: str | None, reviewer: str | None
) -> None:
    """Merge two entities: a steward `same` decision between their representative records."""
    from omnimdm.review import steward

    outcome, rep_a, rep_b = steward.merge(
        _store(state), golden_a, golden_b, reviewer=_reviewer(state, reviewer), note=note
    )
    what = f"decision #{outcome.written[0]}" if outcome.written else "already decided"
    console.print(f"{what}: {rep_a} = {rep_b} (merges {golden_a} and {golden_b}). {NEXT_RUN}")

"""The interactive review screen: a rich table of the two records side by side, the
comparison levels reached with their match weights, and one key per pair."""

from __future__ import annotations

import sys

import click
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from omnimdm.review.session import ReviewSession, Screen, run_session
from omnimdm.review.steward import DISPLAY_FIELDS
from omnimdm.store import Store

LEGEND = (
    "[bold]y[/] same person  [bold]n[/] different  [bold]s[/] skip  [bold]u[/] undo  "
    "[bold]q[/] quit"
)


def render(screen: Screen) -> Group:
    """The screen for one pair (or the end-of-queue message)."""
    parts: list[object] = []
    shown = screen.shown
    if shown is None:
        parts.append(
            f"[bold]review[/]: {screen.decided} decided, {screen.skipped} skipped in this session"
        )
    else:
        item = shown.item
        head = f"[bold]{screen.position} / {screen.total}[/]  {item.kind}"
        if item.match_probability is not None:
            head += f"  probability {item.match_probability:.3f}"
        head += f"  impact {item.impact:.2f}"
        parts.append(head)
        records = Table(show_header=True, expand=False)
        records.add_column("field")
        records.add_column("record A", overflow="fold")
        records.add_column("record B", overflow="fold")
        records.add_row("record", str(item.a), str(item.b))
        records.add_row("golden id", item.golden_a, item.golden_b)
        for name in DISPLAY_FIELDS:
            left, right = shown.left.get(name), shown.right.get(name)
            if left is None and right is None:
                continue
            style = "green" if left == right else ""
            records.add_row(name, str(left or ""), str(right or ""), style=style)
        parts.append(records)
        e = shown.explanation
        if e is not None:
            weights = Table(show_header=True, expand=False)
            weights.add_column("comparison")
            weights.add_column("level reached", overflow="fold")
            weights.add_column("match weight", justify="right")
            weights.add_row("prior", "two random records match", f"{e.prior_weight:+.2f}")
            for p in e.parts:
                style = "green" if p.total > 0 else "red" if p.total < 0 else "dim"
                weights.add_row(p.comparison, p.level, f"{p.total:+.2f}", style=style)
            weights.add_row(
                "[bold]total[/]", f"probability {e.match_probability:.4f}", f"{e.match_weight:+.2f}"
            )
            parts.append(weights)
        if item.kind == "recheck":
            parts.append(
                f"decision #{item.decision_id} was made before a record changed: "
                "confirm or correct it"
            )
    if screen.message:
        parts.append(Panel(screen.message, expand=False))
    parts.append(LEGEND)
    return Group(*parts)  # type: ignore[arg-type]


def _stdin_key() -> str:
    """Scripted input: the next non-blank character of standard input; EOF quits."""
    while True:
        ch = sys.stdin.read(1)
        if ch == "":
            return "q"
        if not ch.isspace():
            return ch


def run_interactive(store: Store, reviewer: str, *, scripted: bool) -> None:
    console = Console(
        force_terminal=not scripted, width=None if not scripted else 120, highlight=False
    )
    session = ReviewSession(store, reviewer)

    def show(screen: Screen) -> None:
        if not scripted:
            console.clear()
        console.print(render(screen))

    def read_key() -> str:
        return _stdin_key() if scripted else click.getchar()

    last = run_session(session, read_key, show)
    console.print(
        f"saved: {last.decided} decision(s) this session, {last.skipped} skipped; "
        "resume with `omnimdm review`. Decisions take effect at the next `omnimdm run`."
    )

"""``omnimdm forget``: erasure requests (GDPR art. 17). Ids and counts only on screen."""

from __future__ import annotations

import click
from rich.console import Console

from omnimdm.cli.main import AppState, cli, handle_errors
from omnimdm.erase.forget import ForgetResult, forget
from omnimdm.erase.plan import ForgetRequest

console = Console(highlight=False, soft_wrap=True)


@cli.command("forget")
@click.option("--source", "sources", multiple=True, metavar="S", help="Source of a record.")
@click.option(
    "--id", "ids", multiple=True, metavar="X", help="Source record id (with --source; repeatable)."
)
@click.option(
    "--email", "emails", multiple=True, metavar="E", help="Every record with this e-mail."
)
@click.option(
    "--phone", "phones", multiple=True, metavar="P", help="Every record with this phone number."
)
@click.option(
    "--golden-id",
    "golden_ids",
    multiple=True,
    metavar="G",
    help="Every member record of a golden record (needs --dry-run first, or --yes).",
)
@click.option("--dry-run", is_flag=True, help="List the records it would remove; change nothing.")
@click.option("--yes", is_flag=True, help="Confirm a --golden-id or shared-value request.")
@click.option("--reference", default=None, help="Ticket id for the audit log (no personal data).")
@click.option("--operator", default=None, help="Who carries it out (default: the OS user).")
@click.pass_obj
@handle_errors
def forget_cmd(
    state: AppState,
    sources: tuple[str, ...],
    ids: tuple[str, ...],
    emails: tuple[str, ...],
    phones: tuple[str, ...],
    golden_ids: tuple[str, ...],
    dry_run: bool,
    yes: bool,
    reference: str | None,
    operator: str | None,
) -> None:
    """Erase a person: every stored trace of their records, then rebuild and rewrite the
    store. Keeps only keyed hashes (tombstones) so that later runs leave them out."""
    if len(sources) != len(ids):
        raise click.UsageError("give --source and --id in pairs (--source crm --id 0035...)")
    if golden_ids and not (dry_run or yes):
        raise click.UsageError(
            "forgetting a golden id removes every member record: list them first with "
            "--dry-run, then run again with --yes"
        )
    request = ForgetRequest(
        records=tuple(zip(sources, ids, strict=True)),
        emails=emails,
        phones=phones,
        golden_ids=golden_ids,
        operator=operator,
        reference=reference,
    )
    result = forget(state.config(), request, dry_run=dry_run, confirmed=yes)
    _print(result)


def _golden_line(golden_id: str, removed: int, before: int, *, dry_run: bool) -> str:
    left = before - removed
    if dry_run:
        outcome = "would be erased" if left == 0 else f"would be rebuilt from {left} remaining"
        return f"  {golden_id}: {removed} of {before} records; the golden record {outcome}"
    if left == 0:
        return f"  {golden_id}: all {before} records removed (golden record erased)"
    return f"  {golden_id}: {removed} of {before} records removed, rebuilt from {left} remaining"


def _print(result: ForgetResult) -> None:
    n = len(result.records)
    if result.dry_run:
        console.print(f"[bold]Dry run[/]: nothing was changed. forget would remove {n} record(s):")
        for key in result.records:
            console.print(f"  {key}")
    else:
        by_source = ", ".join(f"{s} {c}" for s, c in sorted(result.records_by_source.items()))
        console.print(
            f"[bold]Erasure {result.audit_id}[/] (run {result.run_id}): {n} record(s) removed"
            + (f" ({by_source})" if by_source else "")
        )
    if result.golden_ids:
        console.print("golden records:")
        for golden_id, (removed, before) in result.golden_ids.items():
            console.print(_golden_line(golden_id, removed, before, dry_run=result.dry_run))
    verb = "would be" if result.dry_run else "were"
    console.print(
        f"{result.rejects_removed} rejected row(s), {result.events_removed} golden-id event(s) "
        f"and {result.decisions_removed} steward decision(s) {verb} removed"
    )
    if result.shared:
        console.print(
            f"[yellow]warning[/]: the {' and '.join(result.shared)} given is a shared value "
            "(many records, different names); --yes is needed to forget it"
        )
    if result.unmanaged_tables:
        console.print(
            f"[yellow]warning[/]: tables omnimdm does not manage were not searched: "
            f"{', '.join(result.unmanaged_tables)}"
        )
    if result.dry_run:
        return
    console.print(
        f"{result.tombstones_added} tombstone(s) added; the store was rewritten into a fresh "
        "file and the snapshot replaced. Not covered: input files, exports already taken, "
        "logs and backups (see README, Erasure)."
    )
    if any(before > removed for removed, before in result.golden_ids.values()):
        console.print(
            "Other records remain in a golden record above; to erase the whole person use "
            "--golden-id (after --dry-run)."
        )

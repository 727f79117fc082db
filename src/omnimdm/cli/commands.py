"""The commands of the ``omnimdm`` group."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from omnimdm.cli.main import AppState, cli, handle_errors
from omnimdm.cli.render import metrics_table, print_run
from omnimdm.config import Config
from omnimdm.pipeline import RunResult, run
from omnimdm.store import Store

console = Console()


def _run_with_progress(
    state: AppState, *, command: str, retrain: bool, config_override: Config | None = None
) -> RunResult:
    config = config_override if config_override is not None else state.config()
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        tasks: dict[str, object] = {}

        def hook(stage: str, event: str) -> None:
            if event == "start":
                tasks[stage] = progress.add_task(f"{stage}...", total=None)
            else:
                progress.remove_task(tasks[stage])  # type: ignore[arg-type]
                console.print(f"[green]done[/] {stage}")

        return run(config, command=command, retrain=retrain, progress=hook)


@cli.command("synth")
@click.option(
    "--persons",
    type=click.IntRange(min=1),
    default=20_000,
    show_default=True,
    help="Number of real persons to generate.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder for the four exports and truth.csv.",
)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option(
    "--profile",
    default="default",
    show_default=True,
    help="Noise profile: default, high_noise or a YAML path.",
)
@handle_errors
def synth_cmd(persons: int, out_dir: Path, seed: int, profile: str) -> None:
    """Generate synthetic omnichannel exports (Salesforce, Shopify, Square, Zendesk)."""
    from omnimdm.synthetic import generate

    result = generate(persons, out_dir, seed=seed, profile=profile)
    for name, n in result.per_source.items():
        console.print(f"{name:<11} {n:>10,} records  {result.files[name]}")
    console.print(f"{'truth':<11} {result.records:>10,} rows     {result.files['truth']}")
    console.print(
        f"{result.persons:,} persons, {result.records:,} records in {result.seconds:.1f} s"
    )


@cli.command("run")
@click.option("--retrain", is_flag=True, help="Train a new model instead of reusing the saved one.")
@click.pass_obj
@handle_errors
def run_cmd(state: AppState, retrain: bool) -> None:
    """Ingest, normalize, match, cluster and survive; publish atomically."""
    result = _run_with_progress(state, command="run", retrain=retrain)
    print_run(console, result)


@cli.command("train")
@click.option(
    "--out",
    "model_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Model file (default: next to the store, <store>.model.json).",
)
@click.pass_obj
@handle_errors
def train_cmd(state: AppState, model_path: Path | None) -> None:
    """Train the matching model and save it (store and file); `run` reuses it."""
    from omnimdm.pipeline import train

    result = train(state.config(), model_path=model_path)
    console.print(
        f"model trained in {result.timings.get('train', 0):.1f} s (run "
        f"{result.run_id}), saved in the store and to {result.model_path}"
    )


@cli.command("evaluate")
@click.option(
    "--truth",
    "truth_path",
    type=click.Path(path_type=Path),
    required=True,
    help="Ground truth CSV: source,source_record_id,person_id.",
)
@click.option("--json", "as_json", is_flag=True, help="Print metrics as JSON.")
@click.pass_obj
@handle_errors
def evaluate_cmd(state: AppState, truth_path: Path, as_json: bool) -> None:
    """Pairwise precision, recall and F1 of the published clusters against ground truth."""
    from omnimdm.evaluate import evaluate_snapshot
    from omnimdm.store import Store

    with Store(state.store_path()).reader() as con:
        metrics = evaluate_snapshot(con, truth_path)
    if as_json:
        click.echo(json.dumps(metrics.as_dict(), indent=2))
    else:
        console.print(metrics_table(metrics))


@cli.command("export")
@click.option(
    "--what",
    type=click.Choice(["golden", "crosswalk", "lineage", "events", "consent"]),
    required=True,
    help="golden records, crosswalk (record -> golden id), field lineage, golden-id events, "
    "or consent per contact point.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet", "jsonl"]),
    default="csv",
    show_default=True,
)
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option(
    "--since",
    "since",
    type=click.IntRange(min=0),
    default=None,
    metavar="RUN_ID",
    help="Only golden records created, changed or retired after this run (and their rows, "
    "or the later runs' events).",
)
@click.option(
    "--raw",
    is_flag=True,
    help="CSV: write free-text cells as they are (no guard against spreadsheet formulas).",
)
@click.pass_obj
@handle_errors
def export_cmd(
    state: AppState, what: str, fmt: str, out: Path, since: int | None, raw: bool
) -> None:
    """Export published results from the read-only snapshot (works while a run is going)."""
    from omnimdm.exports import export
    from omnimdm.store import Store

    rows = export(
        Store(state.store_path()),
        what,  # type: ignore[arg-type]
        fmt,  # type: ignore[arg-type]
        out,
        since=since,
        raw=raw,
    )
    changed = f" changed after run {since}" if since is not None else ""
    console.print(f"wrote {rows:,} {what} rows{changed} to {out}")


@cli.command("demo")
@click.option(
    "--dir",
    "work_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Working folder (default: a temporary one).",
)
@click.option("--persons", type=click.IntRange(min=10), default=20_000, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option(
    "--results",
    "results_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write the demo's results JSON here.",
)
@click.pass_obj
@handle_errors
def demo_cmd(
    state: AppState, work_dir: Path | None, persons: int, seed: int, results_path: Path | None
) -> None:
    """Generate synthetic data, run the whole pipeline and print accuracy."""
    if work_dir is None:
        work_dir = Path(tempfile.mkdtemp(prefix="omnimdm-demo-"))
    _demo(state, work_dir, persons, seed, results_path)


def _demo(
    state: AppState, work_dir: Path, persons: int, seed: int, results_path: Path | None
) -> None:
    from omnimdm.evaluate import evaluate_snapshot
    from omnimdm.store import Store
    from omnimdm.synthetic import generate

    started = time.perf_counter()
    data_dir = work_dir / "data"
    console.print(f"[bold]1/3[/] generating {persons:,} synthetic persons in {data_dir}")
    synth = generate(persons, data_dir, seed=seed)
    console.print(f"     {synth.records:,} records in four exports ({synth.seconds:.1f} s)")
    config = state.config().with_data_dir(data_dir).with_store(work_dir / "omnimdm.duckdb")
    console.print("[bold]2/3[/] running the pipeline")
    result = _run_with_progress(state, command="demo", retrain=True, config_override=config)
    print_run(console, result)
    console.print("[bold]3/3[/] evaluating against truth.csv")
    with Store(config.store.path).reader() as con:
        metrics = evaluate_snapshot(con, synth.files["truth"])
    console.print(metrics_table(metrics))
    wall = time.perf_counter() - started
    console.print(f"demo finished in {wall:.1f} s; store: {config.store.path}")
    if results_path is not None:
        from omnimdm.benchmark_record import write_result

        write_result(
            results_path,
            {
                "benchmark": "demo",
                "dataset": {
                    "generator": "omnimdm synth",
                    "persons": persons,
                    "seed": seed,
                    "profile": "default",
                    "records": synth.records,
                },
                "metrics": metrics.as_dict(),
                "counts": result.counts,
                "timings_s": {
                    **result.timings,
                    "synth": round(synth.seconds, 3),
                    "demo_wall": round(wall, 3),
                },
            },
        )
        console.print(f"results written to {results_path}")


@cli.command("profile")
@click.option("--json", "as_json", is_flag=True, help="Print the profile as JSON.")
@click.pass_obj
@handle_errors
def profile_cmd(state: AppState, as_json: bool) -> None:
    """Data-quality profile of the last published run: fill and validity rates per source
    and field, shared junk values, rejects by reason (counts only, no personal data)."""
    from omnimdm.cli.render import profile_table
    from omnimdm.quality import read_profile

    profile = read_profile(Store(state.store_path()))
    if as_json:
        click.echo(json.dumps(profile, indent=2, default=str))
    else:
        console.print(profile_table(profile))

from __future__ import annotations

import csv
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from omnimdm.cli import cli
from tests.conftest import FIXTURES, write_config

COMMANDS = [
    "synth",
    "run",
    "demo",
    "export",
    "evaluate",
    "profile",
    "review",
    "split",
    "merge",
    "explain",
    "explain-pair",
    "report",
    "forget",
]


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help(command: str | None) -> None:
    args = ["--help"] if command is None else [command, "--help"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    if command is None:
        for name in COMMANDS:
            assert name in result.output
        assert "--config" in result.output and "--store" in result.output


def _run(config: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["-c", str(config), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_run_export_evaluate(tmp_path: Path, mini_dir: Path) -> None:
    config = write_config(tmp_path, mini_dir)
    out = _run(config, "run")
    assert "read = accepted + rejected" in out
    assert "golden records" in out
    crosswalk = tmp_path / "crosswalk.csv"
    _run(config, "export", "--what", "crosswalk", "--format", "csv", "--out", str(crosswalk))
    rows = list(csv.DictReader(crosswalk.open(encoding="utf-8")))
    assert len(rows) == 13  # one per accepted record
    keys = {(r["source"], r["source_record_id"]) for r in rows}
    assert ("ecommerce", "7012345678901") in keys  # Shopify id without its apostrophe
    assert ("crm", "0035g00000AbCdEAAV") in keys  # Salesforce id case kept
    assert all(r["golden_id"] for r in rows)
    golden = tmp_path / "golden.parquet"
    _run(config, "export", "--what", "golden", "--format", "parquet", "--out", str(golden))
    assert golden.stat().st_size > 0
    metrics = json.loads(
        _run(config, "evaluate", "--truth", str(FIXTURES / "mini/truth.csv"), "--json")
    )
    assert metrics["records"] == 13
    assert 0 < metrics["precision"] <= 1 and 0 < metrics["recall"] <= 1


def test_export_works_while_a_writer_holds_the_store(tmp_path: Path, mini_dir: Path) -> None:
    config = write_config(tmp_path, mini_dir)
    _run(config, "run")
    ready = tmp_path / "ready"
    script = textwrap.dedent(f"""
        import pathlib, time
        from omnimdm.store import Store
        with Store({str(tmp_path / "t.duckdb")!r}).writer("run") as con:
            con.execute("CREATE TABLE IF NOT EXISTS busy AS SELECT 1")
            pathlib.Path({str(ready)!r}).write_text("ok")
            time.sleep(60)
    """)
    holder = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.time() + 30
        while not ready.exists():
            assert holder.poll() is None and time.time() < deadline
            time.sleep(0.05)
        out = tmp_path / "golden.csv"
        _run(config, "export", "--what", "golden", "--out", str(out))
        assert out.read_text(encoding="utf-8").startswith("golden_id,")
        second = CliRunner().invoke(cli, ["-c", str(config), "run"])
        assert second.exit_code == 1
        assert "locked by pid" in second.output and "Traceback" not in second.output
    finally:
        holder.kill()
        holder.wait()


def test_export_before_any_run_is_a_clear_error(tmp_path: Path, mini_dir: Path) -> None:
    config = write_config(tmp_path, mini_dir)
    result = CliRunner().invoke(
        cli, ["-c", str(config), "export", "--what", "golden", "--out", str(tmp_path / "g.csv")]
    )
    assert result.exit_code == 1
    assert "omnimdm run" in result.output


def test_store_option_overrides_config(tmp_path: Path, mini_dir: Path) -> None:
    config = write_config(tmp_path, mini_dir)
    other = tmp_path / "elsewhere.duckdb"
    result = CliRunner().invoke(cli, ["-c", str(config), "--store", str(other), "run"])
    assert result.exit_code == 0, result.output
    assert other.exists() and not (tmp_path / "t.duckdb").exists()


def test_readme_documents_every_command() -> None:
    import click

    readme = (Path(__file__).parent.parent.parent / "README.md").read_text(encoding="utf-8")
    for name, command in cli.commands.items():
        assert f"omnimdm {name}" in readme, name
        if isinstance(command, click.Group):
            for sub in command.commands:
                assert f"omnimdm {name} {sub}" in readme, f"{name} {sub}"

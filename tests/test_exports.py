"""Exports: formats, the CSV formula guard, --since validation."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from omnimdm.cli import cli
from omnimdm.exports import guard_sql
from tests.conftest import write_config


@pytest.mark.parametrize(
    ("text", "guarded"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+34 600 000 000", "'+34 600 000 000"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("García", "García"),
        ("Calle Mayor 12", "Calle Mayor 12"),
        ("a=b", "a=b"),
    ],
)
def test_guard_sql(text: str, guarded: str) -> None:
    assert duckdb.sql(f"SELECT {guard_sql('$t')}", params={"t": text}).fetchall()[0][0] == guarded


def _invoke(config: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["-c", str(config), *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def published(tmp_path: Path, mini_dir: Path) -> Path:
    """A published run where Carlos Ruiz's shop record has a formula as company."""
    shop = mini_dir / "ecommerce_shopify_customers.csv"
    text = shop.read_text(encoding="utf-8")
    shop.write_text(
        text.replace(
            "Carlos,Ruiz,carlos.ruiz@gmail.com,no,,",
            'Carlos,Ruiz,carlos.ruiz@gmail.com,no,"=HYPERLINK(""x"")",',
        ),
        encoding="utf-8",
    )
    config = write_config(tmp_path, mini_dir)
    _invoke(config, "run")
    return config


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open(encoding="utf-8")))


def test_csv_guards_free_text_but_never_phones_or_emails(published: Path) -> None:
    out = published.parent / "golden.csv"
    _invoke(published, "export", "--what", "golden", "--out", str(out))
    (carlos,) = [r for r in _rows(out) if r["company"]]
    assert carlos["company"] == '\'=HYPERLINK("x")'
    assert carlos["phone"] == "+34655443322" and carlos["email"] == "carlosruiz@gmail.com"
    lineage = published.parent / "lineage.csv"
    _invoke(published, "export", "--what", "lineage", "--out", str(lineage))
    values = {
        (r["field"], r["value"]) for r in _rows(lineage) if r["golden_id"] == carlos["golden_id"]
    }
    assert ("company", '\'=HYPERLINK("x")') in values and ("phone", "+34655443322") in values
    raw = published.parent / "raw.csv"
    _invoke(published, "export", "--what", "golden", "--raw", "--out", str(raw))
    assert [r["company"] for r in _rows(raw) if r["company"]] == ['=HYPERLINK("x")']


def test_parquet_and_jsonl_keep_nested_values(published: Path) -> None:
    parquet = published.parent / "golden.parquet"
    _invoke(published, "export", "--what", "golden", "--format", "parquet", "--out", str(parquet))
    table = pq.read_table(parquet)
    spend = [s for s in table.column("spend").to_pylist() if s]
    assert all(isinstance(s, list) and "currency" in s[0] for s in spend)
    jsonl = published.parent / "events.jsonl"
    out = _invoke(published, "export", "--what", "events", "--format", "jsonl", "--out", str(jsonl))
    events = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert events and {e["event"] for e in events} == {"CREATED"}
    assert f"wrote {len(events)} events rows" in out
    consent = published.parent / "consent.jsonl"
    _invoke(published, "export", "--what", "consent", "--format", "jsonl", "--out", str(consent))
    rows = [json.loads(line) for line in consent.read_text(encoding="utf-8").splitlines()]
    assert {r["channel"] for r in rows} <= {"email", "sms"} and rows


def _export_since(published: Path, since: str) -> Result:
    return CliRunner().invoke(
        cli,
        ["-c", str(published), "export", "--what", "golden", "--since", since,
         "--out", str(published.parent / "x.csv")],
    )  # fmt: skip


def test_since_a_run_that_never_happened_is_a_clear_error(published: Path) -> None:
    result = _export_since(published, "99")
    assert result.exit_code == 1
    assert "run 99" in result.output and "Traceback" not in result.output
    negative = _export_since(published, "-1")
    assert negative.exit_code == 2

"""No personal data in logs by default (counts and ids only); ``--log-pii`` for debugging."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from omnimdm import StageError, load_config, run
from omnimdm.cli import cli
from omnimdm.logs import REDACTED, allow_pii, pii, scrub
from tests.conftest import write_config

#: personal data found nowhere else in the fixture: none of it may reach a log line
NAME, SURNAME, EMAIL, PHONE = "Zyxwerth", "Qoplimandu", "zyxwerth.q@example.org", "699111222"
REJECTED_NAME = "Vrommelkant"  # only in a ragged (rejected) row
SECRETS = (NAME, SURNAME, EMAIL, PHONE, "699 111 222", REJECTED_NAME)


@pytest.fixture(autouse=True)
def _pii_off() -> Iterator[None]:
    allow_pii(False)
    yield
    allow_pii(False)


def _with_secrets(mini_dir: Path) -> None:
    pos = mini_dir / "pos_square_customers.csv"
    text = pos.read_text(encoding="utf-8")
    width = text.splitlines()[0].count(",")
    good = ["", NAME, SURNAME, EMAIL, "699 111 222"] + [""] * (width - 4)
    good[14] = "K1LOGTEST000000000000000001"
    text += ",".join(good) + "\n" + f"LOY-9,{REJECTED_NAME},Gil\n"  # the second is ragged
    pos.write_text(text, encoding="utf-8")


def test_pipeline_logs_hold_no_personal_data(
    tmp_path: Path, mini_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _with_secrets(mini_dir)
    config_path = write_config(tmp_path, mini_dir)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="splink")
    result = run(load_config(config_path))
    assert result.sources["pos"]["rejected_by_reason"].get("missing_columns") == 1
    text = caplog.text
    assert "rejected (missing_columns); raw row: <redacted>" in text  # the debug line exists
    for secret in SECRETS:
        assert secret not in text, secret
    # steward commands log ids only, too
    caplog.clear()
    args = ["-c", str(config_path), "-vv", "review", "decide", "pos:K1LOGTEST000000000000000001"]
    out = CliRunner().invoke(cli, [*args, "crm:0035g00000AbCdEAAV", "--different"])
    assert out.exit_code == 0, out.output
    assert "pos:K1LOGTEST000000000000000001" in caplog.text
    for secret in SECRETS:
        assert secret not in caplog.text, secret

    # --log-pii: the debug line shows the rejected row
    caplog.clear()
    out = CliRunner().invoke(cli, ["-c", str(config_path), "--log-pii", "-vv", "run"])
    assert out.exit_code == 0, out.output
    assert REJECTED_NAME in caplog.text


def test_redaction_helpers() -> None:
    assert pii("Ana") == REDACTED
    assert scrub("""Could not convert string 'Ana García' to INT32 near "x@y.es" """) == (
        f"Could not convert string '{REDACTED}' to INT32 near \"{REDACTED}\" "
    )
    error = StageError("normalize", 3, ValueError("bad value 'Ana García'"))
    assert "Ana" not in str(error) and "normalize" in str(error)
    allow_pii(True)
    assert pii("Ana") == "Ana"
    assert "Ana García" in str(StageError("normalize", 3, ValueError("bad value 'Ana García'")))


def test_missing_header_error_does_not_quote_a_data_row(tmp_path: Path) -> None:
    """A file exported without its header: the first row is data, so the error counts the
    columns it found instead of naming them (unless --log-pii)."""
    file = tmp_path / "pos.csv"
    file.write_text(f"K1,{NAME},{SURNAME},{EMAIL}\nK2,Ana,Gil,a@x.es\n", encoding="utf-8")
    config = tmp_path / "c.yaml"
    config.write_text(
        "sources:\n  - {name: pos, kind: pos, preset: square_customers, path: pos.csv}\n"
        "store: {path: s.duckdb}\n"
    )
    out = CliRunner().invoke(cli, ["-c", str(config), "run"])
    assert out.exit_code == 1 and "missing required column" in out.output
    assert "none a known header" in out.output
    for secret in (NAME, SURNAME, EMAIL):
        assert secret not in out.output
    out = CliRunner().invoke(cli, ["-c", str(config), "--log-pii", "run"])
    assert out.exit_code == 1 and NAME in out.output

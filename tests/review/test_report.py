"""The run report: one self-contained HTML file whose charts render in headless Chromium
with no network. In CI (CI=true) a missing Chromium fails the test; elsewhere it skips."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.review.conftest import StewardEnv

CHARTS = 6


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is not installed; .ci/run installs Debian's chromium in CI")
    pytest.skip("chromium is not installed (apt-get install -y chromium)")
    return None


def _headless(browser: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            # every network request goes to a dead proxy: the page must need none
            "--proxy-server=127.0.0.1:9",
            "--proxy-bypass-list=<-loopback>",
            "--virtual-time-budget=20000",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_report_is_self_contained_and_counts_only(env: StewardEnv) -> None:
    out = env.folder / "report.html"
    assert "written to" in env.ok("report", "--out", str(out))
    text = out.read_text(encoding="utf-8")
    assert "<script src" not in text and "<link" not in text  # everything inline
    assert text.count("vegaEmbed(") == 1 and "Match-weight distribution" in text
    # no personal data: no e-mail address or name of any record appears
    assert not re.search(r"[\w.+-]+@(gmail|hotmail|yahoo|outlook)\.", text)
    names = env.query("SELECT DISTINCT surname1 FROM norm_customers WHERE surname1 IS NOT NULL")
    leaked = [n for (n,) in names if f">{n}<" in text or f'"{n}"' in text]
    assert not leaked
    assert "pairs queued for review" in text


def test_report_renders_its_charts_in_headless_chromium(env: StewardEnv, tmp_path: Path) -> None:
    browser = _chromium()
    assert browser is not None
    out = tmp_path / "report.html"
    env.ok("report", "--out", str(out))
    dom = _headless(browser, "--dump-dom", out.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert f'data-charts-rendered="{CHARTS}"' in dom.stdout, dom.stdout[-2000:]
    assert not re.search(r"<body[^>]*data-chart-error", dom.stdout)
    assert dom.stdout.count('class="marks"') >= CHARTS  # one SVG per chart
    shot = tmp_path / "report.png"
    result = _headless(browser, "--window-size=1200,2400", f"--screenshot={shot}", out.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000

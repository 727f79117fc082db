"""Benchmark result files: every JSON carries the git sha, library versions and recipe."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from omnimdm.store import library_versions


def git_sha() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=10
        )
        # the result files themselves do not make the measured code dirty
        dirty = subprocess.run(
            [
                "git",
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                ":!benchmarks/results",
            ],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def peak_rss_mb() -> float:
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def write_result(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` plus provenance (sha, versions, machine, time) to ``path``."""
    record = {
        **payload,
        "git_sha": git_sha(),
        "versions": library_versions(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "peak_rss_mb": peak_rss_mb(),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")

"""One writer, many readers: while a process holds the store, every writer command fails at
once naming the holder, readers keep working from the snapshot, and the lock of a process
killed with SIGKILL is free at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import omnimdm
from omnimdm import load_config, run
from omnimdm.cli import cli
from tests.conftest import write_config

A, B = "pos:K1ABCDEFGHJKMNPQRSTVWXYZ02", "crm:0035g00000AbCdEAAV"

#: writer commands (arguments after the command name) that must fail at once
WRITERS = [
    ["run"],
    ["train"],
    ["review", "decide", A, B, "--same"],
    ["review", "revoke", A, B],
    ["split", "G000000001", "--records", A],
    ["merge", "G000000001", "G000000002"],
    ["explain-pair", A, B],  # needs the canonical records: a short store session
    ["forget", "--email", "mj.garcia@gmail.com"],
    ["forget", "--golden-id", "G000000001", "--dry-run"],
]


def _hold(store: Path, ready: Path) -> subprocess.Popen[bytes]:
    """A process that holds the store as a run does (lock and DuckDB file) until killed."""
    script = textwrap.dedent(f"""
        import pathlib, time
        from omnimdm.store import Store
        with Store({str(store)!r}).writer("run") as con:
            con.execute("CREATE TABLE IF NOT EXISTS busy AS SELECT 1")
            pathlib.Path({str(ready)!r}).write_text("ok")
            time.sleep(120)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.time() + 30
    while not ready.exists():
        assert proc.poll() is None, "the holder died"
        assert time.time() < deadline, "the holder did not start"
        time.sleep(0.05)
    return proc


def test_writers_fail_at_once_readers_work_killed_holder_frees_the_lock(
    tmp_path: Path, mini_dir: Path
) -> None:
    config_path = write_config(tmp_path, mini_dir)
    config = load_config(config_path)
    run(config)
    golden = omnimdm.lookup("pos", "K1ABCDEFGHJKMNPQRSTVWXYZ02", store=config)
    assert golden is not None
    holder = _hold(config.store.path, tmp_path / "ready")
    try:
        for args in WRITERS:
            started = time.perf_counter()
            result = CliRunner().invoke(cli, ["-c", str(config_path), *args])
            elapsed = time.perf_counter() - started
            assert result.exit_code == 1, (args, result.output)
            assert f"locked by pid {holder.pid} running 'run'" in result.output, args
            assert "Traceback" not in result.output
            assert elapsed < 1.0, (args, elapsed)
        # readers: export, the read API and explain read the snapshot
        out = tmp_path / "golden.csv"
        result = CliRunner().invoke(
            cli, ["-c", str(config_path), "export", "--what", "golden", "--out", str(out)]
        )
        assert result.exit_code == 0, result.output
        assert out.read_text(encoding="utf-8").startswith("golden_id,")
        assert omnimdm.golden(golden["golden_id"], store=config) is not None
        result = CliRunner().invoke(cli, ["-c", str(config_path), "explain", golden["golden_id"]])
        assert result.exit_code == 0, result.output
        assert "K1ABCDEFGHJKMNPQRSTVWXYZ02" in result.output
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    # the kernel released the dead holder's lock: the next writer gets it at once
    started = time.perf_counter()
    result = CliRunner().invoke(cli, ["-c", str(config_path), "review", "decide", A, B, "--same"])
    assert result.exit_code == 0, result.output
    assert time.perf_counter() - started < 5
    assert run(config).status == "published"


@pytest.mark.parametrize("command", ["run", "review"])
def test_lock_error_names_store_and_holder(tmp_path: Path, command: str) -> None:
    from omnimdm.errors import LockError
    from omnimdm.store import StoreLock

    first, second = StoreLock(tmp_path / "s.duckdb"), StoreLock(tmp_path / "s.duckdb")
    first.acquire(command)  # flock is per open file: a second open in-process conflicts
    try:
        with pytest.raises(LockError) as info:
            second.acquire("train")
        text = str(info.value)
        assert f"pid {os.getpid()} running {command!r}" in text
        assert str(tmp_path / "s.duckdb") in text and "'train'" in text
    finally:
        first.release()
    second.acquire("train")
    second.release()

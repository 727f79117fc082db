from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from omnimdm import LockError, Store, record_id
from omnimdm.store import MIGRATIONS, quote_ident, record_id_sql


def test_record_id_python_and_sql_agree() -> None:
    con = duckdb.connect()
    keys = [("crm", "0035g00000AbCdEAAV"), ("ecommerce", "7012345678901"), ("pos", "x'y\"z")]
    for source, sid in keys:
        sql = record_id_sql("$s", "$i")
        got = con.sql(f"SELECT {sql}", params={"s": source, "i": sid}).fetchall()[0][0]
        assert got == record_id(source, sid)
        assert 0 <= got < 2**63
    # case matters (Salesforce ids are case-sensitive)
    assert record_id("crm", "0035g00000abcdeAAV") != record_id("crm", "0035g00000AbCdEAAV")


def test_quote_ident_escapes_quotes() -> None:
    con = duckdb.connect()
    name = 'x"; DROP TABLE t; --'
    con.execute(f"CREATE TABLE t AS SELECT 1 AS {quote_ident(name)}")
    assert con.sql("DESCRIBE t").fetchall()[0][0] == name


def test_migrations_are_idempotent(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.duckdb")
    for _ in range(2):
        with store.writer("test") as con:
            versions = con.sql("SELECT version FROM schema_version ORDER BY 1").fetchall()
    assert versions == [(v,) for v in sorted(MIGRATIONS)]


def _hold_lock_script(store_path: Path, ready: Path) -> str:
    return textwrap.dedent(f"""
        import time, pathlib
        from omnimdm.store import Store
        with Store({str(store_path)!r}).writer("holder-command"):
            pathlib.Path({str(ready)!r}).write_text("ok")
            time.sleep(60)
    """)


def _start_holder(tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path]:
    store_path = tmp_path / "s.duckdb"
    ready = tmp_path / "ready"
    proc = subprocess.Popen([sys.executable, "-c", _hold_lock_script(store_path, ready)])
    deadline = time.time() + 30
    while not ready.exists():
        assert proc.poll() is None, "lock holder died"
        assert time.time() < deadline, "lock holder did not start"
        time.sleep(0.05)
    return proc, store_path


def test_second_writer_fails_at_once_naming_holder(tmp_path: Path) -> None:
    proc, store_path = _start_holder(tmp_path)
    try:
        started = time.perf_counter()
        with pytest.raises(LockError) as info, Store(store_path).writer("second"):
            pass
        assert time.perf_counter() - started < 2
        assert f"pid {proc.pid}" in str(info.value)
        assert "holder-command" in str(info.value)
    finally:
        proc.kill()
        proc.wait()


def test_lock_of_killed_process_is_released(tmp_path: Path) -> None:
    proc, store_path = _start_holder(tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with Store(store_path).writer("after-kill") as con:
        assert con.sql("SELECT 1").fetchall() == [(1,)]


def test_next_writer_rewrites_a_missing_or_stale_snapshot(tmp_path: Path) -> None:
    from omnimdm import load_config, run
    from tests.conftest import FIXTURES, write_config

    config = load_config(write_config(tmp_path, FIXTURES / "mini"))
    run(config)
    store = Store(config.store.path)
    # a store written before the snapshot's run was recorded: the snapshot is checked once
    with duckdb.connect(str(store.path)) as con:
        con.execute("DROP TABLE snapshot_state")
    stamp = store.snapshot_path.stat().st_mtime_ns
    with store.writer("check") as con:
        assert con.sql("SELECT run_id FROM snapshot_state").fetchall() == [(1,)]
    assert store.snapshot_path.stat().st_mtime_ns == stamp  # it was current: not rewritten
    # a deleted snapshot is written again by the next writer
    store.snapshot_path.unlink()
    with store.writer("check"):
        pass
    assert store.snapshot_run() == 1
    with store.reader() as con:
        assert con.sql("SELECT count(*) FROM crosswalk").fetchall()[0][0] > 0

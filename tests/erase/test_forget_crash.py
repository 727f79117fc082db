"""`omnimdm forget` killed with SIGKILL: before its publish, and between the publish and
the file rewrite.

The erasure is published in one transaction; the file rewrite comes after it. A kill
before the publish changes nothing. A kill after it leaves the deleted rows' bytes in the
file and an open ``erasure_audit`` row, so the next writer to open the store (any command:
here a steward decision, as in real life) must rewrite the file before anything else.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from omnimdm import faults
from omnimdm.store import StoreLock
from tests.erase.conftest import ErasureEnv
from tests.erase.traces import byte_hits, sql_hits

pytestmark = pytest.mark.slow

OMNIMDM = str(Path(sys.executable).with_name("omnimdm"))
#: Carlos Ruiz's e-mail (forgotten) and another person's (must stay)
GONE, KEPT = "carlos.ruiz@gmail.com", "lola.sanchez@yahoo.es"
#: the points a forget reaches, in order
POINTS = ["after:erase", *(p for p in faults.POINTS if p.startswith("forget:"))]


def _open_audits(env: ErasureEnv) -> list[tuple[object, ...]]:
    return env.query("SELECT count(*) FILTER (finished_at IS NULL), count(*) FROM erasure_audit")


@pytest.mark.parametrize("point", POINTS)
def test_forget_killed_then_the_next_writer_finishes_the_job(env: ErasureEnv, point: str) -> None:
    assert byte_hits(env.store, [GONE, KEPT]) == [GONE, KEPT]  # sanity
    proc = subprocess.run(
        [OMNIMDM, "-c", str(env.config_path), "forget", "--email", GONE],
        env={**os.environ, faults.ENV: point},
        capture_output=True,
        check=False,
    )
    assert proc.returncode == -9, proc.stdout + proc.stderr
    lock = StoreLock(env.store)
    lock.acquire("crash-test")  # the kernel freed the dead process's lock
    lock.release()

    if point == "after:erase":
        # nothing published: the person is still there, no audit row, no tombstone
        assert sql_hits(env.store, [GONE])
        assert _open_audits(env) == [(0, 0)]
        assert env.query("SELECT count(*) FROM erasure_tombstones") == [(0,)]
    else:
        # published: no table holds the person any more, only the old bytes do
        assert sql_hits(env.store, [GONE]) == []
        assert _open_audits(env) == [(1, 1)]
        assert byte_hits(env.store, [GONE]) == [GONE]
        assert bool(list(env.folder.glob("t.duckdb.rewrite-*"))) == (
            point == "forget:before_rename"  # the fresh file written, not swapped in
        )

    # the next writer, whatever it is, marks a killed rebuild failed or owes the rewrite
    env.ok(
        "review", "decide", "crm:0035g00000AbCdEAAV", "ecommerce:7012345678901", "--same"
    )  # fmt: skip
    assert not list(env.folder.glob("t.duckdb.rewrite-*"))
    assert env.query("SELECT count(*) FROM runs WHERE status = 'running'") == [(0,)]
    assert env.query("SELECT count(*) FROM review_decisions") == [(1,)]
    if point == "after:erase":
        assert env.query("SELECT status FROM runs ORDER BY run_id DESC LIMIT 1") == [("failed",)]
        env.ok("forget", "--email", GONE)
    assert _open_audits(env) == [(0, 1)]
    for db in (env.store, env.snapshot):
        assert byte_hits(db, [GONE, KEPT]) == [KEPT], db.name
        assert sql_hits(db, [GONE]) == [], db.name

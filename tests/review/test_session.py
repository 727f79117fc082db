"""The interactive review: a whole session through CliRunner (decide, undo, quit, resume),
the real command in a pseudo-terminal, and a store that is never held between keys."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pexpect
import pytest

from omnimdm import run
from omnimdm.review.session import ReviewSession
from omnimdm.store import Store
from tests.review.conftest import StewardEnv

SCRIPTED = {"OMNIMDM_REVIEW_INPUT": "stdin"}


def _queue_keys(env: StewardEnv) -> list[tuple[str, str]]:
    rows = env.query(
        "SELECT source_l || ':' || source_record_id_l, source_r || ':' || source_record_id_r "
        "FROM review_queue ORDER BY position"
    )
    return [(str(a), str(b)) for a, b in rows]


def test_session_decide_undo_quit_resume(env: StewardEnv) -> None:
    queue = _queue_keys(env)
    total = len(queue)
    result = env.cli("review", "--reviewer", "eva", input="y n u q", env=SCRIPTED)
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"1 / {total}" in out and f"2 / {total}" in out
    assert "level reached" in out and "match weight" in out  # the comparison table
    assert "undone" in out
    assert "saved: 1 decision(s)" in out
    rows = env.query(
        "SELECT source_a || ':' || source_record_id_a, source_b || ':' || source_record_id_b, "
        "decision, reviewer, origin, revoked_at IS NOT NULL, revoke_note "
        "FROM review_decisions ORDER BY decision_id"
    )
    assert len(rows) == 2
    assert set(rows[0][:2]) == set(queue[0]) and rows[0][2:6] == ("same", "eva", "review", False)
    assert set(rows[1][:2]) == set(queue[1]) and rows[1][2] == "different"
    assert rows[1][5] is True and rows[1][6] == "undone in review"
    # resume: the first pair is decided, so the undone one comes first
    again = env.cli("review", input="q", env=SCRIPTED)
    assert again.exit_code == 0, again.output
    assert f"1 / {total - 1}" in again.output
    first_shown = again.output.index("record A")
    assert queue[1][0] in again.output[first_shown:] and queue[0][0] not in again.output


def test_without_a_terminal_it_points_to_the_batch_commands(env: StewardEnv) -> None:
    result = env.cli("review")
    assert result.exit_code == 1
    assert "needs a terminal" in result.output and "omnimdm review list" in result.output
    assert "Traceback" not in result.output


def test_store_is_free_between_keys_and_a_locked_store_keeps_the_pair(
    env: StewardEnv,
) -> None:
    session = ReviewSession(Store(env.store), "eva")
    first = session.start()
    assert first.shown is not None and first.position == 1
    # a nightly run goes through while the steward looks at the pair
    assert run(env.config()).status == "published"
    # a writer holding the store: the decision is not saved and the pair stays
    ready = env.folder / "ready"
    script = textwrap.dedent(f"""
        import pathlib, time
        from omnimdm.store import Store
        with Store({str(env.store)!r}).writer("run"):
            pathlib.Path({str(ready)!r}).write_text("ok")
            time.sleep(60)
    """)
    holder = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.time() + 30
        while not ready.exists():
            assert holder.poll() is None and time.time() < deadline
            time.sleep(0.05)
        blocked = session.press("y")
        assert blocked.message and "not saved" in blocked.message and "locked" in blocked.message
        assert blocked.position == 1
    finally:
        holder.kill()
        holder.wait()
    saved = session.press("y")
    assert saved.position == 2 and saved.decided == 1
    session.close()
    assert env.query("SELECT count(*) FROM review_decisions WHERE revoked_at IS NULL") == [(1,)]


def test_real_command_in_a_pseudo_terminal(env: StewardEnv) -> None:
    exe = Path(sys.executable).with_name("omnimdm")
    environment = {k: v for k, v in os.environ.items() if k != "OMNIMDM_REVIEW_INPUT"}
    child = pexpect.spawn(
        str(exe),
        ["-c", str(env.config_path), "review", "--reviewer", "pty"],
        env=environment,
        encoding="utf-8",
        dimensions=(60, 160),
        timeout=60,
    )
    try:
        child.expect(r"1 / \d+")
        child.expect("quit")
        child.send("y")
        child.expect(r"2 / \d+")
        child.expect("quit")
        child.send("s")
        child.expect(r"3 / \d+")
        child.expect("quit")
        child.send("u")
        child.expect("undone")
        child.send("q")
        child.expect("saved: 1 decision")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert env.query("SELECT reviewer FROM review_decisions") == [("pty",)]


@pytest.mark.parametrize("key", ["x", "?"])
def test_unknown_key_is_explained(env: StewardEnv, key: str) -> None:
    session = ReviewSession(Store(env.store), "eva")
    session.start()
    screen = session.press(key)
    session.close()
    assert screen.position == 1 and screen.message and "y same" in screen.message

"""Spreadsheet round trip, all-or-nothing imports, and a failed run that loses nothing."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from omnimdm import run
from omnimdm.store import Store
from tests.review.conftest import StewardEnv


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_csv_round_trip(env: StewardEnv) -> None:
    queue = env.folder / "queue.csv"
    out = env.ok("review", "export", "--out", str(queue))
    rows = _read(queue)
    total = env.query("SELECT count(*) FROM review_queue")[0][0]
    assert f"wrote {total:,} pairs" in out and len(rows) == total
    assert {"record_a", "record_b", "decision", "note", "given_name_a", "given_name_b"} <= set(
        rows[0]
    )
    rows[0]["decision"], rows[0]["note"] = "same", "same phone, same address"
    rows[1]["decision"] = "Different"  # case does not matter
    _write(queue, rows)
    out = env.ok("review", "import", str(queue), "--reviewer", "sheet")
    assert "imported 2 decisions" in out
    decided = env.query(
        "SELECT source_a || ':' || source_record_id_a, source_b || ':' || source_record_id_b, "
        "decision, reviewer, origin, note FROM review_decisions ORDER BY decision_id"
    )
    assert {decided[0][0], decided[0][1]} == {rows[0]["record_a"], rows[0]["record_b"]}
    assert decided[0][2:] == ("same", "sheet", "import", "same phone, same address")
    assert decided[1][2] == "different"
    # a second export leaves the decided pairs out; importing the same file again is a no-op
    env.ok("review", "export", "--out", str(queue))
    assert len(_read(queue)) == total - 2
    again = env.folder / "again.csv"
    _write(again, rows)
    assert "imported 0 decisions (2 already decided" in env.ok("review", "import", str(again))
    env.ok("run")
    a, b = rows[0]["record_a"], rows[0]["record_b"]
    assert env.golden_of(a) == env.golden_of(b)


def test_bad_import_reports_every_line_and_applies_nothing(env: StewardEnv) -> None:
    queue = env.folder / "queue.csv"
    env.ok("review", "export", "--out", str(queue))
    rows = _read(queue)[:6]
    a, b = rows[0]["record_a"], rows[0]["record_b"]
    c = rows[1]["record_a"] if rows[1]["record_a"] not in (a, b) else rows[1]["record_b"]
    rows[0]["decision"] = "same"  # line 2: fine on its own
    rows[1]["decision"] = "maybe"  # line 3: bad value
    rows[2]["decision"], rows[2]["record_b"] = "same", "crm:NOT-THERE"  # line 4: unknown id
    rows[3].update(record_a=b, record_b=c, decision="same")  # line 5: b = c
    rows[4].update(record_a=a, record_b=c, decision="different")  # line 6: contradicts 2 and 5
    rows[5].update(record_a=b, record_b=a, decision="different")  # line 7: contradicts line 2
    path = env.folder / "bad.csv"
    _write(path, rows)
    result = env.cli("review", "import", str(path))
    assert result.exit_code == 1 and "Traceback" not in result.output
    text = result.output
    assert "nothing was applied" in text
    assert "line 3: decision 'maybe'" in text
    assert "line 4: unknown record crm:NOT-THERE" in text
    assert "line 6:" in text and "line 2 of this batch" in text and "line 5 of this batch" in text
    assert "line 7:" in text
    assert "line 5:" not in text.replace("line 5 of this batch", "")
    assert env.query("SELECT count(*) FROM review_decisions") == [(0,)]
    missing = env.folder / "nocols.csv"
    missing.write_text("a,b\n1,2\n", encoding="utf-8")
    result = env.cli("review", "import", str(missing))
    assert result.exit_code == 1 and "line 1: missing column(s) decision, record_a, record_b" in (
        result.output
    )


def test_failed_run_keeps_queue_and_decisions(env: StewardEnv) -> None:
    ((a, b),) = [
        (f"{r[0]}:{r[1]}", f"{r[2]}:{r[3]}")
        for r in env.query(
            "SELECT source_l, source_record_id_l, source_r, source_record_id_r FROM review_queue "
            "WHERE kind = 'uncertain' ORDER BY position LIMIT 1"
        )
    ]
    env.ok("review", "decide", a, b, "--different", "--note", "kept")
    env.ok("run")
    queue_before = env.query("SELECT * EXCLUDE (run_id) FROM review_queue ORDER BY position")
    decisions_before = env.query("SELECT * FROM review_decisions ORDER BY decision_id")
    assert queue_before and decisions_before
    env.ok("review", "decide", *_other_pair(env), "--same")  # a decision between runs
    decisions_before = env.query("SELECT * FROM review_decisions ORDER BY decision_id")

    def interrupt(stage: str, event: str) -> None:
        # the review stage has staged the new queue: stop the run as Ctrl-C would
        if (stage, event) == ("review", "done"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(env.config(), progress=interrupt)
    assert env.query("SELECT * EXCLUDE (run_id) FROM review_queue ORDER BY position") == (
        queue_before
    )
    assert env.query("SELECT * FROM review_decisions ORDER BY decision_id") == decisions_before
    assert env.query("SELECT status FROM runs ORDER BY run_id DESC LIMIT 1") == [("failed",)]
    assert not env.query("SELECT 1 FROM duckdb_tables() WHERE table_name LIKE 'stg_r%'")
    # a broken source fails the run early: still nothing lost
    (env.data / "pos_square_customers.csv").write_bytes(b"")
    assert env.cli("run").exit_code == 1
    assert env.query("SELECT * FROM review_decisions ORDER BY decision_id") == decisions_before
    assert len(env.query("SELECT 1 FROM review_queue")) == len(queue_before)


def _other_pair(env: StewardEnv) -> tuple[str, str]:
    rows = env.query(
        "SELECT source_l || ':' || source_record_id_l, source_r || ':' || source_record_id_r "
        "FROM review_queue WHERE kind = 'uncertain' ORDER BY position DESC LIMIT 1"
    )
    return str(rows[0][0]), str(rows[0][1])


def test_migrations_fill_gaps_in_ascending_order(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    con = duckdb.connect(str(path))
    migrations = {
        1: ("CREATE TABLE one (x INTEGER)",),
        3: ("CREATE TABLE three AS SELECT count(*) AS n FROM one",),
    }
    Store.migrate(con, migrations)
    assert con.sql("SELECT version FROM schema_version ORDER BY 1").fetchall() == [(1,), (3,)]
    # another branch's migration 2 lands later: it is applied, 1 and 3 are not re-run
    migrations[2] = ("INSERT INTO one VALUES (2)", "CREATE TABLE two (y INTEGER)")
    Store.migrate(con, migrations)
    assert con.sql("SELECT version FROM schema_version ORDER BY 1").fetchall() == [
        (1,),
        (2,),
        (3,),
    ]
    assert con.sql("SELECT count(*) FROM one").fetchall() == [(1,)]
    Store.migrate(con, migrations)  # idempotent
    assert con.sql("SELECT count(*) FROM schema_version").fetchall() == [(3,)]
    # a store migrated by newer code is refused
    con.execute("INSERT INTO schema_version VALUES (9, now())")
    with pytest.raises(Exception, match="newer than this omnimdm"):
        Store.migrate(con, migrations)
    con.close()


def test_steward_commands_before_any_run_are_clear_errors(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from omnimdm.cli import cli
    from tests.conftest import FIXTURES, write_config

    config = write_config(tmp_path, FIXTURES / "mini")
    for args in (
        ["review", "list"],
        ["review", "decide", "crm:a", "crm:b", "--same"],
        ["explain", "GX"],
        ["explain-pair", "crm:a", "crm:b"],
        ["report", "--out", str(tmp_path / "r.html")],
    ):
        result = CliRunner().invoke(cli, ["-c", str(config), *args])
        assert result.exit_code == 1, (args, result.output)
        assert "omnimdm run" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "t.duckdb").exists()

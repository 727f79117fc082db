"""Golden ids across real pipeline runs: kept, created, retired; the sequence only moves
when a run publishes; ``--since`` exports only what changed."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
from click.testing import CliRunner

import omnimdm
from omnimdm import Store, load_config, run
from omnimdm.cli import cli
from tests.conftest import write_config

NEW_POS_ROW = (
    ",Beatriz,Nuñez,,633 222 111,,,,,Bilbao,,48001,,,K1ABCDEFGHJKMNPQRSTVWXYZ99,"
    "Point of Sale,2024-01-01,2024-06-01,1,15.00,\n"
)


def _published(store: Path, sql: str) -> list[tuple]:
    with Store(store).reader() as con:
        return con.sql(sql).fetchall()


def _export(config: Path, *args: str) -> list[dict[str, str]]:
    out = config.parent / "export.csv"
    result = CliRunner().invoke(cli, ["-c", str(config), "export", *args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(out.open(encoding="utf-8")))


def test_rerun_keeps_ids_and_logs_nothing(tmp_path: Path, mini_dir: Path) -> None:
    config = load_config(write_config(tmp_path, mini_dir))
    run(config)
    crosswalk = "SELECT golden_id, source, source_record_id FROM crosswalk ORDER BY ALL"
    before = _published(config.store.path, crosswalk)
    second = run(config)
    assert _published(config.store.path, crosswalk) == before
    assert second.counts["cluster"]["new_golden_ids"] == 0
    assert second.counts["survive"]["changed_golden_records"] == 0
    events = _published(
        config.store.path, "SELECT run_id, event, count(*) FROM golden_events GROUP BY ALL"
    )
    assert events == [(1, "CREATED", len({g for g, _, _ in before}))]
    assert _published(config.store.path, "SELECT DISTINCT updated_run FROM golden_customers") == [
        (1,)
    ]


def test_export_since_returns_only_what_changed(tmp_path: Path, mini_dir: Path) -> None:
    path = write_config(tmp_path, mini_dir)
    config = load_config(path)
    run(config)
    store = config.store.path
    lola = _published(
        store, "SELECT golden_id FROM crosswalk WHERE source_record_id = '0035g00000QrStUAAV'"
    )[0][0]
    # one new POS customer; Dolores changes her e-mail in the CRM
    with (mini_dir / "pos_square_customers.csv").open("a", encoding="utf-8") as fh:
        fh.write(NEW_POS_ROW)
    crm = mini_dir / "crm_salesforce_contacts.csv"
    crm.write_text(
        crm.read_text(encoding="utf-8").replace("lola.sanchez@yahoo.es", "dolores.sp@yahoo.es")
    )
    run(config)
    new = _published(
        store,
        "SELECT golden_id FROM crosswalk WHERE source_record_id = 'K1ABCDEFGHJKMNPQRSTVWXYZ99'",
    )[0][0]

    golden = _export(path, "--what", "golden", "--since", "1")
    assert {(r["golden_id"], r["change"]) for r in golden} == {(new, "created"), (lola, "changed")}
    assert [r["email"] for r in golden if r["golden_id"] == lola] == ["dolores.sp@yahoo.es"]
    crosswalk = _export(path, "--what", "crosswalk", "--since", "1")
    assert {r["golden_id"] for r in crosswalk} == {new, lola}
    lineage = _export(path, "--what", "lineage", "--since", "1")
    assert {r["golden_id"] for r in lineage} == {new, lola}
    events = _export(path, "--what", "events", "--since", "1")
    assert [(r["run_id"], r["event"], r["golden_id"]) for r in events] == [("2", "CREATED", new)]
    # without --since: everything
    assert len(_export(path, "--what", "golden")) > 2


def test_retired_records_retire_their_id(tmp_path: Path, mini_dir: Path) -> None:
    path = write_config(tmp_path, mini_dir)
    config = load_config(path)
    run(config)
    store = config.store.path
    pedro = _published(
        store, "SELECT golden_id FROM crosswalk WHERE source_record_id = '1234567890125'"
    )[0][0]
    calls = mini_dir / "callcenter_zendesk_users.json"
    import json

    users = [
        u for u in json.loads(calls.read_text(encoding="utf-8")) if str(u["id"]) != "1234567890125"
    ]
    calls.write_text(json.dumps(users), encoding="utf-8")
    run(config)
    assert _published(store, "SELECT event, golden_id FROM golden_events WHERE run_id = 2") == [
        ("RETIRED", pedro)
    ]
    golden = _export(path, "--what", "golden", "--since", "1")
    assert [(r["golden_id"], r["change"]) for r in golden] == [(pedro, "retired")]
    retired = omnimdm.golden(pedro, store=config)
    assert retired is not None and retired["status"] == "retired"
    assert retired["merged_into"] is None and retired["current_golden_id"] is None


def test_a_run_that_does_not_publish_leaves_the_sequence(tmp_path: Path, mini_dir: Path) -> None:
    config = load_config(write_config(tmp_path, mini_dir))
    run(config)
    seq = "SELECT last_value FROM golden_id_sequence"
    with Store(config.store.path).writer("check") as con:
        (before,) = con.sql(seq).fetchall()
    with (mini_dir / "pos_square_customers.csv").open("a", encoding="utf-8") as fh:
        fh.write(NEW_POS_ROW)
    partial = run(config, stop_after="survive")  # ids assigned, nothing published
    assert partial.status == "partial" and partial.counts["cluster"]["new_golden_ids"] == 1
    with Store(config.store.path).writer("check") as con:
        assert con.sql(seq).fetchall() == [before]
        assert con.sql("SELECT count(*) FROM golden_events WHERE run_id > 1").fetchall() == [(0,)]
    run(config)
    with Store(config.store.path).writer("check") as con:
        assert con.sql(seq).fetchall() == [(before[0] + 1,)]
        new = con.sql("SELECT golden_id FROM golden_events WHERE run_id = 3").fetchall()
    assert new == [(f"G{before[0] + 1:09d}",)]


def test_store_from_before_stable_ids_keeps_its_ids(tmp_path: Path, mini_dir: Path) -> None:
    """A store published by an older omnimdm (schema 1, hash-style ids) migrates; its ids
    are matched like any other and new clusters continue from the sequence."""
    config = load_config(write_config(tmp_path, mini_dir))
    run(config)
    store = config.store.path
    con = duckdb.connect(str(store))
    con.execute("UPDATE clusters SET golden_id = 'GOLD' || golden_id")
    con.execute("DROP TABLE golden_ids")
    con.execute("DROP TABLE golden_id_sequence")
    con.execute("DROP TABLE golden_events")
    con.execute("DELETE FROM schema_version WHERE version > 1")
    con.close()
    run(config)
    ids = {g for (g,) in _published(store, "SELECT DISTINCT golden_id FROM crosswalk")}
    assert ids and all(g.startswith("GOLDG") for g in ids)

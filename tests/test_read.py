"""The read API: golden(), lookup(), changes(), events() from the published snapshot."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

import omnimdm
from omnimdm import Store, load_config, run
from tests.conftest import write_config


def test_lookup_golden_changes_and_events(tmp_path: Path, mini_dir: Path) -> None:
    config = load_config(write_config(tmp_path, mini_dir))
    result = run(config)
    record = omnimdm.lookup("ecommerce", "7012345678901", store=config)
    assert record is not None and record["status"] == "active"
    members = {(m["source"], m["source_record_id"]) for m in record["members"]}
    assert ("crm", "0035g00000AbCdEAAV") in members
    assert record["given_name"] == "María José"
    assert {row["field"] for row in record["lineage"]} >= {"given_name", "email"}
    again = omnimdm.golden(record["golden_id"], store=str(config.store.path))
    assert again == record
    assert omnimdm.lookup("crm", "no-such-id", store=config) is None
    assert omnimdm.golden("G999999999", store=Store(config.store.path)) is None

    changed = omnimdm.changes(0, store=config)
    assert isinstance(changed, pa.Table)
    assert set(changed.column("change").to_pylist()) == {"created"}
    assert changed.num_rows == result.counts["survive"]["golden_records"]
    assert omnimdm.changes(result.run_id, store=config).num_rows == 0
    events = omnimdm.events(store=config)
    assert set(events.column("event").to_pylist()) == {"CREATED"}
    assert omnimdm.published_run(store=config) == result.run_id


def test_a_split_moves_the_record_and_keeps_the_id(tmp_path: Path, mini_dir: Path) -> None:
    config = load_config(write_config(tmp_path, mini_dir))
    run(config)
    store = Store(config.store.path)
    lupita = omnimdm.lookup("callcenter", "1234567890124", store=store)
    assert lupita is not None
    # the call-center record of Lupita becomes a record of its own: a split
    calls = mini_dir / "callcenter_zendesk_users.json"
    import json

    users = json.loads(calls.read_text(encoding="utf-8"))
    for user in users:
        if str(user["id"]) == "1234567890124":
            user.update(name="Zacarías Quintana", email="zq@example.org", phone=None)
            user["user_fields"] = {}
    calls.write_text(json.dumps(users), encoding="utf-8")
    second = run(config)
    moved = omnimdm.lookup("callcenter", "1234567890124", store=store)
    assert moved is not None and moved["golden_id"] != lupita["golden_id"]
    kept = omnimdm.golden(lupita["golden_id"], store=store)
    assert kept is not None and kept["status"] == "active"
    events = omnimdm.events(second.run_id - 1, store=store).to_pylist()
    assert {(e["event"], e["golden_id"], e["related_golden_id"]) for e in events} >= {
        ("SPLIT_FROM", moved["golden_id"], lupita["golden_id"]),
        ("RECORD_MOVED", moved["golden_id"], lupita["golden_id"]),
    }


def test_reads_work_while_a_writer_holds_the_store(tmp_path: Path, mini_dir: Path) -> None:
    config = load_config(write_config(tmp_path, mini_dir))
    run(config)
    with Store(config.store.path).writer("run"):
        assert omnimdm.lookup("crm", "0035g00000AbCdEAAV", store=config) is not None


def test_a_merged_id_points_to_where_its_record_lives(tmp_path: Path, mini_dir: Path) -> None:
    config = load_config(write_config(tmp_path, mini_dir))
    run(config)
    store = Store(config.store.path)
    carlos = omnimdm.lookup("ecommerce", "7012345678903", store=store)
    lola = omnimdm.lookup("crm", "0035g00000QrStUAAV", store=store)
    assert carlos is not None and lola is not None
    # Carlos's shop record turns out to be Dolores's: it joins her golden record
    shop = mini_dir / "ecommerce_shopify_customers.csv"
    shop.write_text(
        shop.read_text(encoding="utf-8")
        .replace("Carlos,Ruiz,carlos.ruiz@gmail.com", "Dolores,Sánchez Pérez,lola.sanchez@yahoo.es")
        .replace("'+34655443322", "'+34622334455"),
        encoding="utf-8",
    )
    run(config)
    merged = omnimdm.golden(carlos["golden_id"], store=store)
    assert merged == {
        "golden_id": carlos["golden_id"],
        "status": "retired",
        "created_run": 1,
        "retired_run": 2,
        "merged_into": lola["golden_id"],
        "current_golden_id": lola["golden_id"],
    }
    now = omnimdm.lookup("ecommerce", "7012345678903", store=store)
    assert now is not None and now["golden_id"] == lola["golden_id"]
    changed = omnimdm.changes(1, store=store).to_pylist()
    assert {(r["golden_id"], r["change"], r["merged_into"]) for r in changed} == {
        (carlos["golden_id"], "merged", lola["golden_id"]),
        (lola["golden_id"], "changed", None),
    }


def test_readme_pipeline_example_runs(tmp_path: Path, mini_dir: Path) -> None:
    config = load_config(write_config(tmp_path, mini_dir))
    result = run(config)
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Reading golden records from a pipeline") :]
    code = section[section.index("```python") + len("```python") : section.index("```\n", 10)]
    code = code.replace('"omnimdm.duckdb"', repr(str(config.store.path)))
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)  # our own documentation
    synced = namespace["synced"]
    assert isinstance(synced, dict) and synced["run"] == result.run_id
    assert len(synced["customers"]) == result.counts["survive"]["golden_records"]
    order = namespace["order"]
    assert isinstance(order, dict) and order["golden_id"] and order["email_ok"] is True

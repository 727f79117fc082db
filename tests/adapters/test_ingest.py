from __future__ import annotations

import csv
import random
from pathlib import Path

import duckdb
import pytest

from omnimdm import SourceError, Store, load_config, record_id, run
from omnimdm.config import Config
from tests.conftest import write_config


def _published(config: Config, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(config.store.path), read_only=True)
    try:
        return con.sql(sql).fetchall()
    finally:
        con.close()


def test_rows_reconcile_and_rejects_have_reasons(mini_config: Config) -> None:
    result = run(mini_config)
    for name, c in result.sources.items():
        assert c["read"] == c["accepted"] + c["rejected"] + c["suppressed"], name
    assert result.sources["ecommerce"]["rejected_by_reason"] == {"duplicate_source_record_id": 1}
    assert result.sources["pos"]["rejected_by_reason"] == {"missing_source_record_id": 1}
    rejects = _published(
        mini_config, "SELECT source, row_ordinal, reason FROM rejects ORDER BY source"
    )
    # data-row ordinals exclude the header; the earlier duplicate (row 3) is rejected
    assert rejects == [
        ("ecommerce", 3, "duplicate_source_record_id"),
        ("pos", 4, "missing_source_record_id"),
    ]
    total_accepted = sum(c["accepted"] for c in result.sources.values())
    assert _published(mini_config, "SELECT count(*) FROM crosswalk") == [(total_accepted,)]


def test_ids_and_postcodes_stay_text(mini_config: Config) -> None:
    run(mini_config)
    rows = _published(
        mini_config,
        "SELECT source_record_id, postcode FROM norm_customers WHERE source = 'ecommerce' "
        "ORDER BY 1",
    )
    assert rows[0] == ("7012345678901", "28013")  # Shopify's apostrophe removed
    crm = _published(
        mini_config,
        "SELECT source_record_id, record_id FROM norm_customers WHERE source = 'crm' ORDER BY 1",
    )
    assert ("0035g00000AbCdEAAV", record_id("crm", "0035g00000AbCdEAAV")) in crm
    mx = _published(
        mini_config, "SELECT postcode FROM norm_customers WHERE source = 'crm' AND country = 'MX'"
    )
    assert mx == [("03100",)]


def test_duplicate_ids_keep_latest_update(tmp_path: Path, mini_dir: Path) -> None:
    path = mini_dir / "crm_salesforce_contacts.csv"
    rows = list(csv.reader(path.open(encoding="utf-8")))
    newer = list(rows[1])
    newer[3] = "new.address@gmail.com"
    newer[-1] = "2025-01-01T00:00:00.000Z"
    older = list(rows[1])
    older[3] = "old.address@gmail.com"
    older[-1] = "2020-01-01T00:00:00.000Z"
    # newest first in the file, so "last in file" alone would pick the wrong one
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([rows[0], newer, *rows[2:], older])
    config = load_config(write_config(tmp_path, mini_dir))
    result = run(config)
    assert result.sources["crm"]["rejected_by_reason"] == {"duplicate_source_record_id": 1}
    emails = _published(
        config, "SELECT email FROM norm_customers WHERE source_record_id = '0035g00000AbCdEAAV'"
    )
    assert emails == [("new.address@gmail.com",)]


def test_missing_required_column_names_expected_and_found(tmp_path: Path, mini_dir: Path) -> None:
    path = mini_dir / "pos_square_customers.csv"
    text = path.read_text(encoding="utf-8").replace("Square Customer ID", "Customer Key")
    path.write_text(text, encoding="utf-8")
    config = load_config(write_config(tmp_path, mini_dir))
    with pytest.raises(SourceError) as info:
        run(config)
    msg = str(info.value)
    assert "Square Customer ID" in msg and "Customer Key" in msg
    assert "pos_square_customers.csv" in msg


def test_failed_run_leaves_published_results_intact(tmp_path: Path, mini_dir: Path) -> None:
    config = load_config(write_config(tmp_path, mini_dir))
    first = run(config)
    before = _published(config, "SELECT * FROM golden_customers ORDER BY golden_id")
    (mini_dir / "callcenter_zendesk_users.json").write_text("[{broken json", encoding="utf-8")
    with pytest.raises(SourceError, match="callcenter"):
        run(config)
    assert _published(config, "SELECT * FROM golden_customers ORDER BY golden_id") == before
    runs = _published(config, "SELECT run_id, status FROM runs ORDER BY run_id")
    assert runs == [(first.run_id, "published"), (first.run_id + 1, "failed")]
    with Store(config.store.path).writer("check") as con:
        assert Store.tables(con, prefix="stg_") == []


def _shuffle_csv(path: Path, seed: int) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    body = lines[1:]
    random.Random(seed).shuffle(body)
    path.write_text(lines[0] + "".join(body), encoding="utf-8")


def test_identity_and_clusters_stable_under_row_shuffling(tmp_path: Path, mini_dir: Path) -> None:
    config = load_config(write_config(tmp_path, mini_dir))
    run(config)
    query = "SELECT golden_id, source, source_record_id, record_id FROM crosswalk ORDER BY ALL"
    before = _published(config, query)
    for name in ("crm_salesforce_contacts.csv", "pos_square_customers.csv"):
        _shuffle_csv(mini_dir / name, seed=7)
    other = tmp_path / "other"
    other.mkdir()
    config2 = load_config(write_config(other, mini_dir))
    run(config2)
    assert _published(config2, query) == before


def test_snapshot_retires_and_delta_updates(tmp_path: Path, mini_dir: Path) -> None:
    config = load_config(write_config(tmp_path, mini_dir))
    run(config)
    crm = mini_dir / "crm_salesforce_contacts.csv"
    lines = crm.read_text(encoding="utf-8").splitlines(keepends=True)
    # drop Dolores from the CRM snapshot and change José's email
    kept = [ln for ln in lines if "QrStU" not in ln]
    kept = [ln.replace("pepe.fernandez@hotmail.es", "jose.fr@hotmail.es") for ln in kept]
    crm.write_text("".join(kept), encoding="utf-8")
    result = run(config)
    c = result.sources["crm"]
    assert (c["new"], c["updated"], c["unchanged"], c["retired"]) == (0, 1, 2, 1)
    assert _published(config, "SELECT count(*) FROM crosswalk WHERE source = 'crm'") == [(3,)]


def test_store_with_md5_content_hashes_migrates_without_spurious_updates(
    tmp_path: Path, mini_dir: Path
) -> None:
    """A store written before migration 5 (md5 hex in ``src_records.content_hash``) is
    hashed again on open: rerunning the same files finds every record unchanged."""
    config = load_config(write_config(tmp_path, mini_dir))
    run(config)
    con = duckdb.connect(str(config.store.path))
    con.execute("ALTER TABLE src_records ALTER content_hash TYPE VARCHAR USING md5(raw::VARCHAR)")
    con.execute("DELETE FROM schema_version WHERE version = 5")
    con.close()
    result = run(config)
    for counts in result.sources.values():
        assert counts["updated"] == counts["new"] == 0
        assert counts["unchanged"] == counts["accepted"] > 0
    types = _published(
        config,
        "SELECT data_type FROM duckdb_columns() WHERE "
        "table_name = 'src_records' AND column_name = 'content_hash'",
    )
    assert types == [("UBIGINT",)]

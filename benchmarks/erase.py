"""Erasure benchmark: `forget` on a published store, and what tombstones cost at ingest.

    python benchmarks/erase.py --records 40000 200000

For each size: a store with one published run (trained), a rerun without tombstones
(ingest baseline), then three requests timed end to end (an e-mail, a golden id with
four records, a phone), then a rerun on the same exports with their tombstones (ingest
with suppression). Checks on the way: every other record keeps its golden id and its
cluster partners, and the rerun suppresses exactly the removed records. Writes
``benchmarks/results/erase.json``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

sys.path.insert(0, str(Path(__file__).parent))

from datasets import DATA_ROOT, synthetic_dataset  # noqa: E402
from omnimdm import ForgetRequest, Store, forget, load_config, run  # noqa: E402
from omnimdm.benchmark_record import peak_rss_mb, write_result  # noqa: E402
from omnimdm.config import Config  # noqa: E402

REPO = Path(__file__).parent.parent
RESULTS = Path(__file__).parent / "results"


def _query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.sql(sql).fetchall()
    finally:
        con.close()


def _requests(store: Path) -> list[tuple[str, ForgetRequest, bool]]:
    """Three persons picked deterministically (smallest record ids)."""
    email = _query(
        store,
        "SELECT email FROM norm_customers WHERE email_norm IS NOT NULL AND source = 'crm' "
        "ORDER BY record_id LIMIT 1",
    )[0][0]
    golden = _query(
        store,
        "SELECT golden_id FROM clusters GROUP BY 1 HAVING count(*) = 4 ORDER BY 1 LIMIT 1",
    )[0][0]
    phone = _query(
        store,
        "SELECT mobiles[1] FROM norm_customers WHERE len(mobiles) > 0 AND source = 'pos' "
        "ORDER BY record_id LIMIT 1",
    )[0][0]
    return [
        ("email", ForgetRequest(emails=(email,)), False),
        ("golden_id", ForgetRequest(golden_ids=(golden,)), True),
        ("phone", ForgetRequest(phones=(phone,)), False),
    ]


def _crosswalk(config: Config) -> dict[tuple[str, str], str]:
    rows = _query(
        Store(config.store.path).snapshot_path,
        "SELECT source, source_record_id, golden_id FROM crosswalk",
    )
    return {(s, i): g for s, i, g in rows}


def measure(records: int) -> dict[str, Any]:
    data_dir, recipe = synthetic_dataset(records)
    folder = DATA_ROOT / f"erase_{data_dir.name}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    config = (
        load_config(REPO / "configs" / "omnimdm.yaml")
        .with_data_dir(data_dir)
        .with_store(folder / "store.duckdb")
    )
    run(config, command="bench-erase-prepare", retrain=True)
    baseline = run(config, command="bench-erase-baseline")
    before = _crosswalk(config)
    requests = []
    removed: set[str] = set()
    for name, request, confirmed in _requests(config.store.path):
        started = time.perf_counter()
        result = forget(config, request, confirmed=confirmed)
        requests.append(
            {
                "selector": name,
                "wall_s": round(time.perf_counter() - started, 3),
                "records_removed": len(result.records),
                "golden_ids_affected": len(result.golden_ids),
                "timings_s": result.timings,
                "store_bytes": config.store.path.stat().st_size,
            }
        )
        removed.update(result.records)
    after = _crosswalk(config)
    kept = {k: g for k, g in before.items() if f"{k[0]}:{k[1]}" not in removed}
    moved = sum(1 for k, g in kept.items() if after.get(k) != g)
    rerun = run(config, command="bench-erase-rerun")
    suppressed = sum(int(c.get("suppressed", 0)) for c in rerun.sources.values())
    return {
        "records": recipe["records"],
        "recipe": recipe,
        "requests": requests,
        "other_records_moved": moved,
        "rerun_suppressed": suppressed,
        "records_removed": len(removed),
        "ingest_s_without_tombstones": baseline.timings.get("ingest"),
        "ingest_s_with_tombstones": rerun.timings.get("ingest"),
        "rerun_total_s": rerun.timings.get("total"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, nargs="+", default=[40_000])
    args = parser.parse_args()
    results = []
    for records in args.records:
        result = measure(records)
        print(result, flush=True)
        results.append(result)
    write_result(
        RESULTS / "erase.json",
        {"benchmark": "erase", "results": results, "peak_rss_mb_all": peak_rss_mb()},
    )


if __name__ == "__main__":
    main()

"""Survivorship benchmark: golden ids + survive on published 1M-record inputs.

    python benchmarks/survive.py --records 1000000

The first call builds a store for the dataset with one full published run (cached under
``benchmarks/data/survive_<persons>/``). Each measurement then runs, in a fresh
interpreter on that store, the stable-id assignment and the survive stage twice: as a
first run (no previous ids: every id is created) and as a rerun on the same clusters
(every id kept, golden records compared with the first run's). Only those two stages are
timed; their tables are dropped afterwards. In a pipeline run the stage reads tables the
earlier stages have just written, so the inputs are read once, untimed, before measuring
(``--cold`` skips that). Writes ``benchmarks/results/survive.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from datasets import DATA_ROOT, synthetic_dataset  # noqa: E402
from omnimdm import Store, load_config, run  # noqa: E402
from omnimdm.benchmark_record import peak_rss_mb, write_result  # noqa: E402
from omnimdm.cluster.golden_ids import PreviousIds, assign_golden_ids  # noqa: E402
from omnimdm.config import Config  # noqa: E402
from omnimdm.survive.golden import survive  # noqa: E402

REPO = Path(__file__).parent.parent
RESULTS = Path(__file__).parent / "results"
#: stand-in run ids for the two measured passes (staging names only; nothing is published)
FIRST, RERUN = 900_001, 900_002


def _config(data_dir: Path) -> Config:
    store = DATA_ROOT / f"survive_{data_dir.name}" / "store.duckdb"
    return load_config(REPO / "configs" / "omnimdm.yaml").with_data_dir(data_dir).with_store(store)


def prepare(data_dir: Path) -> Config:
    """A store with one published run on ``data_dir`` (built once, then reused)."""
    config = _config(data_dir)
    if not Store(config.store.path).snapshot_path.exists():
        config.store.path.parent.mkdir(parents=True, exist_ok=True)
        run(config, command="bench-survive-prepare", retrain=True)
    return config


def _pass(con: Any, config: Config, run_id: int, previous: PreviousIds) -> dict[str, Any]:
    stg = {t: Store.staging(run_id, t) for t in ("clusters", "ids", "seq", "events")}
    out = {t: Store.staging(run_id, t) for t in ("golden", "winners", "collected", "consent")}
    started = time.perf_counter()
    ids = assign_golden_ids(
        con,
        run_id=run_id,
        clusters="bench_clusters",
        norm="norm_customers",
        previous=previous,
        out=stg["clusters"],
        registry_out=stg["ids"],
        sequence_out=stg["seq"],
        events_out=stg["events"],
        pairs="match_pairs",
    )
    ids_s = time.perf_counter() - started
    started = time.perf_counter()
    steps: dict[str, float] = {}
    counts = survive(
        con,
        config,
        run_id=run_id,
        norm="norm_customers",
        members=stg["clusters"],
        ids=stg["ids"],
        previous_golden=out["golden"].replace(str(run_id), str(FIRST)) if run_id == RERUN else None,
        golden_out=out["golden"],
        winners_out=out["winners"],
        collected_out=out["collected"],
        consent_out=out["consent"],
        timings=steps,
    )
    survive_s = time.perf_counter() - started
    return {
        "golden_ids_s": round(ids_s, 2),
        "survive_s": round(survive_s, 2),
        "survive_steps_s": steps,
        "id_counts": ids,
        "survive_counts": counts,
    }


def child(data_dir: Path, *, cold: bool = False) -> dict[str, Any]:
    config = _config(data_dir)
    store = Store(config.store.path)
    with store.writer("bench-survive") as con:
        if not cold:  # as in a pipeline run: the inputs were just written by earlier stages
            for table in ("norm_customers", "match_pairs", "clusters"):
                con.sql(f"SELECT max(hash(COLUMNS(*))) FROM {table}").fetchall()
        # the published clusters as the clustering stage's output (record -> cluster key)
        con.execute(
            "CREATE OR REPLACE TABLE bench_clusters AS SELECT record_id, "
            "min(record_id) OVER (PARTITION BY golden_id) AS cluster_key FROM clusters"
        )
        con.execute("CHECKPOINT")
        try:
            first = _pass(con, config, FIRST, PreviousIds())
            previous = PreviousIds(
                members=Store.staging(FIRST, "clusters"),
                registry=Store.staging(FIRST, "ids"),
                sequence=Store.staging(FIRST, "seq"),
            )
            rerun = _pass(con, config, RERUN, previous)
        finally:
            for name in store.tables(con, prefix="stg_r9000"):
                con.execute(f"DROP TABLE {name}")
            con.execute("DROP TABLE IF EXISTS bench_clusters")
            con.execute("CHECKPOINT")
        records = int(con.sql("SELECT count(*) FROM norm_customers").fetchall()[0][0])
    return {
        "records": records,
        "inputs_read_before_timing": not cold,
        "first_run": first,
        "rerun": rerun,
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--out", type=Path, default=RESULTS / "survive.json")
    parser.add_argument("--cold", action="store_true", help="do not read the inputs first")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, cold=args.cold)))
        return
    from datasets import measure_in_subprocess

    runs = []
    for records in args.records:
        folder, recipe = synthetic_dataset(records)
        prepare(folder)
        measured = measure_in_subprocess(__file__, folder, *(["--cold"] if args.cold else []))
        runs.append({"dataset": recipe, **measured})
        print(
            f"{measured['records']:>9,} records: survive {measured['first_run']['survive_s']} s "
            f"(first run), {measured['rerun']['survive_s']} s (rerun); golden ids "
            f"{measured['first_run']['golden_ids_s']} / {measured['rerun']['golden_ids_s']} s; "
            f"peak RSS {measured['peak_rss_mb']:.0f} MB",
            flush=True,
        )
    write_result(args.out, {"benchmark": "survive", "runs": runs})
    print(f"written {args.out}")


if __name__ == "__main__":
    main()

"""Steward latency: next pair shown after a key, explain and explain-pair, by store size.

    python benchmarks/review.py --records 100000 [1000000]

Builds (or reuses) a synthetic dataset, runs the pipeline once into a fresh store, then
measures in this process: the interactive session's start (first page), the time from a
key (`y`, which writes a decision in its own short session) to the next pair being ready,
with a steward's reading time between keys (``--think-ms``, not counted; the next page
loads in the background meanwhile), `explain GOLDEN_ID` (the largest cluster) and
`explain-pair` (queued pairs and pairs never blocked together). CLI wall times add
about 0.7 s of interpreter start and imports.
Writes ``benchmarks/results/review.json``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from datasets import synthetic_dataset  # noqa: E402
from omnimdm import Store, load_config, run  # noqa: E402
from omnimdm.benchmark_record import write_result  # noqa: E402
from omnimdm.review.explain import explain_golden, explain_pair  # noqa: E402
from omnimdm.review.records import RecordKey  # noqa: E402
from omnimdm.review.session import ReviewSession  # noqa: E402

REPO = Path(__file__).parent.parent
RESULTS = Path(__file__).parent / "results"


def _ms(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        "n": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def measure(records: int, keys: int, think_s: float = 0.5) -> dict[str, Any]:
    data, recipe = synthetic_dataset(records)
    with tempfile.TemporaryDirectory(prefix="omnimdm-review-") as tmp:
        config = (
            load_config(REPO / "configs" / "omnimdm.yaml")
            .with_data_dir(data)
            .with_store(Path(tmp) / "review.duckdb")
        )
        t = time.perf_counter()
        result = run(config, command="bench-review", retrain=True)
        run_s = time.perf_counter() - t
        store = Store(config.store.path)
        session = ReviewSession(store, "bench")
        t = time.perf_counter()
        session.start()
        start_s = time.perf_counter() - t
        per_key = []
        for _ in range(keys):
            time.sleep(think_s)  # a steward reads the pair (the next page loads meanwhile)
            t = time.perf_counter()
            screen = session.press("y")
            per_key.append(time.perf_counter() - t)
            if screen.shown is None:
                break
        session.close()
        threshold = config.matching.threshold_match_probability
        with store.writer("bench") as con:
            golden = str(
                con.sql(
                    "SELECT golden_id FROM clusters GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
                ).fetchall()[0][0]
            )
            queued = [
                (RecordKey(a, b), RecordKey(c, d))
                for a, b, c, d in con.sql(
                    "SELECT source_l, source_record_id_l, source_r, source_record_id_r "
                    "FROM review_queue ORDER BY position DESC LIMIT 10"
                ).fetchall()
            ]
            far = [
                (RecordKey(a, b), RecordKey(c, d))
                for a, b, c, d in con.sql(
                    "SELECT a.source, a.source_record_id, b.source, b.source_record_id "
                    "FROM (SELECT * FROM clusters USING SAMPLE 10 ROWS (reservoir, 1)) a "
                    "POSITIONAL JOIN (SELECT * FROM clusters USING SAMPLE 10 ROWS "
                    "(reservoir, 2)) b"
                ).fetchall()
            ]
        golden_s = []
        for _ in range(5):
            t = time.perf_counter()
            explain_golden(store, golden, threshold=threshold)
            golden_s.append(time.perf_counter() - t)
        pair_s = []
        for a, b in queued + far:
            t = time.perf_counter()
            explain_pair(store, a, b, threshold=threshold)
            pair_s.append(time.perf_counter() - t)
    return {
        "dataset": recipe,
        "records": recipe["records"],
        "run_s": round(run_s, 1),
        "queue_items": result.counts.get("review", {}).get("queue_items"),
        "session_start_ms": round(start_s * 1000, 1),
        "think_ms": round(think_s * 1000),
        "next_pair_after_key": _ms(per_key),
        "explain_golden": _ms(golden_s),
        "explain_pair": _ms(pair_s),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, nargs="+", default=[100_000])
    parser.add_argument("--keys", type=int, default=60)
    parser.add_argument(
        "--think-ms", type=int, default=500, help="steward's reading time per pair (not timed)"
    )
    args = parser.parse_args()
    results = []
    for records in args.records:
        res = measure(records, args.keys, args.think_ms / 1000)
        print(res, flush=True)
        results.append(res)
    write_result(RESULTS / "review.json", {"benchmark": "review", "sizes": results})


if __name__ == "__main__":
    main()

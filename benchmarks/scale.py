"""Scale benchmark: wall time per stage, pairs scored, pairs/s and peak RSS by size.

    python benchmarks/scale.py --records 100000 1000000

Each size runs the whole pipeline (model trained, then a second run reusing it: the
"saved model" time budget) in a fresh subprocess on a fresh store, so peak RSS is that
size's alone. Then the frozen plain-Splink baseline (``baseline.py``) runs on the same
canonical records, and the match stage's time (block + score + cluster, saved model) is
reported as a ratio of the baseline's (block + score + cluster, after its training).
Writes ``benchmarks/results/scale.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import duckdb  # noqa: E402

from baseline import baseline_clusters  # noqa: E402
from datasets import measure_in_subprocess, synthetic_dataset  # noqa: E402
from omnimdm import load_config, run  # noqa: E402
from omnimdm.benchmark_record import peak_rss_mb, write_result  # noqa: E402

REPO = Path(__file__).parent.parent
RESULTS = Path(__file__).parent / "results"


def child(data_dir: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="omnimdm-scale-") as tmp:
        config = (
            load_config(REPO / "configs" / "omnimdm.yaml")
            .with_data_dir(data_dir)
            .with_store(Path(tmp) / "scale.duckdb")
        )
        started = time.perf_counter()
        trained = run(config, command="bench-scale", retrain=True)
        first = time.perf_counter() - started
        started = time.perf_counter()
        reused = run(config, command="bench-scale")
        second = time.perf_counter() - started
        pipeline_peak_rss_mb = peak_rss_mb()  # before the baseline runs in this process
        base: dict[str, Any] = {}
        with duckdb.connect(str(config.store.path), read_only=True) as con:
            baseline_clusters(con, timings=base)
    t = reused.timings
    ours_match_s = t.get("match.block_and_score", 0.0) + t.get("match.cluster", 0.0)
    ours_match_s += t.get("cluster", 0.0)
    base_match_s = base["block_and_score_s"] + base["cluster_s"]
    pairs = int(reused.counts["match"]["pairs_scored_kept"])
    score_s = float(reused.timings.get("match.score", 0.0))
    pairs_ratio = int(reused.counts["match"]["pairs_blocked"]) / max(base["pairs_blocked"], 1)
    return {
        "first_run_with_training_s": round(first, 2),
        "run_with_saved_model_s": round(second, 2),
        "training_s": trained.timings.get("match.train"),
        "stage_timings_s": reused.timings,
        "pairs_kept": pairs,
        "pairs_per_s_scored": round(pairs / score_s) if score_s else None,
        "match_counts": reused.counts["match"],
        "cluster_counts": reused.counts["cluster"],
        "match_block_score_cluster_s": round(ours_match_s, 3),
        "baseline": base,
        "baseline_block_score_cluster_s": round(base_match_s, 3),
        "match_time_ratio_to_baseline": round(ours_match_s / base_match_s, 3),
        "pairs_ratio_to_baseline": round(pairs_ratio, 3),
        # the acceptance compares at the same pair count: time per blocked pair
        "match_time_per_pair_ratio_to_baseline": round(
            ours_match_s / base_match_s / pairs_ratio, 3
        ),
        "peak_rss_mb": pipeline_peak_rss_mb,
        "peak_rss_mb_with_baseline": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--out", type=Path, default=RESULTS / "scale.json")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    runs = []
    for records in args.records:
        folder, recipe = synthetic_dataset(records)
        measured = measure_in_subprocess(__file__, folder)
        runs.append({"dataset": recipe, **measured})
        print(
            f"{recipe['records']:>9,} records: {measured['run_with_saved_model_s']:.1f} s "
            f"with a saved model, peak RSS {measured['peak_rss_mb']:.0f} MB, match stage "
            f"{measured['match_time_ratio_to_baseline']:.2f}x the baseline's "
            f"({measured['match_time_per_pair_ratio_to_baseline']:.2f}x per pair)",
            flush=True,
        )
    write_result(args.out, {"benchmark": "scale", "runs": runs})
    print(f"written {args.out}")


if __name__ == "__main__":
    main()

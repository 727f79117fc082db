"""Scale benchmark: wall time per stage, pairs scored, pairs/s and peak RSS by size.

    python benchmarks/scale.py --records 100000 1000000

    python benchmarks/scale.py --records 3000000 --out benchmarks/results/scale_3m.json

Each size runs the whole pipeline (model trained, then a second run reusing it: the
"saved model" time budget) in a fresh subprocess on a fresh store, so peak RSS is that
size's alone. Then the frozen plain-Splink baseline (``baseline.py``) runs on the same
canonical records in another subprocess (up to ``--baseline-max-records``), and the match
stage's time (block + score + cluster, saved model) is reported as a ratio of the
baseline's (block + score + cluster, after its training). With 1M among the sizes, the
largest size's time is also given as a ratio of the 1M time. Writes
``benchmarks/results/scale.json``.
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
from datasets import run_script_json, synthetic_dataset  # noqa: E402
from omnimdm import load_config, run  # noqa: E402
from omnimdm.benchmark_record import peak_rss_mb, write_result  # noqa: E402

REPO = Path(__file__).parent.parent
RESULTS = Path(__file__).parent / "results"


def child(data_dir: Path, store: Path) -> dict[str, Any]:
    """The pipeline twice on ``data_dir`` into ``store``: trained, then the saved model."""
    config = (
        load_config(REPO / "configs" / "omnimdm.yaml").with_data_dir(data_dir).with_store(store)
    )
    started = time.perf_counter()
    trained = run(config, command="bench-scale", retrain=True)
    first = time.perf_counter() - started
    started = time.perf_counter()
    reused = run(config, command="bench-scale")
    second = time.perf_counter() - started
    t = reused.timings
    ours_match_s = t.get("match.block_and_score", 0.0) + t.get("match.cluster", 0.0)
    ours_match_s += t.get("cluster", 0.0)
    pairs = int(reused.counts["match"]["pairs_scored_kept"])
    score_s = float(reused.timings.get("match.score", 0.0))
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
        "peak_rss_mb": peak_rss_mb(),
    }


def baseline_child(store: Path) -> dict[str, Any]:
    """The frozen baseline on the canonical records of ``store``, in its own process (at
    3M records plain Splink alone needs many GB: measured apart from the pipeline)."""
    base: dict[str, Any] = {}
    with duckdb.connect(str(store), read_only=True) as con:
        baseline_clusters(con, timings=base)
    return {**base, "peak_rss_mb": peak_rss_mb()}


def measure(folder: Path, *, with_baseline: bool) -> dict[str, Any]:
    """The pipeline's figures for one dataset, with the baseline's and their ratios."""
    with tempfile.TemporaryDirectory(prefix="omnimdm-scale-") as tmp_dir:
        tmp = Path(tmp_dir)
        store = tmp / "scale.duckdb"
        ours = run_script_json(__file__, "--child", str(folder), "--store", str(store), cwd=tmp)
        if not with_baseline:
            return {**ours, "baseline": None}
        base = run_script_json(__file__, "--baseline-child", str(store), cwd=tmp)
    base_match_s = base["block_and_score_s"] + base["cluster_s"]
    ours_match_s = ours["match_block_score_cluster_s"]
    pairs_ratio = int(ours["match_counts"]["pairs_blocked"]) / max(base["pairs_blocked"], 1)
    return {
        **ours,
        "baseline": base,
        "baseline_block_score_cluster_s": round(base_match_s, 3),
        "match_time_ratio_to_baseline": round(ours_match_s / base_match_s, 3),
        "pairs_ratio_to_baseline": round(pairs_ratio, 3),
        # the acceptance compares at the same pair count: time per blocked pair
        "match_time_per_pair_ratio_to_baseline": round(
            ours_match_s / base_match_s / pairs_ratio, 3
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--out", type=Path, default=RESULTS / "scale.json")
    parser.add_argument(
        "--baseline-max-records",
        type=int,
        default=1_500_000,
        help="run the frozen baseline only up to this many records (plain Splink at 3M "
        "takes minutes and many GB; the 3M acceptance compares with our own 1M time)",
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--baseline-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.store)))
        return
    if args.baseline_child:
        print(json.dumps(baseline_child(args.baseline_child)))
        return
    runs = []
    for records in args.records:
        folder, recipe = synthetic_dataset(records)
        measured = measure(folder, with_baseline=records <= args.baseline_max_records)
        runs.append({"dataset": recipe, **measured})
        versus = (
            f", match stage {measured['match_time_ratio_to_baseline']:.2f}x the baseline's "
            f"({measured['match_time_per_pair_ratio_to_baseline']:.2f}x per pair)"
            if measured["baseline"]
            else ", baseline not run"
        )
        print(
            f"{recipe['records']:>9,} records: {measured['run_with_saved_model_s']:.1f} s "
            f"with a saved model, peak RSS {measured['peak_rss_mb']:.0f} MB{versus}",
            flush=True,
        )
    largest = max(runs, key=lambda r: r["dataset"]["records"])
    million = [r for r in runs if 900_000 <= r["dataset"]["records"] <= 1_100_000]
    if million and largest is not million[0]:
        ratio = largest["run_with_saved_model_s"] / million[0]["run_with_saved_model_s"]
        largest["time_ratio_to_1m"] = round(ratio, 2)
        print(f"largest size: {ratio:.2f}x the 1M time", flush=True)
    write_result(args.out, {"benchmark": "scale", "runs": runs})
    print(f"written {args.out}")


if __name__ == "__main__":
    main()

"""Ingest + normalize benchmark: rows/s, distinct phones parsed, step times, peak RSS.

    python benchmarks/ingest.py --records 100000 1000000

Each size runs in a fresh subprocess (so peak RSS is that size's alone) on a fresh store,
through ``omnimdm.run(config, stop_after="normalize")``. Writes
``benchmarks/results/ingest.json`` with the git sha, library versions and dataset recipe.
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

from datasets import measure_in_subprocess, synthetic_dataset  # noqa: E402
from omnimdm import load_config, run  # noqa: E402
from omnimdm.benchmark_record import peak_rss_mb, write_result  # noqa: E402
from omnimdm.normalize.distinct_map import TIMINGS  # noqa: E402

REPO = Path(__file__).parent.parent
RESULTS = Path(__file__).parent / "results"


def child(data_dir: Path) -> dict[str, Any]:
    """Run ingest + normalize once on ``data_dir``; return measurements."""
    with tempfile.TemporaryDirectory(prefix="omnimdm-bench-") as tmp:
        config = (
            load_config(REPO / "configs" / "omnimdm.yaml")
            .with_data_dir(data_dir)
            .with_store(Path(tmp) / "bench.duckdb")
        )
        started = time.perf_counter()
        result = run(config, command="bench-ingest", stop_after="normalize")
        wall = time.perf_counter() - started
    read = sum(int(s["read"]) for s in result.sources.values())
    return {
        "rows_read": read,
        "rows_accepted": sum(int(s["accepted"]) for s in result.sources.values()),
        "wall_s": round(wall, 3),
        "rows_per_s": round(read / wall),
        "distinct_phones_parsed": result.counts["normalize"]["distinct_phones"],
        "shared_values": result.counts["normalize"]["shared_values"],
        "step_timings_s": result.timings,
        "distinct_map_s": dict(TIMINGS),
        "peak_rss_mb": peak_rss_mb(),
        "sources": result.sources,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=RESULTS / "ingest.json")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    runs = []
    for records in args.records:
        folder, recipe = synthetic_dataset(records, seed=args.seed)
        measured = measure_in_subprocess(__file__, folder)
        runs.append({"dataset": recipe, **measured})
        print(
            f"{recipe['records']:>9,} records: {measured['wall_s']:.1f} s, "
            f"{measured['rows_per_s']:,} rows/s, peak RSS {measured['peak_rss_mb']:.0f} MB"
        )
    write_result(args.out, {"benchmark": "ingest+normalize", "runs": runs})
    print(f"written {args.out}")


if __name__ == "__main__":
    main()

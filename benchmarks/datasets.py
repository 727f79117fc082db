"""Benchmark datasets: seeded synthetic exports, generated once and cached by recipe."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from omnimdm.synthetic import GENERATOR_VERSION, generate

DATA_ROOT = Path(__file__).parent / "data"
#: records per person of the default profile (measured; used to size datasets by records)
RECORDS_PER_PERSON = 1.9


def synthetic_dataset(
    records: int, seed: int = 42, profile: str = "default"
) -> tuple[Path, dict[str, Any]]:
    """Folder with the four exports + truth.csv for about ``records`` records, and its recipe."""
    persons = max(10, round(records / RECORDS_PER_PERSON))
    folder = DATA_ROOT / f"synth_{profile}_{persons}_s{seed}_g{GENERATOR_VERSION}"
    recipe_path = folder / "recipe.json"
    if recipe_path.exists():
        return folder, json.loads(recipe_path.read_text())
    result = generate(persons, folder, seed=seed, profile=profile)
    recipe = {
        "generator": "omnimdm.synthetic.generate",
        "generator_version": GENERATOR_VERSION,
        "persons": persons,
        "seed": seed,
        "profile": profile,
        "records": result.records,
        "per_source": result.per_source,
        "generation_seconds": round(result.seconds, 2),
    }
    recipe_path.write_text(json.dumps(recipe, indent=2))
    return folder, recipe


def measure_in_subprocess(script: str, folder: Path, *options: str) -> dict[str, Any]:
    """Run ``script --child folder [options]`` in a fresh interpreter (so peak RSS is that
    run's alone) and return the JSON it prints last."""
    return run_script_json(script, "--child", str(folder), *options)


def run_script_json(script: str, *args: str, cwd: Path | None = None) -> dict[str, Any]:
    """Run ``script args`` in a fresh interpreter (in ``cwd``: DuckDB's spill directory
    for in-memory databases is ``.tmp`` there) and return the JSON it prints last."""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, script, *args], capture_output=True, text=True, check=True, cwd=cwd
    )
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))

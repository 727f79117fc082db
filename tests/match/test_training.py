"""Training is deterministic, saved in the store and as a file, and reused by `run`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from omnimdm import load_config, run, train
from omnimdm.cli import cli
from omnimdm.synthetic import generate
from tests.conftest import REPO

pytestmark = pytest.mark.slow


def _parameters(model: dict[str, Any]) -> list[Any]:
    params: list[Any] = [model["probability_two_random_records_match"]]
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            params.append((level.get("m_probability"), level.get("u_probability")))
    return params


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    generate(4000, out, seed=3)
    return out


def test_training_twice_gives_identical_parameters(tmp_path: Path, data: Path) -> None:
    base = load_config(REPO / "configs" / "omnimdm.yaml").with_data_dir(data)
    models = []
    for name in ("a", "b"):
        result = train(
            base.with_store(tmp_path / f"{name}.duckdb"), model_path=tmp_path / f"{name}.json"
        )
        models.append(json.loads(Path(result.model_path).read_text(encoding="utf-8")))
    assert _parameters(models[0]) == _parameters(models[1])
    for value in _parameters(models[0])[1:]:
        for p in value:
            assert p is None or float(f"{p:.12g}") == p  # saved rounded to 12 digits


def test_train_command_then_run_reuses_the_model(tmp_path: Path, data: Path) -> None:
    config_path = tmp_path / "c.yaml"
    text = (REPO / "configs" / "omnimdm.yaml").read_text(encoding="utf-8")
    text = text.replace("../data/synthetic/", f"{data}/")
    text = text.replace("path: omnimdm.duckdb", f"path: {tmp_path / 's.duckdb'}")
    config_path.write_text(text, encoding="utf-8")
    out = CliRunner().invoke(
        cli, ["-c", str(config_path), "train", "--out", str(tmp_path / "model.json")]
    )
    assert out.exit_code == 0, out.output
    model = json.loads((tmp_path / "model.json").read_text(encoding="utf-8"))
    assert model["comparisons"] and model["omnimdm_fingerprint"]
    result = run(load_config(config_path))
    assert result.counts["match"]["model"] == "reused"
    assert run(load_config(config_path), retrain=True).counts["match"]["model"] == "trained"

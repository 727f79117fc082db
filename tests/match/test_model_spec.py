"""The model is data: the packaged YAML builds the settings; another YAML changes the model
without code; a broken definition is a clear config error naming the problem."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from omnimdm import run
from omnimdm.cli.main import cli
from omnimdm.config import MatchingConfig, load_config
from omnimdm.errors import ConfigError
from omnimdm.match.model_spec import load_model_spec, parse_model
from omnimdm.match.settings import settings, settings_fingerprint
from tests.conftest import write_config

PACKAGED = Path(__file__).parents[2] / "src" / "omnimdm" / "match" / "customer_model.yaml"


def _default() -> dict[str, object]:
    data = yaml.safe_load(PACKAGED.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_packaged_model_builds_every_comparison_and_rule() -> None:
    spec = load_model_spec()
    rendered = settings(MatchingConfig()).get_settings("duckdb").as_dict()
    assert [c["output_column_name"] for c in rendered["comparisons"]] == [
        c.name for c in spec.comparisons
    ]
    assert len(rendered["blocking_rules_to_generate_predictions"]) == len(spec.blocking)
    levels = {
        (c["output_column_name"], lv.get("label_for_charts")): lv
        for c in rendered["comparisons"]
        for lv in c["comparison_levels"]
    }
    # fixed household weights survive the trip from YAML to Splink
    shared_landline = levels[("phones", "shared landline")]
    assert shared_landline["m_probability"] == 0.16
    assert shared_landline["fix_u_probability"] is True
    assert levels[("phones", "null")]["is_null_level"] is True


def test_a_model_file_from_the_config_changes_the_model(tmp_path: Path, mini_dir: Path) -> None:
    data = _default()
    comparisons = data["comparisons"]
    assert isinstance(comparisons, list)
    data["comparisons"] = [c for c in comparisons if c["name"] != "loyalty_id"]
    (tmp_path / "small_model.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    # a relative path resolves from the config file's folder
    config = load_config(write_config(tmp_path, mini_dir, matching={"model": "small_model.yaml"}))
    assert config.matching.model == tmp_path / "small_model.yaml"
    small = settings(config.matching).get_settings("duckdb").as_dict()
    full = settings(MatchingConfig()).get_settings("duckdb").as_dict()
    assert "loyalty_id" not in [c["output_column_name"] for c in small["comparisons"]]
    assert settings_fingerprint(small) != settings_fingerprint(full)
    result = run(config)
    assert result.status == "published"
    assert result.counts["match"]["model"] == "trained"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["comparisons"][0]["levels"].pop(), "the last one 'else'"),
        (lambda d: d["blocking"].append({"columns": ["shoe_size"]}), "shoe_size"),
        (
            lambda d: next(c for c in d["comparisons"] if c.get("kind") == "exact").pop("column"),
            "needs a column",
        ),
        (lambda d: d["comparisons"][0]["levels"][3].pop("threshold"), "needs threshold"),
        (lambda d: d["comparisons"][0]["levels"][0].update(kind=None), "comparisons.0.levels.0"),
        (lambda d: d["training"].update(em_sessions=[]), "training.em_sessions"),
        (lambda d: d.update(weights=1), "weights"),
    ],
)
def test_broken_definitions_name_the_problem(change: object, expected: str) -> None:
    data = _default()
    change(data)  # type: ignore[operator]
    with pytest.raises(ConfigError) as err:
        parse_model(data, "model.yaml")
    assert expected in str(err.value)
    assert "model.yaml" in str(err.value)


def test_bad_model_path_is_a_config_error_without_traceback(tmp_path: Path, mini_dir: Path) -> None:
    path = write_config(tmp_path, mini_dir, matching={"model": "nope.yaml"})
    result = CliRunner().invoke(cli, ["-c", str(path), "run"])
    assert result.exit_code != 0
    assert "matching.model" in result.output and "nope.yaml" in result.output
    assert "Traceback" not in result.output

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from omnimdm import ConfigError, load_config
from omnimdm.cli import cli
from tests.conftest import REPO


def test_demo_config_loads_and_resolves_paths() -> None:
    config = load_config(REPO / "configs" / "omnimdm.yaml")
    assert [s.name for s in config.sources] == ["crm", "ecommerce", "pos", "callcenter"]
    crm = config.source_path(config.sources[0])
    assert (
        crm == (REPO / "configs" / "../data/synthetic/crm_salesforce_contacts.csv").resolve()
        or crm.resolve() == (REPO / "data/synthetic/crm_salesforce_contacts.csv").resolve()
    )
    assert config.config_hash() == load_config(REPO / "configs" / "omnimdm.yaml").config_hash()


def test_bad_config_lists_every_problem(tmp_path: Path) -> None:
    bad = {
        "sources": [
            {"name": "crm", "kind": "crmx", "preset": "salesforce_contacts", "path": "a.csv"},
            {"name": "Bad Name", "kind": "pos", "preset": "nope", "path": "b.csv"},
            {"name": "web", "kind": "ecommerce", "path": "c.csv", "colour": "red"},
        ],
        "matching": {"threshold_match_probability": 2},
    }
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert "sources.0.kind" in text
    assert "sources.1.name" in text
    assert "sources.2.colour" in text
    assert "matching.threshold_match_probability" in text
    assert len(info.value.problems) >= 4


def test_semantic_problems_are_collected(tmp_path: Path) -> None:
    bad = {
        "sources": [
            {"name": "crm", "kind": "crm", "preset": "nope", "path": "a.csv"},
            {"name": "crm", "kind": "pos", "path": "b.csv"},
        ]
    }
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert "unknown preset 'nope'" in text and "salesforce_contacts" in text
    assert "duplicate source name 'crm'" in text
    assert "exactly one of 'preset' or 'mapping'" in text


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("sources:\n  - name: crm\n   kind: [unclosed\n")
    with pytest.raises(ConfigError, match="line"):
        load_config(path)


def test_cli_bad_config_exits_1_without_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"sources": [], "bogus": 1}))
    result = CliRunner().invoke(cli, ["-c", str(path), "run"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "bogus" in result.output and "sources" in result.output


def test_cli_missing_config_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["-c", str(tmp_path / "none.yaml"), "run"])
    assert result.exit_code == 1
    assert "not found" in result.output and "--config" in result.output

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


def test_survivorship_rule_chains_are_checked(tmp_path: Path) -> None:
    data = yaml.safe_load((REPO / "configs" / "omnimdm.yaml").read_text(encoding="utf-8"))
    data["survivorship"] = {
        "default_rule": "collect",
        "fields": {
            "emial": ["most_recent"],
            "given_name": ["collect", "most_recent"],
            "phone": ["valid_first", "collect"],
            "email": [],
            "address": ["most_recent", "most_recent"],
            "company": ["newest"],
        },
        "strong_match_probability": 1.5,
        "currency_rates": {"base": "EUR", "rates": {"usd": 0.9, "MXN": -1}},
    }
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert "survivorship.default_rule" in text
    assert "survivorship.fields.company.0" in text
    assert "survivorship.strong_match_probability" in text
    assert "survivorship.currency_rates.rates" in text


def test_survivorship_semantic_problems_are_collected(tmp_path: Path) -> None:
    data = yaml.safe_load((REPO / "configs" / "omnimdm.yaml").read_text(encoding="utf-8"))
    data["survivorship"] = {
        "fields": {
            "emial": ["most_recent"],
            "given_name": ["collect", "most_recent"],
            "phone": ["valid_first", "collect"],
            "email": [],
            "address": ["most_recent", "most_recent"],
        }
    }
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert "survivorship.fields.emial: unknown field" in text
    assert "survivorship.fields.given_name: 'collect' only applies to email and phone" in text
    assert "survivorship.fields.phone: 'collect' must come first" in text
    assert "survivorship.fields.email: give at least one rule" in text
    assert "survivorship.fields.address: a rule is listed twice" in text


@pytest.mark.parametrize("rule", ["most_recent", "source_priority"])
def test_configs_with_only_a_default_rule_still_load(tmp_path: Path, rule: str) -> None:
    path = tmp_path / "old.yaml"
    data = yaml.safe_load((REPO / "tests" / "fixtures" / "mini_config.yaml").read_text())
    data["survivorship"] = {"default_rule": rule}
    path.write_text(yaml.safe_dump(data))
    assert load_config(path).survivorship.default_rule == rule

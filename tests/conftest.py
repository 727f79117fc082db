"""Shared fixtures: small real-format exports copied to a temp folder with a config."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from omnimdm.config import Config, load_config

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent
MINI_FILES = {
    "crm": ("salesforce_contacts", "crm_salesforce_contacts.csv"),
    "ecommerce": ("shopify_customers", "ecommerce_shopify_customers.csv"),
    "pos": ("square_customers", "pos_square_customers.csv"),
    "callcenter": ("zendesk_users", "callcenter_zendesk_users.json"),
}


def write_config(folder: Path, data_dir: Path, **overrides: object) -> Path:
    """Write a config for the four channel files in ``data_dir``; return its path."""
    sources = [
        {"name": name, "kind": name, "preset": preset, "path": str(data_dir / fname)}
        for name, (preset, fname) in MINI_FILES.items()
    ]
    data: dict[str, object] = {"sources": sources, "store": {"path": str(folder / "t.duckdb")}}
    data.update(overrides)
    path = folder / "omnimdm.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def mini_dir(tmp_path: Path) -> Path:
    """A private copy of the hand-made four-channel fixture (13 accepted records)."""
    dest = tmp_path / "data"
    shutil.copytree(FIXTURES / "mini", dest)
    return dest


@pytest.fixture
def mini_config(tmp_path: Path, mini_dir: Path) -> Config:
    return load_config(write_config(tmp_path, mini_dir))

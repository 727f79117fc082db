"""Shared fixtures: small real-format exports copied to a temp folder with a config."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import duckdb
import pytest
import yaml
from click.testing import CliRunner, Result

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


@dataclass
class StoreEnv:
    """A private copy of a published store (``t.duckdb``) with its config and data files:
    the CLI, read-only queries and golden-id lookups by ``SOURCE:SOURCE_RECORD_ID``."""

    folder: Path
    config_path: Path

    @classmethod
    def copy_of(cls, published: Path, dest: Path) -> Self:
        """A copy in ``dest`` of ``published`` (data/, t.duckdb and its snapshot)."""
        shutil.copytree(published / "data", dest / "data")
        for name in ("t.duckdb", "t.snapshot.duckdb"):
            shutil.copy2(published / name, dest / name)
        return cls(dest, write_config(dest, dest / "data"))

    @property
    def store(self) -> Path:
        return self.folder / "t.duckdb"

    @property
    def snapshot(self) -> Path:
        return self.folder / "t.snapshot.duckdb"

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def config(self) -> Config:
        return load_config(self.config_path)

    def cli(
        self, *args: str, input: str | None = None, env: dict[str, str] | None = None
    ) -> Result:
        from omnimdm.cli import cli

        return CliRunner().invoke(cli, ["-c", str(self.config_path), *args], input=input, env=env)

    def ok(self, *args: str, **kw: object) -> str:
        result = self.cli(*args, **kw)  # type: ignore[arg-type]
        assert result.exit_code == 0, result.output
        return result.output

    def query(self, sql: str, params: object = None) -> list[tuple[object, ...]]:
        con = duckdb.connect(str(self.store), read_only=True)
        try:
            return con.execute(sql, params).fetchall()  # type: ignore[arg-type]
        finally:
            con.close()

    def golden_of(self, key: str) -> str:
        source, sid = key.split(":", 1)
        rows = self.query(
            "SELECT golden_id FROM clusters WHERE source = ? AND source_record_id = ?",
            [source, sid],
        )
        return str(rows[0][0])

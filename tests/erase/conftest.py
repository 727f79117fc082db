"""One small published store for the erasure tests, copied per test.

The four-channel fixture plus one malformed Shopify line (too many columns) for Carlos
Ruiz, so that a reader-level reject carries a person's id too.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner, Result

from omnimdm import load_config, run
from tests.conftest import FIXTURES, write_config

#: Carlos Ruiz's row again, with one column too many: rejected by the CSV reader
RAGGED = (
    "'7012345678903,Carlos,Ruiz,carlos.ruiz@gmail.com,no,,Calle Luna 3,,Valencia,V,ES,"
    "'46001,,'+34655443322,no,10.00,1,,no,,EXTRA\n"
)


@dataclass
class ErasureEnv:
    """A private copy of a published store with its config and data files."""

    folder: Path
    config_path: Path

    @property
    def store(self) -> Path:
        return self.folder / "t.duckdb"

    @property
    def snapshot(self) -> Path:
        return self.folder / "t.snapshot.duckdb"

    @property
    def key(self) -> Path:
        return self.folder / "t.duckdb.erasure.key"

    def cli(self, *args: str) -> Result:
        from omnimdm.cli import cli

        return CliRunner().invoke(cli, ["-c", str(self.config_path), *args])

    def ok(self, *args: str) -> str:
        result = self.cli(*args)
        assert result.exit_code == 0, result.output
        return result.output

    def query(self, sql: str, params: object = None) -> list[tuple[object, ...]]:
        con = duckdb.connect(str(self.store), read_only=True)
        try:
            return con.execute(sql, params).fetchall()  # type: ignore[arg-type]
        finally:
            con.close()

    def golden_of(self, source: str, source_record_id: str) -> str:
        rows = self.query(
            "SELECT golden_id FROM clusters WHERE source = ? AND source_record_id = ?",
            [source, source_record_id],
        )
        return str(rows[0][0])


@pytest.fixture(scope="module")
def published_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("erase")
    data = folder / "data"
    shutil.copytree(FIXTURES / "mini", data)
    with (data / "ecommerce_shopify_customers.csv").open("a", encoding="utf-8") as fh:
        fh.write(RAGGED)
    run(load_config(write_config(folder, data)))
    return folder


@pytest.fixture
def env(tmp_path: Path, published_store: Path) -> ErasureEnv:
    shutil.copytree(published_store / "data", tmp_path / "data")
    for name in ("t.duckdb", "t.snapshot.duckdb"):
        shutil.copy2(published_store / name, tmp_path / name)
    return ErasureEnv(tmp_path, write_config(tmp_path, tmp_path / "data"))

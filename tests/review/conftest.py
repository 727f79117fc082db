"""One small published store per test module (the committed 598-record sample), copied
per test so that decisions made in one test never leak into another."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner, Result

from omnimdm import load_config, run
from omnimdm.config import Config
from tests.conftest import REPO, write_config


@dataclass
class StewardEnv:
    """A private copy of a published store with its config and data files."""

    folder: Path
    config_path: Path

    @property
    def store(self) -> Path:
        return self.folder / "t.duckdb"

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


def _published(folder: Path) -> Path:
    data = folder / "data"
    shutil.copytree(REPO / "data" / "synthetic", data)
    config_path = write_config(folder, data)
    run(load_config(config_path))
    return config_path


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with data/, omnimdm.yaml and a published store t.duckdb (model trained)."""
    folder = tmp_path_factory.mktemp("published")
    _published(folder)
    return folder


@pytest.fixture
def env(published: Path, tmp_path: Path) -> StewardEnv:
    shutil.copytree(published / "data", tmp_path / "data")
    for name in ("t.duckdb", "t.snapshot.duckdb"):
        shutil.copy(published / name, tmp_path / name)
    config_path = write_config(tmp_path, tmp_path / "data")
    return StewardEnv(tmp_path, config_path)


Key = Callable[[str, str], str]

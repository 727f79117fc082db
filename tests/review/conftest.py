"""One small published store per test module (the committed 598-record sample), copied
per test so that decisions made in one test never leak into another."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from omnimdm import load_config, run
from tests.conftest import REPO, StoreEnv, write_config


class StewardEnv(StoreEnv):
    """A private copy of the published sample store (see :class:`tests.conftest.StoreEnv`)."""


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
    return StewardEnv.copy_of(published, tmp_path)


Key = Callable[[str, str], str]

"""One small published store for the erasure tests, copied per test.

The four-channel fixture plus one malformed Shopify line (too many columns) for Carlos
Ruiz, so that a reader-level reject carries a person's id too.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from omnimdm import load_config, run
from tests.conftest import FIXTURES, StoreEnv, write_config

#: Carlos Ruiz's row again, with one column too many: rejected by the CSV reader
RAGGED = (
    "'7012345678903,Carlos,Ruiz,carlos.ruiz@gmail.com,no,,Calle Luna 3,,Valencia,V,ES,"
    "'46001,,'+34655443322,no,10.00,1,,no,,EXTRA\n"
)


class ErasureEnv(StoreEnv):
    """A private copy of the published four-channel store (see
    :class:`tests.conftest.StoreEnv`), with its erasure key beside it."""

    @property
    def key(self) -> Path:
        return self.folder / "t.duckdb.erasure.key"


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
    return ErasureEnv.copy_of(published_store, tmp_path)

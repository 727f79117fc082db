"""The ``omnimdm`` command line. Progress bars, colour and exit codes live here only."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from omnimdm.config import DEFAULT_CONFIG_PATH, Config, load_config
from omnimdm.errors import OmnimdmError
from omnimdm.logs import allow_pii

F = TypeVar("F", bound=Callable[..., Any])


class AppState:
    """Group-level options shared by every command."""

    def __init__(self, config_path: Path, store: Path | None) -> None:
        self.config_path = config_path
        self.store_override = store
        self._config: Config | None = None

    def config(self) -> Config:
        if self._config is None:
            config = load_config(self.config_path)
            if self.store_override is not None:
                config = config.with_store(self.store_override)
            self._config = config
        return self._config

    def store_path(self) -> Path:
        if self.store_override is not None:
            return self.store_override
        return self.config().store.path


def handle_errors(fn: F) -> F:
    """Turn omnimdm errors into a one-paragraph message and exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except OmnimdmError as err:
            click.secho(f"Error: {err}", fg="red", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    envvar="OMNIMDM_CONFIG",
    default=str(DEFAULT_CONFIG_PATH),
    show_default=True,
    help="Config file (env OMNIMDM_CONFIG).",
)
@click.option(
    "--store",
    type=click.Path(path_type=Path),
    default=None,
    help="Store file; overrides the config's store.path.",
)
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
@click.option(
    "--log-pii",
    is_flag=True,
    envvar="OMNIMDM_LOG_PII",
    help="Allow personal data (raw rows, values quoted in errors) in logs and error messages, "
    "for debugging. Off by default: logs carry counts and ids only.",
)
@click.version_option(package_name="omnimdm")
@click.pass_context
def cli(
    ctx: click.Context, config_path: Path, store: Path | None, verbose: int, log_pii: bool
) -> None:
    """omnimdm: match customers across channels and write one golden record per person."""
    allow_pii(log_pii)
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    # Splink reports training detail at WARNING; show it only with -vv
    logging.getLogger("splink").setLevel(logging.DEBUG if verbose >= 2 else logging.ERROR)
    ctx.obj = AppState(config_path, store)

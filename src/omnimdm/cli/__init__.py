"""Command line interface (click)."""

from omnimdm.cli import commands as _commands  # noqa: F401 - registers the commands
from omnimdm.cli import explain as _explain  # noqa: F401 - registers explain, report
from omnimdm.cli import forget as _forget  # noqa: F401 - registers forget
from omnimdm.cli import review as _review  # noqa: F401 - registers the steward commands
from omnimdm.cli.main import cli


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="omnimdm")


__all__ = ["cli", "main"]

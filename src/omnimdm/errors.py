"""The omnimdm exception tree.

Every error a user can cause derives from :class:`OmnimdmError`. The CLI turns them into a
one-paragraph message and exit code 1; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Sequence

from omnimdm.logs import scrub


class OmnimdmError(Exception):
    """Root of every error omnimdm raises on purpose."""


class ConfigError(OmnimdmError):
    """The configuration is invalid. Collects every problem, then raises once."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        self.problems = list(problems)
        if self.problems:
            message = message + "\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(message)


class SourceError(OmnimdmError):
    """A source file cannot be read as configured (file-level problem)."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        path: str | None = None,
        row: int | None = None,
        column: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.source, self.path, self.row, self.column, self.fix = source, path, row, column, fix
        where = []
        if source:
            where.append(f"source {source!r}")
        if path:
            where.append(f"file {path}")
        if row is not None:
            where.append(f"row {row}")
        if column:
            where.append(f"column {column!r}")
        text = (", ".join(where) + ": " if where else "") + message
        if fix:
            text += f" Fix: {fix}"
        super().__init__(text)


class StoreError(OmnimdmError):
    """The store (DuckDB file, snapshot) is missing, locked or inconsistent."""


class LockError(StoreError):
    """Another writer holds the store."""


class StageError(OmnimdmError):
    """A pipeline stage failed; names the stage, the run and the cause."""

    def __init__(self, stage: str, run_id: int | None, cause: BaseException) -> None:
        self.stage, self.run_id, self.cause = stage, run_id, cause
        run = f" (run {run_id})" if run_id is not None else ""
        # another library's message may quote a value: redacted unless --log-pii
        super().__init__(
            f"stage {stage!r} failed{run}: {scrub(str(cause))}. The previously published "
            "results are "
            "untouched; fix the cause and run `omnimdm run` again."
        )


class ErasureError(OmnimdmError):
    """An erasure request cannot be carried out (unusable identifier, unknown golden id,
    missing or wrong erasure key)."""


class ReviewError(OmnimdmError):
    """A steward's review command cannot be carried out (unknown record, bad input)."""


class ContradictionError(ReviewError):
    """A decision would contradict active decisions (A=B, B=C, then A!=C); names them."""

    def __init__(self, message: str, decision_ids: Sequence[int] = ()) -> None:
        self.decision_ids = list(decision_ids)
        super().__init__(message)


class DecisionImportError(ReviewError):
    """A decisions CSV has problems; every one is listed with its line number and nothing
    was applied."""

    def __init__(self, path: str, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        shown = self.problems[:50]
        more = len(self.problems) - len(shown)
        text = f"{path}: {len(self.problems)} problem(s), nothing was applied\n" + "\n".join(
            f"  - {p}" for p in shown
        )
        if more:
            text += f"\n  ... and {more} more"
        super().__init__(text)

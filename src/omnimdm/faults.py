"""Named fault-injection points: crash tests kill the process at an exact moment.

Set ``OMNIMDM_FAULT=<point>`` and the process sends itself ``SIGKILL`` when it reaches that
point: no ``finally`` block, no rollback, no lock release runs, exactly as if the machine
lost power under the process (the kernel still frees its flock). The crash tests
(``tests/test_crash.py``) use every point and then check that the store opens cleanly, the
last published results and snapshot are intact, the run is marked failed, the lock is free,
the next run succeeds and no steward decision is lost.

With the variable unset a point costs one environment lookup. A value that names no point
is an error (:func:`check`, called when a run starts), so a typo never silently tests
nothing.
"""

from __future__ import annotations

import os
import signal

from omnimdm.errors import ConfigError

ENV = "OMNIMDM_FAULT"

#: every fault point, in the order a run reaches them
POINTS: dict[str, str] = {
    "ingest:mid": "after the first source is loaded into the run's staging tables",
    "after:ingest": "after the ingest stage",
    "after:normalize": "after the normalize stage",
    "after:match": "after the match stage (a trained model is not yet saved)",
    "after:cluster": "after the cluster stage",
    "after:survive": "after the survive stage",
    "after:review": "after the review stage, before publish",
    "publish:before_commit": "inside the publish transaction: tables renamed, not committed",
    "publish:after_commit": "publish committed (not yet checkpointed), snapshot not written",
    "snapshot:before_rename": "the new snapshot written to its temp file, not yet swapped in",
    "train:before_save": "training done, the model not yet saved",
    "after:erase": "after a forget's erase stage, its rebuild not yet published",
    "forget:after_publish": "an erasure published, the store file not yet rewritten",
    "forget:before_rename": "the store rewritten into its fresh file, not yet swapped in",
}


def check() -> None:
    """Raise :class:`ConfigError` if ``OMNIMDM_FAULT`` is set to an unknown point."""
    wanted = os.environ.get(ENV)
    if wanted and wanted not in POINTS:
        raise ConfigError(
            f"{ENV}={wanted!r} is not a fault point; points: {', '.join(POINTS)} "
            f"(unset {ENV} to run normally)"
        )


def point(name: str) -> None:
    """Kill this process with SIGKILL if ``OMNIMDM_FAULT`` names this point."""
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    if name not in POINTS:  # pragma: no cover - a typo in omnimdm's own code
        raise AssertionError(f"unknown fault point {name!r}")
    if wanted == name:
        os.kill(os.getpid(), signal.SIGKILL)

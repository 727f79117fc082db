"""Which persons appear in which source, within-source duplicates, and record timestamps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omnimdm.synthetic.profile import SOURCES, NoiseProfile

FIRST_DAY = np.datetime64("2019-01-01T00:00:00", "s")
LAST_DAY = np.datetime64("2026-03-31T23:59:59", "s")


@dataclass(frozen=True)
class SourceRows:
    """The rows of one source, sorted by creation time."""

    source: str
    pid: np.ndarray  # person index per row
    duplicate: np.ndarray  # bool: an extra record of a person already in the source
    created: np.ndarray  # datetime64[s]
    updated: np.ndarray  # datetime64[s], >= created

    def __len__(self) -> int:
        return len(self.pid)


def coverage(rng: np.random.Generator, n: int, profile: NoiseProfile) -> dict[str, np.ndarray]:
    """Per source, a boolean mask of the persons it holds; everybody is in at least one."""
    rates = np.array([profile.coverage_of(s) for s in SOURCES])
    masks = rng.random((len(SOURCES), n)) < rates[:, None]
    orphans = np.flatnonzero(~masks.any(axis=0))
    if len(orphans):
        chosen = rng.choice(len(SOURCES), size=len(orphans), p=rates / rates.sum())
        masks[chosen, orphans] = True
    return {s: masks[i] for i, s in enumerate(SOURCES)}


def _created(rng: np.random.Generator, n: int) -> np.ndarray:
    """Creation times over 2019-2026, denser in recent years (the customer base grows)."""
    span = (LAST_DAY - FIRST_DAY).astype(np.int64)
    offset = (rng.random(n) ** 0.75 * span).astype(np.int64)
    return FIRST_DAY + offset.astype("timedelta64[s]")


def _updated(rng: np.random.Generator, created: np.ndarray) -> np.ndarray:
    """Last modification: most records are touched again some time after creation."""
    left = (LAST_DAY - created).astype(np.int64)
    frac = np.where(rng.random(len(created)) < 0.15, 0.0, rng.beta(0.8, 1.6, len(created)))
    return created + (frac * left).astype(np.int64).astype("timedelta64[s]")


def source_rows(
    rng: np.random.Generator, source: str, members: np.ndarray, duplicate_rate: float
) -> SourceRows:
    """Rows of one source: one per member person plus within-source duplicates."""
    first = np.flatnonzero(members)
    extra = first[rng.random(len(first)) < duplicate_rate]
    pid = np.concatenate([first, extra])
    duplicate = np.concatenate([np.zeros(len(first), bool), np.ones(len(extra), bool)])
    created = _created(rng, len(pid))
    order = np.argsort(created, kind="stable")
    created = created[order]
    return SourceRows(source, pid[order], duplicate[order], created, _updated(rng, created))

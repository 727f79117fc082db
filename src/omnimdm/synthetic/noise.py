"""Array-level corruption helpers and the per-source record context.

Every helper takes object arrays (``None`` = empty field) and changes only a random subset,
so the expensive Python work is proportional to the noise rate, not to the record count.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from omnimdm.synthetic.lexicon import Lexicon
from omnimdm.synthetic.profile import SourceNoise
from omnimdm.synthetic.text import ACCENT_TABLE, typo

if TYPE_CHECKING:
    from omnimdm.synthetic.population import Population


@dataclass(frozen=True)
class RecordContext:
    """Everything a field renderer needs for the rows of one source.

    ``upper`` and ``strip`` are record-level flags: the whole record was typed in capitals /
    without accents, so every free-text field of that row is affected alike.
    """

    source: str
    lex: Lexicon
    pop: Population
    pid: np.ndarray
    is_mx: np.ndarray
    rng: np.random.Generator
    rnd: random.Random
    noise: SourceNoise
    upper: np.ndarray
    strip: np.ndarray

    @property
    def n(self) -> int:
        return len(self.pid)

    def draw(self, rate: float) -> np.ndarray:
        """A boolean mask with probability ``rate`` per row (always consumes ``n`` draws)."""
        return self.rng.random(self.n) < rate


def make_context(
    source: str,
    lex: Lexicon,
    pop: Population,
    pid: np.ndarray,
    rng: np.random.Generator,
    noise: SourceNoise,
) -> RecordContext:
    """Build the context for one source's rows and draw the record-level flags."""
    n = len(pid)
    upper = rng.random(n) < noise.upper_record
    strip = rng.random(n) < noise.strip_accents
    rnd = random.Random(int(rng.integers(0, 2**62)))
    return RecordContext(source, lex, pop, pid, pop.is_mx[pid], rng, rnd, noise, upper, strip)


def present(values: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-empty entries (not ``None``, not ``""``) of an object array."""
    return np.asarray(values, dtype=object).astype(bool)


def map_unique(values: np.ndarray, fn: Callable[[str], str]) -> np.ndarray:
    """Apply ``fn`` once per distinct value (names repeat a lot), keeping ``None``."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[: len(uniques)] = [fn(u) for u in uniques]
    mapped[-1] = None
    return mapped[codes]


def apply_where(values: np.ndarray, mask: np.ndarray, fn: Callable[[str], str]) -> None:
    """In place: ``values[i] = fn(values[i])`` where ``mask`` and the value is present."""
    idx = np.flatnonzero(mask)
    if len(idx) == 0:
        return
    subset = values[idx]
    keep = present(subset)
    values[idx[keep]] = [fn(v) for v in subset[keep]]


def apply_typos(ctx: RecordContext, values: np.ndarray, rate: float) -> None:
    """In place: one keyboard typo in a ``rate`` share of the present values."""
    rnd = ctx.rnd
    apply_where(values, ctx.draw(rate), lambda v: typo(v, rnd))


def finish_text(ctx: RecordContext, values: np.ndarray) -> np.ndarray:
    """Apply the record-level flags (all capitals, no accents) to a free-text field."""
    out = values.copy()
    if ctx.upper.any():
        out[ctx.upper] = map_unique(out[ctx.upper], str.upper)
    if ctx.strip.any():
        out[ctx.strip] = map_unique(out[ctx.strip], lambda v: v.translate(ACCENT_TABLE))
    return out


def blank(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A copy of ``values`` with ``None`` where ``mask``."""
    out = values.copy()
    out[mask] = None
    return out


def choose(rng: np.random.Generator, n: int, weights: Sequence[float]) -> np.ndarray:
    """``n`` draws of a category index with the given (unnormalised) weights."""
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def pick(options: Sequence[Sequence[str]], index: np.ndarray, u: np.ndarray) -> list[str]:
    """For each row, one element of ``options[index]`` chosen by the uniform draw ``u``."""
    return [
        options[i][int(x * len(options[i]))]
        for i, x in zip(index.tolist(), u.tolist(), strict=True)
    ]

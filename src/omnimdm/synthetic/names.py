"""Person names as a source writes them: nicknames, abbreviated or truncated compound given
names, one or two surnames, swapped fields, typos, case and accent loss."""

from __future__ import annotations

import numpy as np

from omnimdm.synthetic.noise import RecordContext, apply_typos, finish_text, pick


def _replace_given(
    ctx: RecordContext,
    out: np.ndarray,
    rows: np.ndarray,
    options: dict[str, list[list[str]]],
    u: np.ndarray,
) -> None:
    """In place: for ``rows``, pick one of ``options[country][given]`` where there is one."""
    given = ctx.pop.given[ctx.pid]
    for country, mx in (("ES", False), ("MX", True)):
        table = options[country]
        has = np.array([len(x) > 0 for x in table])
        sel = rows[(ctx.is_mx[rows] == mx) & has[given[rows]]]
        if len(sel):
            out[sel] = pick(table, given[sel], u[sel])


def given_names(ctx: RecordContext) -> np.ndarray:
    """The given name as written: formal, nickname, abbreviated (``Mª José``) or truncated."""
    lex, nm = ctx.lex.given, ctx.noise.name
    given = ctx.pop.given[ctx.pid]
    out = lex.table.names[given]
    kind, u = ctx.rng.random(ctx.n), ctx.rng.random(ctx.n)
    t1 = nm.nickname
    t2 = t1 + nm.compound_abbreviated
    t3 = t2 + nm.compound_truncated
    _replace_given(ctx, out, np.flatnonzero(kind < t1), lex.nicknames, u)
    _replace_given(ctx, out, np.flatnonzero((kind >= t1) & (kind < t2)), lex.abbreviated, u)
    truncated = {"ES": lex.truncated, "MX": lex.truncated}
    _replace_given(ctx, out, np.flatnonzero((kind >= t2) & (kind < t3)), truncated, u)
    return out


def surnames(ctx: RecordContext) -> np.ndarray:
    """Both surnames (``García López``) or, for the rest, the first one only."""
    names = ctx.lex.surnames.table.names
    s1 = names[ctx.pop.surname1[ctx.pid]]
    s2 = names[ctx.pop.surname2[ctx.pid]]
    out = s1.copy()
    two = ctx.draw(ctx.noise.name.two_surnames)
    out[two] = s1[two] + " " + s2[two]
    return out


def _lower(ctx: RecordContext, *fields: np.ndarray) -> None:
    rows = ctx.draw(ctx.noise.name.lower)
    for f in fields:
        if rows.any():
            f[rows] = [v.lower() if v else v for v in f[rows]]


def split_names(ctx: RecordContext) -> tuple[np.ndarray, np.ndarray]:
    """(first name, last name) for sources with two name fields."""
    first, last = given_names(ctx), surnames(ctx)
    swapped = ctx.draw(ctx.noise.name.swapped)
    first[swapped], last[swapped] = last[swapped], first[swapped].copy()
    apply_typos(ctx, first, ctx.noise.name.typo)
    apply_typos(ctx, last, ctx.noise.name.typo)
    _lower(ctx, first, last)
    return finish_text(ctx, first), finish_text(ctx, last)


def full_names(ctx: RecordContext) -> np.ndarray:
    """One full-name field: ``María José García López`` or, swapped, ``García López, María
    José``."""
    first, last = given_names(ctx), surnames(ctx)
    out = first + " " + last
    swapped = ctx.draw(ctx.noise.name.swapped)
    out[swapped] = last[swapped] + ", " + first[swapped]
    apply_typos(ctx, out, ctx.noise.name.typo)
    _lower(ctx, out)
    return finish_text(ctx, out)


def nicknames(ctx: RecordContext, rate: float) -> np.ndarray:
    """A nickname column (Square ``Nickname``): filled for a ``rate`` share of the rows whose
    given name has a known nickname, else empty."""
    out = np.full(ctx.n, None, dtype=object)
    rows = np.flatnonzero(ctx.draw(rate))
    _replace_given(ctx, out, rows, ctx.lex.given.nicknames, ctx.rng.random(ctx.n))
    return finish_text(ctx, out)

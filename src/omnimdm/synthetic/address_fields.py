"""Postal address fields as sources write them.

Spain: ``Calle Mayor 12, 3º B`` / ``C/ Mayor, 12 3ºB`` / ``Mayor nº 12``; Mexico:
``Av. Insurgentes Sur 1234 Int. 5, Col. Del Valle``. Noise: old address of movers, street type
abbreviated or dropped, compact units, typos, city aliases, postcode typos or lost leading
zero (``8001`` for ``08001``), missing parts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omnimdm.synthetic.noise import (
    RecordContext,
    apply_typos,
    apply_where,
    blank,
    choose,
    finish_text,
    map_unique,
    pick,
)
from omnimdm.synthetic.text import digit_typo

ES_NUMBER_STYLES = ("{t} {s} {n}", "{t} {s}, {n}", "{t} {s} nº {n}", "{t} {s}, nº {n}")
ES_NUMBER_WEIGHTS = (55, 30, 10, 5)
ES_COMPACT_UNITS = ("{f}{d}", "{f}º{d}", "{f}-{d}", "{f} {d}")


@dataclass(frozen=True)
class AddressFields:
    line1: np.ndarray
    line2: np.ndarray  # None where the source wrote a single line
    city: np.ndarray
    state: np.ndarray  # province / state name
    state_code: np.ndarray  # Shopify province code (M, B, CDMX, JAL ...)
    postcode: np.ndarray
    country: np.ndarray  # ES / MX
    city_index: np.ndarray  # index into lexicon.cities of the address used (-1: missing)


def _street_types(ctx: RecordContext, idx: np.ndarray) -> np.ndarray:
    """Street type per row: full (``Calle``), abbreviated (``C/``) or dropped (``""``)."""
    a, st = ctx.noise.address, ctx.lex.streets
    kind = ctx.pop.addresses.street_type[idx]
    out = np.empty(len(idx), dtype=object)
    u = ctx.rng.random(len(idx))
    abbreviated = ctx.draw(a.street_type_abbreviated)
    for country, mx in (("ES", False), ("MX", True)):
        sel = ctx.is_mx == mx
        out[sel] = st.types[country][kind[sel]]
        rows = np.flatnonzero(sel & abbreviated)
        out[rows] = pick(st.type_abbrevs[country], kind[rows], u[rows])
    out[ctx.draw(a.street_type_missing)] = ""
    return out


def _drop_particle(street: str) -> str:
    for particle in ("de la ", "de las ", "de los ", "del ", "de ", "d'"):
        if street.startswith(particle):
            return street[len(particle) :]
    return street


def _streets(ctx: RecordContext, idx: np.ndarray, compact: np.ndarray) -> np.ndarray:
    """Street, number and (Mexico) interior number: the first address line."""
    adr = ctx.pop.addresses
    t, s = _street_types(ctx, idx), adr.street[idx]
    bare = t == ""
    s[bare] = map_unique(s[bare], _drop_particle)  # "de la Paz" -> "Paz" without "Calle"
    num, interior = adr.number[idx], adr.floor[idx]
    style = choose(ctx.rng, len(idx), ES_NUMBER_WEIGHTS)
    out = np.empty(len(idx), dtype=object)
    for k, fmt in enumerate(ES_NUMBER_STYLES):
        rows = np.flatnonzero(~ctx.is_mx & (style == k))
        out[rows] = [
            fmt.format(t=a, s=b, n=c).strip()
            for a, b, c in zip(t[rows], s[rows], num[rows].tolist(), strict=True)
        ]
    mx = np.flatnonzero(ctx.is_mx)
    out[mx] = [
        (f"{a} {b} #{c}" if cp else f"{a} {b} {c}").strip()
        + ("" if i < 0 else (f" int {i}" if cp else f" Int. {i}"))
        for a, b, c, i, cp in zip(
            t[mx], s[mx], num[mx].tolist(), interior[mx].tolist(), compact[mx].tolist(), strict=True
        )
    ]
    return out


def _units(ctx: RecordContext, idx: np.ndarray, compact: np.ndarray) -> np.ndarray:
    """Second address part: floor and door (Spain) or colonia (Mexico); None if none."""
    adr = ctx.pop.addresses
    floor, door, colonia = adr.floor[idx], adr.door[idx], adr.colonia[idx]
    style = ctx.rng.integers(0, len(ES_COMPACT_UNITS), len(idx))
    out = np.full(len(idx), None, dtype=object)
    es = np.flatnonzero(~ctx.is_mx & (floor >= 0))
    out[es] = [
        ES_COMPACT_UNITS[k].format(f=f or "Bj", d=d) if cp else (f"{f}º {d}" if f else f"Bajo {d}")
        for f, d, k, cp in zip(
            floor[es].tolist(), door[es], style[es].tolist(), compact[es].tolist(), strict=True
        )
    ]
    mx = np.flatnonzero(ctx.is_mx & (colonia != None))  # noqa: E711
    out[mx] = [
        c if cp else "Col. " + c for c, cp in zip(colonia[mx], compact[mx].tolist(), strict=True)
    ]
    return out


def _lines(ctx: RecordContext, idx: np.ndarray, two_lines: bool) -> tuple[np.ndarray, np.ndarray]:
    compact = ctx.draw(ctx.noise.address.unit_compact)
    street, unit = _streets(ctx, idx, compact), _units(ctx, idx, compact)
    split = ctx.draw(ctx.noise.address.multiline)
    has_unit = unit != None  # noqa: E711
    line1 = street.copy()
    joined = np.flatnonzero(has_unit & (~split if two_lines else np.ones(len(idx), bool)))
    sep = np.where(split & ~two_lines, "\n", ", ")
    line1[joined] = street[joined] + sep[joined] + unit[joined]
    line2 = unit.copy() if two_lines else np.full(len(idx), None, dtype=object)
    line2[~(split & has_unit)] = None
    return line1, line2


def _cities(ctx: RecordContext, city: np.ndarray) -> np.ndarray:
    a, cities = ctx.noise.address, ctx.lex.cities
    out = cities.city[city]
    has_alias = np.array([len(x) > 0 for x in cities.aliases])[city]
    rows = np.flatnonzero(ctx.draw(a.city_alias) & has_alias)
    out[rows] = pick(cities.aliases, city[rows], ctx.rng.random(len(rows)))
    return blank(out, ctx.draw(a.city_missing))


def _postcodes(ctx: RecordContext, idx: np.ndarray) -> np.ndarray:
    a = ctx.noise.address
    out = ctx.pop.addresses.postcode[idx].copy()
    apply_where(out, ctx.draw(a.postcode_typo), lambda v: digit_typo(v, ctx.rnd))
    apply_where(out, ctx.draw(a.postcode_leading_zero_lost), lambda v: v.lstrip("0") or v)
    return blank(out, ctx.draw(a.postcode_missing))


def address_fields(ctx: RecordContext, *, two_lines: bool, streets: bool = True) -> AddressFields:
    """All address fields of a source's rows. ``two_lines``: the source has Address1/2;
    ``streets=False`` skips the street lines (left empty) for sources without them."""
    a, pop = ctx.noise.address, ctx.pop
    old = pop.old_address[ctx.pid]
    idx = np.where(ctx.draw(a.old_address) & (old >= 0), old, pop.address[ctx.pid])
    city = pop.addresses.city[idx]
    if streets:
        line1, line2 = _lines(ctx, idx, two_lines)
        apply_typos(ctx, line1, a.typo)
    else:
        line1 = line2 = np.full(ctx.n, None, dtype=object)
    missing = ctx.draw(a.missing)
    cities = ctx.lex.cities
    no_state = missing | ctx.draw(a.state_missing)
    return AddressFields(
        line1=blank(finish_text(ctx, line1), missing),
        line2=blank(finish_text(ctx, line2), missing),
        city=blank(finish_text(ctx, _cities(ctx, city)), missing),
        state=blank(finish_text(ctx, cities.state[city]), no_state),
        state_code=blank(cities.state_code[city], no_state),
        postcode=blank(_postcodes(ctx, idx), missing),
        country=blank(cities.country[city], missing),
        city_index=np.where(missing, -1, city),
    )

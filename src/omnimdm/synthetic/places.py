"""Postal addresses: street type and name, number, floor/door (Spain) or interior number and
colonia (Mexico), city and a postcode consistent with the city (province prefix in Spain,
colonia postcode in Mexico).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omnimdm.synthetic.lexicon import Lexicon

ES_DOORS = ("A", "B", "C", "D", "Izda", "Dcha", "1", "2", "3", "4", "Centro")
ES_DOOR_WEIGHTS = (24, 22, 10, 6, 9, 9, 6, 6, 3, 2, 3)


@dataclass(frozen=True)
class Addresses:
    """One row per address; households point at their current address, movers also at an
    old one."""

    is_mx: np.ndarray
    city: np.ndarray  # index into lexicon.cities
    street_type: np.ndarray  # index into lexicon.streets.types[country]
    street: np.ndarray  # street name (object)
    number: np.ndarray  # building number
    floor: np.ndarray  # ES floor (0 = ground floor) / MX interior number; -1 = none
    door: np.ndarray  # ES door ("B", "Izda") or None
    colonia: np.ndarray  # MX colonia or None
    postcode: np.ndarray  # 5-character string


def _cities(rng: np.random.Generator, lex: Lexicon, is_mx: np.ndarray) -> np.ndarray:
    out = np.zeros(len(is_mx), dtype=np.int64)
    for country, mx in (("ES", False), ("MX", True)):
        sel = np.flatnonzero(is_mx == mx)
        idx = np.flatnonzero(lex.cities.country == country)
        if len(sel) and len(idx):
            w = lex.cities.weight[idx]
            out[sel] = idx[rng.choice(len(idx), size=len(sel), p=w / w.sum())]
    return out


def _streets(
    rng: np.random.Generator, lex: Lexicon, is_mx: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    kinds = np.zeros(len(is_mx), dtype=np.int64)
    names = np.empty(len(is_mx), dtype=object)
    for country, mx in (("ES", False), ("MX", True)):
        sel = np.flatnonzero(is_mx == mx)
        if len(sel) == 0:
            continue
        st = lex.streets
        kinds[sel] = rng.choice(len(st.types[country]), size=len(sel), p=st.type_p[country])
        names[sel] = st.names[country][
            rng.choice(len(st.p[country]), size=len(sel), p=st.p[country])
        ]
    return kinds, names


def _units(
    rng: np.random.Generator, is_mx: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    k = len(is_mx)
    es_number = 1 + np.minimum(rng.exponential(25.0, k), 249).astype(np.int64)
    mx_number = 1 + np.minimum(rng.exponential(350.0, k), 3999).astype(np.int64)
    number = np.where(is_mx, mx_number, es_number)
    flat = rng.random(k) < np.where(is_mx, 0.25, 0.75)
    es_floor = np.minimum(rng.geometric(0.3, k) - 1, 12)
    mx_interior = rng.integers(1, 30, k)
    floor = np.where(flat, np.where(is_mx, mx_interior, es_floor), -1)
    w = np.asarray(ES_DOOR_WEIGHTS, dtype=float)
    doors = np.array(ES_DOORS, dtype=object)[rng.choice(len(w), size=k, p=w / w.sum())]
    door = doors.copy()
    door[~(flat & ~is_mx)] = None
    return number, floor, door


def _spanish_postcodes(rng: np.random.Generator, lex: Lexicon, city: np.ndarray) -> np.ndarray:
    lo, hi = lex.cities.postcode_lo[city], lex.cities.postcode_hi[city]
    codes = lo + (rng.random(len(city)) * (hi - lo + 1)).astype(np.int64)
    out = np.empty(len(codes), dtype=object)
    out[:] = [f"{c:05d}" for c in codes.tolist()]
    return out


def _colonias(
    rng: np.random.Generator, lex: Lexicon, city: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Colonia and postcode for Mexican addresses (rows of ``city`` are MX cities)."""
    colonia = np.empty(len(city), dtype=object)
    postcode = np.empty(len(city), dtype=object)
    u = rng.random(len(city))
    offset = rng.random(len(city))
    for c in np.unique(city).tolist():
        sel = np.flatnonzero(city == c)
        options = lex.cities.colonias[c]
        if not options:
            continue
        chosen = (u[sel] * len(options)).astype(np.int64)
        lo, hi = int(lex.cities.postcode_lo[c]), int(lex.cities.postcode_hi[c])
        steps = (hi - lo) // 10 + 1
        drawn = lo + 10 * (offset[sel] * steps).astype(np.int64)
        colonia[sel] = [options[i][0] for i in chosen.tolist()]
        postcode[sel] = [
            options[i][1] or f"{d:05d}"
            for i, d in zip(chosen.tolist(), drawn.tolist(), strict=True)
        ]
    return colonia, postcode


def draw_addresses(rng: np.random.Generator, lex: Lexicon, is_mx: np.ndarray) -> Addresses:
    """One random address per entry of ``is_mx`` (True = Mexico, False = Spain)."""
    city = _cities(rng, lex, is_mx)
    kinds, names = _streets(rng, lex, is_mx)
    number, floor, door = _units(rng, is_mx)
    postcode = np.empty(len(is_mx), dtype=object)
    colonia = np.empty(len(is_mx), dtype=object)
    es, mx = np.flatnonzero(~is_mx), np.flatnonzero(is_mx)
    postcode[es] = _spanish_postcodes(rng, lex, city[es])
    colonia[mx], postcode[mx] = _colonias(rng, lex, city[mx])
    return Addresses(is_mx, city, kinds, names, number, floor, door, colonia, postcode)

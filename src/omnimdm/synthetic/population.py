"""Persons and households: the ground-truth population every export is drawn from.

Households hold 1-5 persons sharing an address and (often) a landline. Couples have a father
(the head) and a mother (the partner); children take the father's first surname and the
mother's first surname. Some households are single-parent. A profile-controlled share of
households has a son with exactly his father's full name (a hard negative for matching).
All draws are vectorised with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from omnimdm.synthetic.contacts import Contacts, draw_contacts
from omnimdm.synthetic.lexicon import Lexicon
from omnimdm.synthetic.places import Addresses, draw_addresses
from omnimdm.synthetic.profile import PopulationSettings

REFERENCE_DATE = np.datetime64("2026-03-31", "D")
DAYS_PER_YEAR = 365.2425
ROLE_HEAD, ROLE_PARTNER, ROLE_CHILD = 0, 1, 2


@dataclass(frozen=True)
class Population:
    """One row per person (arrays of length ``n``), plus the address table they point into."""

    n: int
    household: np.ndarray  # int64 household number, 0-based
    role: np.ndarray  # ROLE_HEAD / ROLE_PARTNER / ROLE_CHILD
    is_mx: np.ndarray  # bool
    female: np.ndarray  # bool
    given: np.ndarray  # index into lexicon.given
    surname1: np.ndarray  # index into lexicon.surnames
    surname2: np.ndarray
    birth: np.ndarray  # datetime64[D]
    address: np.ndarray  # index into addresses (current address)
    old_address: np.ndarray  # index into addresses, -1 if the person never moved
    same_name_as_father: np.ndarray  # bool: the deliberate father/son full-name twins
    addresses: Addresses
    contacts: Contacts


@dataclass(frozen=True)
class _Households:
    sizes: np.ndarray
    start: np.ndarray
    is_mx: np.ndarray
    father: np.ndarray  # person index or -1
    mother: np.ndarray  # person index or -1


def _household_sizes(rng: np.random.Generator, n: int, weights: list[float]) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    p = p / p.sum()
    mean = float((np.arange(1, 6) * p).sum())
    sizes = rng.choice(5, size=int(n / mean * 1.2) + 16, p=p) + 1
    while sizes.sum() < n:
        sizes = np.concatenate([sizes, rng.choice(5, size=n, p=p) + 1])
    cum = np.cumsum(sizes)
    last = int(np.searchsorted(cum, n))
    sizes = sizes[: last + 1].copy()
    sizes[-1] -= int(cum[last]) - n
    return sizes


def _roles(
    rng: np.random.Generator, n: int, settings: PopulationSettings
) -> tuple[_Households, np.ndarray, np.ndarray, np.ndarray]:
    """Household table, then per person: household number, role and sex."""
    sizes = _household_sizes(rng, n, settings.household_sizes)
    h = len(sizes)
    start = np.cumsum(sizes) - sizes
    household = np.repeat(np.arange(h), sizes)
    rank = np.arange(n) - start[household]
    single_parent = (sizes >= 2) & (rng.random(h) < settings.single_parent)
    couple = (sizes >= 2) & ~single_parent
    role = np.where(rank == 0, ROLE_HEAD, ROLE_CHILD)
    role[(rank == 1) & couple[household]] = ROLE_PARTNER
    # heads of couples are men, partners women; single parents are mostly mothers
    head_female = np.where(couple, False, rng.random(h) < np.where(single_parent, 0.7, 0.5))
    female = rng.random(n) < 0.5
    female[start] = head_female
    female[role == ROLE_PARTNER] = True
    father = np.where(couple | (single_parent & ~head_female), start, -1)
    mother = np.where(couple, start + 1, np.where(single_parent & head_female, start, -1))
    mx_share = settings.country_mix.MX / (settings.country_mix.ES + settings.country_mix.MX)
    homes = _Households(sizes, start, rng.random(h) < mx_share, father, mother)
    return homes, household, role, female


def _given_probabilities(
    lex: Lexicon, country: str, female: bool, compound_share: float
) -> np.ndarray:
    g = lex.given
    p = np.where(g.female == female, g.table.p[country], 0.0)
    comp, single = p * g.compound, p * ~g.compound
    out = np.zeros_like(p)
    if comp.sum() > 0:
        out += compound_share * comp / comp.sum()
    if single.sum() > 0:
        out += (1.0 - compound_share if comp.sum() > 0 else 1.0) * single / single.sum()
    return out / out.sum()


def _draw_given(
    rng: np.random.Generator,
    lex: Lexicon,
    is_mx: np.ndarray,
    female: np.ndarray,
    compound_share: float,
) -> np.ndarray:
    given = np.zeros(len(is_mx), dtype=np.int32)
    for country, mx in (("ES", False), ("MX", True)):
        for fem in (False, True):
            sel = np.flatnonzero((is_mx == mx) & (female == fem))
            if len(sel):
                p = _given_probabilities(lex, country, fem, compound_share)
                given[sel] = rng.choice(len(p), size=len(sel), p=p)
    return given


def _draw_surnames(rng: np.random.Generator, lex: Lexicon, is_mx: np.ndarray) -> np.ndarray:
    out = np.zeros(len(is_mx), dtype=np.int32)
    for country, mx in (("ES", False), ("MX", True)):
        sel = np.flatnonzero(is_mx == mx)
        if len(sel):
            p = lex.surnames.table.p[country]
            out[sel] = rng.choice(len(p), size=len(sel), p=p)
    return out


def _namesake_sons(
    rng: np.random.Generator,
    homes: _Households,
    household: np.ndarray,
    role: np.ndarray,
    female: np.ndarray,
    rate: float,
) -> np.ndarray:
    """Person indices of the sons who will carry exactly their father's full name."""
    sons = np.flatnonzero((role == ROLE_CHILD) & ~female & (homes.father[household] >= 0))
    if len(sons) == 0 or rate <= 0:
        return np.zeros(0, dtype=np.int64)
    _, first = np.unique(household[sons], return_index=True)
    candidates = sons[first]  # the first son of each eligible household
    share = min(1.0, rate * len(homes.sizes) / len(candidates))
    return candidates[rng.random(len(candidates)) < share]


def _names(
    rng: np.random.Generator,
    lex: Lexicon,
    homes: _Households,
    household: np.ndarray,
    role: np.ndarray,
    female: np.ndarray,
    settings: PopulationSettings,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Given name, surname1, surname2 and the namesake-son flag for every person."""
    is_mx = homes.is_mx[household]
    given = _draw_given(rng, lex, is_mx, female, settings.compound_given_names)
    s1 = _draw_surnames(rng, lex, is_mx)
    s2 = _draw_surnames(rng, lex, is_mx)
    sons = _namesake_sons(rng, homes, household, role, female, settings.same_name_parent_child)
    son_home = household[sons]
    fathers = homes.father[son_home]
    # surnames of absent parents (single-parent homes), shared by all their children
    father_s1 = _draw_surnames(rng, lex, homes.is_mx)
    mother_s1 = _draw_surnames(rng, lex, homes.is_mx)
    # a namesake son's second surname (his mother's first) equals his father's second
    with_mother = homes.mother[son_home] >= 0
    s1[homes.mother[son_home][with_mother]] = s2[fathers[with_mother]]
    mother_s1[son_home] = s2[fathers]
    has_father, has_mother = homes.father >= 0, homes.mother >= 0
    father_s1[has_father] = s1[homes.father[has_father]]
    mother_s1[has_mother] = s1[homes.mother[has_mother]]
    child = np.flatnonzero(role == ROLE_CHILD)
    s1[child] = father_s1[household[child]]
    s2[child] = mother_s1[household[child]]
    _dedupe_siblings(rng, lex, given, household, role, female, is_mx, settings)
    given[sons] = given[fathers]
    flag = np.zeros(len(role), dtype=bool)
    flag[sons] = True
    return given, s1, s2, flag


def _dedupe_siblings(
    rng: np.random.Generator,
    lex: Lexicon,
    given: np.ndarray,
    household: np.ndarray,
    role: np.ndarray,
    female: np.ndarray,
    is_mx: np.ndarray,
    settings: PopulationSettings,
) -> None:
    """Siblings do not share a given name: redraw (a few rounds) where they do."""
    child = np.flatnonzero(role == ROLE_CHILD)
    for _ in range(4):
        frame = pd.DataFrame({"h": household[child], "g": given[child]})
        dup = child[frame.duplicated().to_numpy()]
        if len(dup) == 0:
            return
        given[dup] = _draw_given(rng, lex, is_mx[dup], female[dup], settings.compound_given_names)


def _ages(
    rng: np.random.Generator, homes: _Households, household: np.ndarray, role: np.ndarray
) -> np.ndarray:
    """Age in years (float, 18-90) for each person."""
    n = len(role)
    has_child = np.zeros(len(homes.sizes), dtype=bool)
    has_child[household[role == ROLE_CHILD]] = True
    parents = has_child[household]
    age = np.where(parents, 40 + 50 * rng.beta(2.0, 2.5, n), 18 + 72 * rng.beta(1.4, 1.8, n))
    head_age = age[homes.start][household]
    partner = role == ROLE_PARTNER
    age[partner] = head_age[partner] + rng.normal(-2.0, 4.0, int(partner.sum()))
    child = np.flatnonzero(role == ROLE_CHILD)
    parent = np.where(homes.mother >= 0, homes.mother, homes.start)[household[child]]
    parent_age = np.clip(age[parent], 40, 90)
    gap = 20 + rng.random(len(child)) * (np.minimum(42, parent_age - 18) - 20)
    age[child] = parent_age - gap
    return np.clip(age, 18.0, 90.0)


def build_population(
    rng: np.random.Generator, n: int, settings: PopulationSettings, lex: Lexicon
) -> Population:
    """Draw ``n`` persons in households (deterministic for a given generator state)."""
    homes, household, role, female = _roles(rng, n, settings)
    given, s1, s2, namesake = _names(rng, lex, homes, household, role, female, settings)
    age = _ages(rng, homes, household, role)
    birth = REFERENCE_DATE - np.round(age * DAYS_PER_YEAR).astype("timedelta64[D]")
    h = len(homes.sizes)
    movers = np.flatnonzero(rng.random(n) < settings.moved)
    is_mx = homes.is_mx[household]
    addresses = draw_addresses(rng, lex, np.concatenate([homes.is_mx, is_mx[movers]]))
    old_address = np.full(n, -1, dtype=np.int64)
    old_address[movers] = h + np.arange(len(movers))
    contacts = draw_contacts(
        rng,
        lex,
        settings,
        is_mx=is_mx,
        household=household,
        home_city=addresses.city[household],
        given=given,
        surname1=s1,
        surname2=s2,
        birth=birth,
        female=female,
    )
    return Population(
        n=n,
        household=household,
        role=role,
        is_mx=is_mx,
        female=female,
        given=given,
        surname1=s1,
        surname2=s2,
        birth=birth,
        address=household.astype(np.int64),
        old_address=old_address,
        same_name_as_father=namesake,
        addresses=addresses,
        contacts=contacts,
    )

"""Module-level mappers for :func:`map_distinct`: one distinct key in, one tuple out.

Each wraps a pure normalizer and returns the columns the canonical stage joins back.
They live at module level so worker processes can unpickle them.
"""

from __future__ import annotations

import pyarrow as pa

from omnimdm.normalize.address_rules import (
    canonical_city,
    country_iso2,
    normalize_postcode,
    parse_street,
)
from omnimdm.normalize.date_rules import parse_date
from omnimdm.normalize.identifiers import normalize_national_id
from omnimdm.normalize.name_parsing import (
    display_name,
    expand_given,
    fold_name,
    is_name_particle,
    parse_full_name,
    split_surnames,
)
from omnimdm.normalize.nicknames import given_name_set
from omnimdm.normalize.phone_rules import parse_phone
from omnimdm.normalize.phonetic import spanish_phonetic

S = pa.string()


def given_display(raw: str) -> tuple[str | None]:
    return (expand_given(raw),)


GIVEN_DISPLAY = pa.schema([("given_display", S)])


def surnames_display(raw: str) -> tuple[str | None, str | None]:
    s1, s2 = split_surnames(raw)
    return display_name(s1), display_name(s2)


SURNAMES_DISPLAY = pa.schema([("s1_display", S), ("s2_display", S)])


def surname_word(word: str) -> tuple[str | None, bool]:
    """Display form of one word of a last-name value, and whether it is a particle
    (``de``, ``la``, ``y`` ...: those values are split by :func:`split_surnames` whole)."""
    return display_name(word), is_name_particle(word)


SURNAME_WORD = pa.schema([("display", S), ("particle", pa.bool_())])


def full_name_parts(raw: str) -> tuple[str | None, str | None, str | None]:
    parsed = parse_full_name(raw)
    return expand_given(parsed.given), display_name(parsed.surname1), display_name(parsed.surname2)


FULL_NAME_PARTS = pa.schema([("f_given", S), ("f_s1", S), ("f_s2", S)])


def given_keys(display: str) -> tuple[str | None, str | None, list[str], str | None]:
    """Folded given name, its first token, nickname-resolved set and phonetic key."""
    folded = fold_name(display)
    first = folded.split(" ")[0] if folded else None
    names = sorted(given_name_set(folded)) if folded else []
    return folded, first, names, spanish_phonetic(folded)


GIVEN_KEYS = pa.schema(
    [("given_norm", S), ("given_first", S), ("given_set", pa.list_(S)), ("given_ph", S)]
)


def surname_keys(display: str) -> tuple[str | None, str | None]:
    folded = fold_name(display)
    return folded, spanish_phonetic(folded)


SURNAME_KEYS = pa.schema([("surname_norm", S), ("surname_ph", S)])


def phone(raw: str, region: str) -> tuple[str | None, str, str | None]:
    result = parse_phone(raw, region, region)
    return result.e164, result.phone_type, result.reason


PHONE = pa.schema([("e164", S), ("phone_type", S), ("reason", S)])


def birth_date(raw: str, formats: str) -> tuple[int | None, int | None, int | None, str | None]:
    """``formats`` is a '|'-joined list of strptime formats (a hashable key)."""
    fmts = tuple(f for f in formats.split("|") if f)
    result = parse_date(raw, fmts, day_first=True)
    return result.year, result.month, result.day, result.reason


BIRTH_DATE = pa.schema(
    [("year", pa.int32()), ("month", pa.int32()), ("day", pa.int32()), ("reason", S)]
)


def national_id(raw: str, country: str) -> tuple[str | None, str | None, bool]:
    result = normalize_national_id(raw, country or None)
    return result.value, result.kind, result.valid


NATIONAL_ID = pa.schema([("id_value", S), ("id_kind", S), ("id_valid", pa.bool_())])


def country(raw: str) -> tuple[str | None]:
    return (country_iso2(raw),)


COUNTRY = pa.schema([("iso2", S)])


def postcode(raw: str, country_code: str) -> tuple[str | None]:
    return (normalize_postcode(raw, country_code or None),)


POSTCODE = pa.schema([("pc", S)])


def city(raw: str) -> tuple[str | None, str | None]:
    return display_name(raw), canonical_city(raw)


CITY = pa.schema([("city_display", S), ("city_norm", S)])


def street(raw: str) -> tuple[str | None, str | None, str | None, str | None]:
    parts = parse_street(raw)
    return parts.street_type, parts.street_name, parts.number, parts.floor_door


STREET = pa.schema(
    [("street_type", S), ("street_name", S), ("street_number", S), ("floor_door", S)]
)

"""Property tests: every normalizer is total on arbitrary text and idempotent where its output
is of the same kind as its input."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from omnimdm.normalize.address_rules import (
    canonical_city,
    country_iso2,
    normalize_postcode,
    parse_street,
)
from omnimdm.normalize.date_rules import parse_date
from omnimdm.normalize.email_rules import normalize_email
from omnimdm.normalize.identifiers import normalize_national_id
from omnimdm.normalize.name_parsing import (
    display_name,
    expand_given,
    fold_name,
    parse_full_name,
    split_surnames,
)
from omnimdm.normalize.nicknames import given_name_set
from omnimdm.normalize.phone_rules import parse_phone, strip_phone
from omnimdm.normalize.phonetic import spanish_phonetic
from omnimdm.normalize.text_repair import read_data_lines, repair_text

# Arbitrary text including control characters, NUL and astral characters (emoji), plus text
# drawn from the characters that real Spanish/Mexican exports are made of, so that the
# interesting branches (particles, ª, mojibake, Excel numbers, @) are reached often.
_PIECES = [*"aeiouAEIOUáéíóúÁÉÍÓÚñÑüçªº°.,-'’/@+#() \t\n\x00", "de ", "la ", "y ", "Mª", "Ma. "]
_PIECES += ["Ã", "©", "±", "E8", "gmail.com", "00", "34", "12", "\u0301", "\ufeff"]
_REALISH = st.lists(st.sampled_from(_PIECES), max_size=30).map("".join)
TEXT = st.one_of(st.text(max_size=300), _REALISH)
SETTINGS = settings(max_examples=300, deadline=None)
COUNTRY = st.sampled_from([None, "ES", "MX", "US", "PT", "España", "xx", ""])

_ALL: list[Callable[[str], object]] = [
    repair_text,
    fold_name,
    display_name,
    expand_given,
    parse_full_name,
    split_surnames,
    given_name_set,
    spanish_phonetic,
    normalize_email,
    strip_phone,
    lambda s: parse_phone.__wrapped__(s, None, "ES"),
    lambda s: parse_phone.__wrapped__(s, "MX", "ES"),
    parse_date,
    lambda s: parse_date(s, formats=("%d/%m/%Y", "%m%d"), day_first=False),
    lambda s: normalize_national_id(s, None),
    lambda s: normalize_national_id(s, "MX"),
    country_iso2,
    lambda s: normalize_postcode(s, "ES"),
    lambda s: normalize_postcode(s, None),
    canonical_city,
    parse_street,
]

_IDEMPOTENT: dict[str, Callable[[str | None], str | None]] = {
    "repair_text": repair_text,
    "fold_name": fold_name,
    "display_name": display_name,
    "expand_given": expand_given,
    "spanish_phonetic": spanish_phonetic,
    "strip_phone": strip_phone,
    "canonical_city": canonical_city,
    "email": lambda s: normalize_email(s).normalized,
}


@pytest.mark.parametrize("fn", _ALL)
@SETTINGS
@given(s=TEXT)
@example(s="")
@example(s="\x00")
@example(s="x" * 10_000)
@example(s="😀 María 😀")
def test_never_raises(fn: Callable[[str], object], s: str) -> None:
    """Total: no exception on arbitrary text (NUL, controls, emoji, 10 KB)."""
    fn(s)


@pytest.mark.parametrize("name", sorted(_IDEMPOTENT))
@SETTINGS
@given(s=TEXT)
@example(s="GarcÃ­a LÃ³pez, MÂª JosÃ©")
@example(s="MA GUADALUPE")
@example(s="Juan.Perez+x@GoogleMail.com")
def test_idempotent(name: str, s: str) -> None:
    """``f(f(x)) == f(x)`` where the output is of the same kind as the input."""
    fn = _IDEMPOTENT[name]
    once = fn(s)
    assert fn(once) == once


@SETTINGS
@given(s=TEXT, country=COUNTRY)
def test_postcode_idempotent_and_total(s: str, country: str | None) -> None:
    """Postcodes are idempotent for any country argument."""
    once = normalize_postcode(s, country)
    assert normalize_postcode(once, country) == once


@SETTINGS
@given(s=TEXT, country=COUNTRY, region=st.sampled_from(["ES", "MX", "US", "", "ZZ"]))
def test_phone_total_with_any_region(s: str, country: str | None, region: str) -> None:
    """Any region argument works; e164 is set exactly when there is no reason."""
    r = parse_phone.__wrapped__(s, country, region)
    assert r.phone_type in {"mobile", "fixed", "either", "unknown"}
    assert (r.e164 is None) == (r.reason is not None)


@SETTINGS
@given(s=TEXT)
def test_fold_and_phonetic_alphabet(s: str) -> None:
    """Comparison forms only hold ``a-z`` and single inner spaces."""
    for out in (fold_name(s), spanish_phonetic(s)):
        assert out is None or (
            out == out.strip() and set(out) <= set("abcdefghijklmnopqrstuvwxyz ")
        )
        assert out is None or "  " not in out


def test_city_canonical_names_are_fixed_points() -> None:
    """Every canonical city of the alias table maps to itself."""
    for _alias, canonical in read_data_lines("cities.tsv"):
        assert canonical_city(canonical) == canonical


def test_nickname_lexicon_size_and_shape() -> None:
    """At least 150 nicknames, all in folded form."""
    rows = read_data_lines("nicknames.tsv")
    assert len(rows) >= 150
    for row in rows:
        assert fold_name(row[0]) == row[0]
        assert all(fold_name(c) == c for c in row[1].split("|"))

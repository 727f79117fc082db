"""Data-driven normalizer tests: one pytest case per row of ``tests/cases/normalize/*.tsv``.

Adding a case is adding a line.  Cells are TAB-separated; lines starting with ``#`` and
blank lines are skipped.  Escapes in cells: ``\\t``, ``\\n``, ``\\s`` (a space, for visible
leading/trailing blanks), ``\\\\``, ``\\xHH``, ``\\uHHHH``; a cell that is exactly ``<none>``
is ``None``.  In expected cells an empty string means ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

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
from omnimdm.normalize.text_repair import repair_text

CASES = Path(__file__).parent.parent / "cases" / "normalize"
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|[tns\\])")
_SIMPLE_ESCAPES = {"t": "\t", "n": "\n", "s": " ", "\\": "\\"}


def _unescape(cell: str) -> str | None:
    """Decode the escapes of one cell (``<none>`` -> ``None``)."""
    if cell == "<none>":
        return None
    return _ESCAPE.sub(
        lambda m: _SIMPLE_ESCAPES.get(m.group(1)) or chr(int(m.group(1)[1:], 16)), cell
    )


def _opt(cell: str) -> str | None:
    """Expected/optional cell: empty -> ``None``."""
    value = _unescape(cell)
    return value or None


def _rows(name: str) -> list[tuple[str, list[str]]]:
    """(``file:line`` id, cells) for every data line of a case file."""
    rows = []
    for lineno, line in enumerate((CASES / name).read_text("utf-8").splitlines(), start=1):
        if line.strip() and not line.startswith("#"):
            rows.append((f"{name}:{lineno}", line.split("\t")))
    return rows


def _cells(row: list[str], n: int) -> list[str]:
    """Exactly ``n`` cells (missing trailing cells are empty)."""
    assert len(row) <= n, f"too many cells: {row!r}"
    return row + [""] * (n - len(row))


def _parts(cell: str) -> list[str | None]:
    """``a|b|c`` -> parts, empty -> None."""
    return [p or None for p in (_unescape(cell) or "").split("|")]


def _check_single(fn: Callable[[str | None], str | None]) -> Callable[[list[str]], None]:
    """Checker for ``input<TAB>expected`` files."""

    def check(row: list[str]) -> None:
        raw, expected = _cells(row, 2)
        assert fn(_unescape(raw)) == _opt(expected)

    return check


def check_full(row: list[str]) -> None:
    """``input<TAB>given|surname1|surname2``."""
    raw, expected = _cells(row, 2)
    p = parse_full_name(_unescape(raw))
    assert [p.given, p.surname1, p.surname2] == _parts(expected)


def check_surnames(row: list[str]) -> None:
    """``input<TAB>surname1|surname2``."""
    raw, expected = _cells(row, 2)
    assert list(split_surnames(_unescape(raw))) == _parts(expected)


def check_nicknames(row: list[str]) -> None:
    """``input<TAB>sorted |-joined given_name_set``."""
    raw, expected = _cells(row, 2)
    got = "|".join(sorted(given_name_set(_unescape(raw))))
    assert got == (_unescape(expected) or "")


def check_phonetic(row: list[str]) -> None:
    """``a<TAB>b<TAB>same|different``: whether both get the same phonetic key."""
    a, b, relation = _cells(row, 3)
    ka, kb = spanish_phonetic(_unescape(a)), spanish_phonetic(_unescape(b))
    assert relation in {"same", "different"}
    assert (ka == kb) == (relation == "same"), (ka, kb)


def check_email(row: list[str]) -> None:
    """``input<TAB>normalized<TAB>ok|corrected|placeholder|invalid_syntax|empty``."""
    raw, normalized, flags = _cells(row, 3)
    r = normalize_email(_unescape(raw))
    assert r.normalized == _opt(normalized)
    if flags in {"ok", "corrected"}:
        assert (r.valid, r.reason, r.domain_corrected) == (True, None, flags == "corrected")
    else:
        assert (r.valid, r.reason) == (False, flags)


def check_phone(row: list[str]) -> None:
    """``input<TAB>record_country<TAB>default_region<TAB>e164<TAB>type or reason``."""
    raw, country, region, e164, type_or_reason = _cells(row, 5)
    r = parse_phone.__wrapped__(_unescape(raw), _opt(country), region)
    assert r.e164 == _opt(e164)
    if r.e164 is None:
        assert (r.phone_type, r.reason) == ("unknown", type_or_reason)
    else:
        assert (r.phone_type, r.reason) == (type_or_reason, None)


def check_date(row: list[str]) -> None:
    """``input<TAB>options<TAB>year<TAB>month<TAB>day<TAB>reason`` (``ok`` = None)."""
    raw, options, year, month, day, reason = _cells(row, 6)
    formats = tuple(o[4:] for o in options.split(";") if o.startswith("fmt="))
    r = parse_date(_unescape(raw), formats=formats, day_first="month_first" not in options)
    expected = [int(v) if v else None for v in (year, month, day)]
    assert [r.year, r.month, r.day] == expected
    assert r.reason == (None if reason == "ok" else reason)


def check_identifier(row: list[str]) -> None:
    """``input<TAB>country<TAB>kind<TAB>value<TAB>true|false``."""
    raw, country, kind, value, valid = _cells(row, 5)
    r = normalize_national_id(_unescape(raw), _opt(country))
    assert (r.kind, r.value, r.valid) == (_opt(kind), _opt(value), valid == "true")


def check_postcode(row: list[str]) -> None:
    """``input<TAB>country<TAB>expected``."""
    raw, country, expected = _cells(row, 3)
    assert normalize_postcode(_unescape(raw), _opt(country)) == _opt(expected)


def check_street(row: list[str]) -> None:
    """``input<TAB>type|name|number|floor_door``."""
    raw, expected = _cells(row, 2)
    p = parse_street(_unescape(raw))
    assert [p.street_type, p.street_name, p.number, p.floor_door] == _parts(expected)


def check_strip_phone(row: list[str]) -> None:
    """``input<TAB>expected strip_phone output``."""
    raw, expected = _cells(row, 2)
    assert strip_phone(_unescape(raw)) == _opt(expected)


CHECKERS: dict[str, Callable[[list[str]], None]] = {
    "text_repair.tsv": _check_single(repair_text),
    "names_fold.tsv": _check_single(fold_name),
    "names_display.tsv": _check_single(display_name),
    "names_expand.tsv": _check_single(expand_given),
    "names_full.tsv": check_full,
    "names_surnames.tsv": check_surnames,
    "nicknames.tsv": check_nicknames,
    "phonetic.tsv": check_phonetic,
    "emails.tsv": check_email,
    "phones.tsv": check_phone,
    "phones_strip.tsv": check_strip_phone,
    "dates.tsv": check_date,
    "identifiers.tsv": check_identifier,
    "postcodes.tsv": check_postcode,
    "cities.tsv": _check_single(canonical_city),
    "streets.tsv": check_street,
    "countries.tsv": _check_single(country_iso2),
}


def test_every_case_file_has_a_checker() -> None:
    """A new case file must be registered in ``CHECKERS`` (and vice versa)."""
    assert sorted(p.name for p in CASES.glob("*.tsv")) == sorted(CHECKERS)


@pytest.mark.parametrize(
    ("checker", "row"),
    [
        pytest.param(CHECKERS[name], row, id=case_id)
        for name in sorted(CHECKERS)
        for case_id, row in _rows(name)
    ],
)
def test_case(checker: Callable[[list[str]], None], row: list[str]) -> None:
    """One row of one case file."""
    checker(row)

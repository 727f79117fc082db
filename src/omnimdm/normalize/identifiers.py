"""National identifiers (ES DNI/NIE/CIF, MX CURP/RFC, US SSN) validated with python-stdnum.

Decisions:

* Shapes that are unambiguous are recognised whatever the country (a CURP on a Spanish
  record is still a CURP); bare digit strings need the country: 9 digits + US -> SSN,
  8 digits + ES -> DNI without its letter (``valid=False``).
* Old 8-digit NIEs (``X-01234567-L``) are compacted to the current 7-digit form.
* A DNI that lost leading zeros (Excel: ``1234567L``) is padded to 8 digits (ES or no
  country).  Spanish company NIFs are kind ``CIF`` (``stdnum.es.cif``).
* RFC: 12 (company) / 13 (person) characters are checked including the check digit; a
  10-character RFC without homoclave is kind ``RFC`` but ``valid=False`` (nothing to check).
* Well-known filler values are ``valid=False`` even when their check digit works:
  ``00000000T``, ``12345678Z`` and other one-digit DNIs, the generic RFCs ``XAXX010101000``
  / ``XEXX010101000``, the generic foreigner CURP ``XEXX010101[HM]NEXXXA?``, SSN
  ``123456789``.
* Unrecognised values keep ``value`` = compact upper-case text, ``valid=False``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from stdnum.es import cif, dni, nie
from stdnum.mx import curp, rfc
from stdnum.us import ssn

from omnimdm.normalize.address_rules import country_iso2
from omnimdm.normalize.text_repair import repair_text

_SEPARATORS = re.compile(r"[\s\-./_,:]+")
_NIE = re.compile(r"[XYZ]\d{7}[A-Z]")
_OLD_NIE = re.compile(r"[XYZ]0\d{7}[A-Z]")
_DNI = re.compile(r"\d{8}[A-Z]")
_DNI_SHORT = re.compile(r"\d{5,7}[A-Z]")
_CIF = re.compile(r"[ABCDEFGHJNPQRSUVW]\d{7}[0-9A-J]")
_CURP = re.compile(r"[A-Z]{4}\d{6}[HMX][A-Z]{5}[0-9A-Z]\d")
_RFC = re.compile(r"[A-ZÑ&]{3,4}\d{6}(?:[A-Z0-9]{3})?")
_GENERIC = frozenset({"XAXX010101000", "XEXX010101000", "12345678Z", "123456789", "87654321X"})
_GENERIC_CURP = re.compile(r"XEXX010101[HM]NEXXX[A-Z0-9]\d")


@dataclass(frozen=True)
class IdResult:
    """Identifier kind (``DNI``/``NIE``/``CIF``/``CURP``/``RFC``/``SSN`` or ``None``), its
    compact value and whether its check digit is right."""

    kind: str | None
    value: str | None
    valid: bool


def _check(fn: Callable[[str], bool], value: str) -> bool:
    """Run a stdnum ``is_valid`` defensively."""
    try:
        return bool(fn(value))
    except Exception:  # stdnum must never make a normalizer raise
        return False


def _placeholder(value: str) -> bool:
    """Filler identifiers (one repeated digit, generic RFC/CURP, 12345678Z ...)."""
    digits = "".join(c for c in value if c.isdigit())
    return (
        value in _GENERIC
        or bool(_GENERIC_CURP.fullmatch(value))
        or (len(digits) >= 7 and len(set(digits)) == 1)
    )


def _rfc_valid(value: str) -> bool:
    """RFC with check digit (12/13 characters)."""
    if len(value) == 10:
        return False
    return _check(lambda v: rfc.is_valid(v, validate_check_digits=True), value)


def _classify(value: str, iso: str | None) -> IdResult:
    """Recognise the identifier by shape (and country for bare digits)."""
    kinds: list[tuple[str, re.Pattern[str], Callable[[str], bool]]] = [
        ("NIE", _NIE, nie.is_valid),
        ("DNI", _DNI, dni.is_valid),
        ("CIF", _CIF, cif.is_valid),
        ("CURP", _CURP, curp.is_valid),
        ("RFC", _RFC, _rfc_valid),
    ]
    for kind, pattern, validator in kinds:
        if pattern.fullmatch(value):
            ok = _check(validator, value) and not _placeholder(value)
            return IdResult(kind, value, ok)
    if _DNI_SHORT.fullmatch(value) and iso in {None, "ES"}:
        padded = value.zfill(9)
        return IdResult("DNI", padded, _check(dni.is_valid, padded) and not _placeholder(padded))
    if value.isdigit() and value.isascii():
        if iso == "US" and len(value) == 9:
            return IdResult("SSN", value, _check(ssn.is_valid, value) and not _placeholder(value))
        if iso == "ES" and len(value) == 8:
            return IdResult("DNI", value, False)
    guess = {"ES": "DNI", "MX": "CURP" if len(value) >= 16 else "RFC", "US": "SSN"}
    return IdResult(guess.get(iso or "") if iso else None, value, False)


def normalize_national_id(s: str | None, country: str | None) -> IdResult:
    """Normalize one national identifier (see module docstring for the rules).

    ``value`` is the compact upper-case form (separators removed); blank ->
    ``IdResult(None, None, False)``.  ``country`` is ISO-2 or anything ``country_iso2``
    understands, or ``None`` (then the shape decides).  Never raises.
    """
    t = repair_text(s)
    if t is None:
        return IdResult(None, None, False)
    value = _SEPARATORS.sub("", t).upper()
    if not value:
        return IdResult(None, None, False)
    if _OLD_NIE.fullmatch(value):  # pre-2008 NIEs carried 8 digits: X-01234567-L
        value = value[0] + value[2:]
    iso = country_iso2(country) if country else None
    return _classify(value, iso)

"""Phone normalization to E.164 with ``phonenumbers``, Mexican/Spanish legacy and Excel damage.

Decisions:

* Region precedence: an explicit ``+``/``00`` prefix, then the record's country (ISO-2;
  names and ISO-3 codes are accepted through ``country_iso2``), then the source's default.
* Mexico: ``+52 1 ...`` (old mobile marker), ``044``/``045`` + 10 digits (old national
  mobile prefixes), ``01`` + 10 digits (old long-distance prefix) and ``52``/``521`` + 10
  digits without ``+`` are rewritten to ``+52`` + 10 digits.
* Spain: ``34`` + 9 digits without ``+`` is international when the 9 digits are a valid
  Spanish number (any region).
* Excel: ``6.12345678E8`` / ``6,12345678E+08`` are recovered only when the mantissa holds
  every digit; otherwise ``reason='precision_lost'``.  ``612345678.0`` (a float that went
  through pandas) is recovered.
* Placeholders (a national number whose last 8 digits are one repeated digit):
  ``reason='placeholder'`` even when the number is formally valid (``600000000``).
  Sequences such as ``612345678`` are NOT treated as placeholders (real numbers).
* ``phone_type``: MOBILE -> ``mobile``, FIXED_LINE -> ``fixed``, FIXED_LINE_OR_MOBILE ->
  ``either`` (all Mexican numbers since the 2019 numbering plan); anything else (toll-free,
  VoIP ...) or invalid -> ``unknown``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType

from omnimdm.normalize.address_rules import country_iso2

_EXTENSION = re.compile(
    r"(?:(?:ext|extension|extensi[oó]n|anexo)\.?|(?<![a-z])x|#)\s*\d{1,6}\s*$", re.IGNORECASE
)
_SCI = re.compile(r"^\s*'?\s*([+-]?)(\d)[.,](\d+)\s*[eE]\s*\+?(\d{1,2})\s*$")
_FLOAT = re.compile(r"^\s*'?\s*(\d+)[.,]0+\s*$")
_ALTERNATIVES = re.compile(r"\s*(?:[/;|,]|\by\b|\b[oó]\b)\s*")
_NON_DIGIT = re.compile(r"\D+")
_TYPES = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "fixed",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "either",
}


@dataclass(frozen=True)
class PhoneResult:
    """Outcome of ``parse_phone``: E.164 (or ``None``), type and the reason when unusable."""

    e164: str | None
    phone_type: str
    reason: str | None


class _PrecisionLost(Exception):
    """Excel scientific notation that dropped digits."""


def _excel_digits(s: str) -> str | None:
    """Digits of an Excel-mangled number (``6.12345678E8``, ``612345678.0``), or ``None``
    when ``s`` is not one; raises ``_PrecisionLost`` when digits were dropped."""
    m = _SCI.match(s)
    if m:
        sign, lead, frac, exp = m.group(1), m.group(2), m.group(3), int(m.group(4))
        if sign == "-" or len(frac) > exp:
            return ""
        if len(frac) < exp:
            raise _PrecisionLost
        return lead + frac
    m = _FLOAT.match(s)
    return m.group(1) if m else None


def _strip(s: str) -> str | None:
    """Worker of ``strip_phone``; may raise ``_PrecisionLost``."""
    excel = _excel_digits(s)
    if excel is not None:
        return excel or None
    parts = _ALTERNATIVES.split(s)
    if len(parts) > 1 and len(_NON_DIGIT.sub("", parts[0])) >= 7:
        s = parts[0]
    s = _EXTENSION.sub("", s)
    digits = _NON_DIGIT.sub("", s)
    if not digits:
        return None
    first = next((c for c in s if c == "+" or c.isdigit()), "")
    if first == "+" or digits.startswith("00"):
        # E.164 never starts with 0: "+0034..." and "0034..." both mean "+34..."
        rest = digits.lstrip("0")
        return "+" + rest if rest else None
    return digits


def strip_phone(s: str | None) -> str | None:
    """Keep the digits of a phone value and a leading ``+`` (``00`` prefix -> ``+``).

    Drops Excel's leading apostrophe, punctuation and a trailing extension (``ext 12``,
    ``x12``, ``#12``); keeps only the first number of ``612345678 / 698765432``; recovers
    Excel's ``6.12345678E8`` and ``612345678.0``.  ``None`` when no digits remain or Excel
    dropped digits.  Idempotent.
    """
    if not s:
        return None
    try:
        return _strip(s)
    except _PrecisionLost:
        return None


def _parse(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    """``phonenumbers.parse`` without exceptions."""
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None


_Typed = tuple[phonenumbers.PhoneNumber, int]


def _typed(text: str | None, region: str | None) -> _Typed | None:
    """Parse and type a number; ``None`` unless valid.  ``number_type`` is UNKNOWN exactly
    for numbers ``is_valid_number`` rejects, so one call does both (it is the slow part)."""
    num = _parse(text, region) if text else None
    if num is None:
        return None
    kind = phonenumbers.number_type(num)
    return None if kind == PhoneNumberType.UNKNOWN else (num, kind)


def _mexican_legacy(digits: str) -> str | None:
    """Rewrite old Mexican forms (``044``/``045``/``01``/``521``/``52`` + 10 digits)."""
    n = len(digits)
    if n == 13 and digits[:3] in {"044", "045", "521"}:
        return "+52" + digits[3:]
    if n == 12 and digits[:2] in {"01", "52"}:
        return "+52" + digits[2:]
    if n == 11 and digits[0] == "1":
        return "+52" + digits[1:]
    return None


def _candidate(s: str, region: str | None) -> _Typed | None:
    """Best valid parse of a stripped value (``+digits`` or ``digits``) for ``region``."""
    if s.startswith("+"):
        if s.startswith("+521") and len(s) == 14:
            s = "+52" + s[4:]
        return _typed(s, None)
    found = _typed(s, region) if region else None
    if found is not None:
        return found
    rescues = []
    if region == "MX":
        rescues.append(_mexican_legacy(s))
    if len(s) == 11 and s.startswith("34"):
        rescues.append("+" + s)
    if region != "MX" and len(s) in (12, 13) and s.startswith("52"):
        rescues.append(_mexican_legacy(s))
    for alt in rescues:
        found = _typed(alt, None)
        if found is not None:
            return found
    return None


def _is_placeholder(national: str) -> bool:
    """Filler numbers: the last 8 digits are one repeated digit (``600000000``)."""
    return len(national) >= 8 and len(set(national[-8:])) == 1


def _region(record_country: str | None, default_region: str) -> str | None:
    """Record country (tolerant ISO-2) if usable, else the default region."""
    for value in (record_country, default_region):
        iso = country_iso2(value) if value else None
        if iso and iso in phonenumbers.SUPPORTED_REGIONS:
            return iso
    return None


@functools.lru_cache(maxsize=65536)
def parse_phone(raw: str | None, record_country: str | None, default_region: str) -> PhoneResult:
    """Parse one phone value to E.164 (see module docstring for the rules).

    Reasons: ``None`` (valid), ``'empty'``, ``'invalid'``, ``'precision_lost'``,
    ``'placeholder'``.  Never raises; results are cached (``parse_phone.__wrapped__`` is
    the uncached function).
    """
    if not raw or not raw.strip():
        return PhoneResult(None, "unknown", "empty")
    try:
        s = _strip(raw)
    except _PrecisionLost:
        return PhoneResult(None, "unknown", "precision_lost")
    if s is None or len(s) > 20:
        return PhoneResult(None, "unknown", "invalid")
    found = _candidate(s, _region(record_country, default_region))
    if found is None:
        return PhoneResult(None, "unknown", "invalid")
    num, kind = found
    if _is_placeholder(str(num.national_number)):
        return PhoneResult(None, "unknown", "placeholder")
    e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    return PhoneResult(e164, _TYPES.get(kind, "unknown"), None)

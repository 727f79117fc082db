"""Date parsing for birth dates and similar: per-source formats, ES/MX/US styles, Excel.

Decisions:

* Order: the source's ``strptime`` formats, ISO ``YYYY-MM-DD`` (optional time), ``YYYYMMDD``,
  ``DD/MM/YYYY`` vs ``MM/DD/YYYY`` (``day_first``; a part > 12 decides), ``DD-MM-YYYY``,
  ``DD.MM.YYYY``, two-digit years, partial dates, Spanish/English month names, Excel serial
  numbers (exactly five digits, 10000-60000, 1900 date system).
* Two-digit years: greater than the current two-digit year -> 1900s, otherwise 2000s.
* Reasons: ``None`` (complete and plausible), ``'partial'`` (no year, e.g. ``14/03``,
  ``--03-14``, ``0000-03-14``, ``14 de marzo``; or year/month only, ``1984-00-00``,
  ``marzo 1984``), ``'impossible'`` (31/02), ``'placeholder'`` (``1900-01-01``,
  ``1111-11-11``, ``9999-12-31``, ``0000-00-00``, Excel's ``1899-12-30``...),
  ``'out_of_range'`` (year < 1900 or in the future), ``'unparseable'``, ``'empty'``.
  Only a ``None`` reason or ``'partial'`` carries values; the others are all nulls.
* ``1970-01-01`` is NOT a placeholder (real people are born on it); callers that see it
  massively should treat it with term-frequency adjustments.
* "Future" and the two-digit pivot use today's date (the only non-constant input).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from omnimdm.normalize.text_repair import repair_text

_MONTHS = {
    "enero": 1, "ene": 1, "january": 1, "jan": 1, "febrero": 2, "feb": 2, "february": 2,
    "marzo": 3, "mar": 3, "march": 3, "abril": 4, "abr": 4, "april": 4, "apr": 4,
    "mayo": 5, "may": 5, "junio": 6, "jun": 6, "june": 6, "julio": 7, "jul": 7, "july": 7,
    "agosto": 8, "ago": 8, "august": 8, "aug": 8, "septiembre": 9, "setiembre": 9,
    "sep": 9, "sept": 9, "set": 9, "september": 9, "octubre": 10, "oct": 10, "october": 10,
    "noviembre": 11, "nov": 11, "november": 11, "diciembre": 12, "dic": 12,
    "december": 12, "dec": 12,
}  # fmt: skip
_FILLER = frozenset(
    {
        "de",
        "del",
        "of",
        "the",
        "el",
        "lunes",
        "martes",
        "miercoles",
        "jueves",
        "viernes",
        "sabado",
        "domingo",
        "lun",
        "mie",
        "jue",
        "vie",
        "sab",
        "dom",
        "st",
        "nd",
        "rd",
        "th",
    }
)
_PLACEHOLDERS = frozenset(
    {
        (1900, 1, 1),
        (1901, 1, 1),
        (1899, 12, 30),
        (1899, 12, 31),
        (1111, 11, 11),
        (9999, 12, 31),
        (9999, 9, 9),
        (9999, 1, 1),
        (1000, 1, 1),
        (2999, 12, 31),
    }
)
_TIME = re.compile(
    r"(?:[t\s]+|(?<=\d)(?=\d{1,2}:))\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*"
    r"(?:[ap]\.?\s?m\.?)?\s*(?:z|utc|gmt|[+-]\d{2}:?\d{2})?$"
)
_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_PARTIAL_ISO = re.compile(r"--(\d{1,2})-?(\d{1,2})")
_NUMERIC = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})")
_DAY_MONTH = re.compile(r"(\d{1,2})[-/.](\d{1,2})")
_WORDS = re.compile(r"[a-z]+|\d+")
_ACCENTS = str.maketrans("áéíóúü", "aeiouu")
_EXCEL_EPOCH = date(1899, 12, 30)


@dataclass(frozen=True)
class DateResult:
    """Parsed date parts (``None`` where unknown) and the reason when not a full date."""

    year: int | None
    month: int | None
    day: int | None
    reason: str | None


def _null(reason: str) -> DateResult:
    """All-null result with a reason."""
    return DateResult(None, None, None, reason)


def _pivot(yy: int) -> int:
    """Two-digit year -> four digits (> current two-digit year means 1900s)."""
    return 1900 + yy if yy > date.today().year % 100 else 2000 + yy


def _finish(y: int | None, m: int | None, d: int | None) -> DateResult:
    """Validate parsed parts; ``None``/0 year (or month and day 0) gives a partial date."""
    if (y or 0, m or 0, d or 0) == (0, 0, 0) or (y, m, d) in _PLACEHOLDERS:
        return _null("placeholder")
    if y and m == 0 and d == 0:
        m = d = None
    if y and y < 1900:
        return _null("out_of_range")
    if m is not None and not 1 <= m <= 12:
        return _null("impossible")
    if d is not None:
        if m is None:
            return _null("impossible")
        last = calendar.monthrange(y or 2000, m)[1]  # 2000: leap year, so 29/02 is possible
        if not 1 <= d <= last:
            return _null("impossible")
    today = date.today()
    if y and (y, m or 1, d or 1) > (today.year, today.month, today.day):
        return _null("out_of_range")
    if not y:
        return DateResult(None, m, d, "partial")
    return DateResult(y, m, d, None if d is not None else "partial")


def _day_month(a: int, b: int, day_first: bool) -> tuple[int, int] | None:
    """(day, month) from two numbers; a part > 12 decides, else ``day_first``."""
    if a > 12 and b > 12:
        return None
    if a > 12 or (day_first and b <= 12):
        return a, b
    return b, a


def _by_formats(t: str, formats: tuple[str, ...]) -> DateResult | None:
    """Try the source's ``strptime`` formats."""
    for fmt in formats:
        try:
            dt = datetime.strptime(t, fmt)
        except (ValueError, TypeError, OverflowError):
            continue
        has_year = "%Y" in fmt or "%y" in fmt
        return _finish(dt.year if has_year else None, dt.month, dt.day)
    return None


def _by_month_name(core: str) -> DateResult | None:
    """``14 de marzo de 1984``, ``14-mar-84``, ``marzo 14, 1984``, ``marzo 1984``."""
    tokens = [w for w in _WORDS.findall(core.translate(_ACCENTS)) if w not in _FILLER]
    months = [w for w in tokens if w in _MONTHS]
    nums = [w for w in tokens if w.isdigit()]
    if len(months) != 1 or len(months) + len(nums) != len(tokens) or not 1 <= len(nums) <= 2:
        return None
    month = _MONTHS[months[0]]
    if len(nums) == 1:
        n = nums[0]
        if len(n) == 4:
            return _finish(int(n), month, None)
        return _finish(None, month, int(n)) if len(n) <= 2 else None
    a, b = nums
    if len(a) == 4 or (len(a) <= 2 and int(a) > 31):
        a, b = b, a
    if len(a) > 2 or len(b) not in (2, 4):
        return None
    year = int(b) if len(b) == 4 else _pivot(int(b))
    return _finish(year, month, int(a))


def _by_digits(core: str, day_first: bool) -> DateResult | None:
    """Numeric shapes: ISO, ``--MM-DD``, ``DD/MM/YYYY``, ``DD/MM``, ``YYYYMMDD``, Excel."""
    m = _ISO.fullmatch(core)
    if m:
        return _finish(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _PARTIAL_ISO.fullmatch(core)
    if m:
        return _finish(None, int(m.group(1)), int(m.group(2)))
    m = _NUMERIC.fullmatch(core)
    if m:
        dm = _day_month(int(m.group(1)), int(m.group(3)), day_first)
        y = m.group(4)
        year = int(y) if len(y) == 4 else _pivot(int(y))
        return _finish(year, dm[1], dm[0]) if dm else _null("impossible")
    m = _DAY_MONTH.fullmatch(core)
    if m:
        dm = _day_month(int(m.group(1)), int(m.group(2)), day_first)
        return _finish(None, dm[1], dm[0]) if dm else _null("impossible")
    if core.isdigit() and core.isascii():
        return _by_digit_run(core, day_first)
    return None


def _by_digit_run(core: str, day_first: bool) -> DateResult | None:
    """``YYYYMMDD`` (else ``DDMMYYYY``/``MMDDYYYY``), a bare year, an Excel serial."""
    if len(core) == 8:
        first = _finish(int(core[:4]), int(core[4:6]), int(core[6:]))
        if first.reason is None or 1800 <= int(core[:4]) <= 2999:
            return first
        dm = _day_month(int(core[:2]), int(core[2:4]), day_first)
        return _finish(int(core[4:]), dm[1], dm[0]) if dm else _null("impossible")
    if len(core) == 4:
        return _finish(int(core), None, None)
    if len(core) == 5 and 10000 <= int(core) <= 60000:
        d = _EXCEL_EPOCH + timedelta(days=int(core))
        return _finish(d.year, d.month, d.day)
    return None


def parse_date(s: str | None, formats: tuple[str, ...] = (), day_first: bool = True) -> DateResult:
    """Parse one date value (see module docstring for shapes, pivot and reasons).

    Never raises; ``formats`` are tried first, with ``datetime.strptime``.
    """
    t = repair_text(s)
    if t is None:
        return _null("empty")
    if formats:
        by_format = _by_formats(t, formats)
        if by_format is not None:
            return by_format
    core = _TIME.sub("", t.lower()).strip().rstrip(".")
    if len(core) > 60:
        return _null("unparseable")
    if core.endswith(".0") and core[:-2].isdigit():
        core = core[:-2]
    result = _by_digits(core, day_first) or _by_month_name(core)
    return result if result is not None else _null("unparseable")

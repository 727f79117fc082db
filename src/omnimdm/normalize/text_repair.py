"""Low-level text repair shared by every normalizer, plus the packaged-lexicon loader.

``repair_text`` is the first step of all field normalizers: it undoes mojibake (UTF-8 read
as Latin-1/Windows-1252, even twice), applies Unicode NFKC, removes control and invisible
format characters, collapses whitespace and trims.  It is pure, total and idempotent.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from functools import cache, lru_cache
from importlib import resources

import ftfy

# Whitespace-like characters (including ASCII/Unicode line and field separators) -> space.
_SPACES = re.compile(r"[\s\u200b\u2028\u2029\u3000]+")
# Control (Cc), invisible format (Cf) and lone surrogate characters: dropped.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1b\x7f-\x9f\u00ad\u061c\u180e\u200c-\u200f\u202a-\u202e"
    "\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff]"
)
# A Latin-1/Windows-1252 lead byte followed by a continuation byte: the mark of mojibake.
_MOJIBAKE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)
# Other things ftfy repairs in non-ASCII text: C1 controls, HTML entities, curly quotes,
# ligatures, terminal escapes.
_FTFY_OTHER = re.compile("[\x80-\x9f&\x1b\u2018\u2019\u201a\u201b\u201c\u201d\ufb00-\ufb06]")


def _needs_ftfy(s: str) -> bool:
    """Whether ftfy could change ``s`` (it costs ~15 us; most values are clean)."""
    if s.isascii():
        return "&" in s or "\x1b" in s
    return bool(_MOJIBAKE.search(s) or _FTFY_OTHER.search(s))


def _repair_once(s: str, keep_ordinals: bool) -> str:
    """One pass of the repair pipeline (see ``repair_text``)."""
    if _needs_ftfy(s):
        with contextlib.suppress(Exception):  # ftfy must never make a normalizer raise
            s = ftfy.fix_text(s, normalization="NFC")
    if not s.isprintable():  # isprintable() is False for any control/format/odd space
        s = _INVISIBLE.sub("", s)
    if not s.isascii():
        protect = keep_ordinals and ("\u00aa" in s or "\u00ba" in s)
        if protect:
            s = s.replace("\u00aa", "\ue000").replace("\u00ba", "\ue001")
        s = unicodedata.normalize("NFKC", s)
        if protect:
            s = s.replace("\ue000", "\u00aa").replace("\ue001", "\u00ba")
    if "  " in s or not s.isprintable():
        s = _SPACES.sub(" ", s)
    return s.strip()


def repair_text(s: str | None, *, keep_ordinals: bool = False) -> str | None:
    """Repair one raw text value; ``None`` or blank -> ``None``.

    Steps: ftfy ``fix_text`` (mojibake such as ``GarcÃ­a`` -> ``García``, HTML entities,
    curly quotes; skipped when no character ftfy could act on is present), removal of
    control/NUL/invisible characters, Unicode NFKC, whitespace collapsed to single spaces,
    trimmed.  ``keep_ordinals=True`` keeps the Spanish ordinal indicators ``ª``/``º``
    (NFKC would turn them into ``a``/``o``) so that callers can read ``Mª``, ``3º``, ``Pº``
    themselves.  Results for values up to 256 characters are cached.  Never raises;
    ``repair_text(repair_text(x)) == repair_text(x)``.
    """
    if not s:
        return None
    if s.isascii() and s.isprintable() and "&" not in s and "  " not in s:
        t = s.strip()  # fast path: clean ASCII only needs trimming
        return t or None
    if len(s) <= _CACHE_MAX_LEN:
        return _repair_cached(s, keep_ordinals)
    return _repair(s, keep_ordinals)


def _repair(s: str, keep_ordinals: bool) -> str | None:
    """Repeat the repair pass until it reaches a fixed point (at most three passes)."""
    prev = s
    for _ in range(3):
        out = _repair_once(prev, keep_ordinals)
        # a pass is final unless it left something ftfy could still fix (ftfy/NFKC may
        # expose one more layer of mojibake): stop at the fixed point
        if out == prev or not _needs_ftfy(out):
            return out or None
        prev = out
    return prev or None


_CACHE_MAX_LEN = 256
_repair_cached = lru_cache(maxsize=65536)(_repair)


@cache
def read_data_lines(name: str) -> tuple[tuple[str, ...], ...]:
    """Rows of a packaged lexicon under ``omnimdm/normalize/data/`` (read once, cached).

    Blank lines and lines starting with ``#`` are skipped; each row is split on TAB and its
    cells stripped.  Lexicons ship inside the package: nothing is ever downloaded.
    """
    path = resources.files("omnimdm.normalize").joinpath("data").joinpath(name)
    text = path.read_text("utf-8")
    rows = []
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            rows.append(tuple(cell.strip() for cell in line.split("\t")))
    return tuple(rows)

"""E-mail normalization: cleanup, syntax check, provider folding, typo fixes, placeholders.

Decisions:

* Syntax is a practical RFC 5322 subset: ASCII dot-atom local part (<= 64 chars) and a
  DNS domain of at least two labels with an alphabetic TLD (<= 253 chars); no quoted local
  parts, IP literals or internationalized addresses (they do not occur in customer data).
* ``+tag`` is folded for providers that deliver ``local+tag`` to ``local``: Gmail, Outlook,
  Hotmail, Live, MSN, iCloud (icloud/me/mac), Proton, Fastmail (``data/email_domains.tsv``).
  Yahoo is NOT folded (it uses ``-`` disposable addresses; ``+`` is part of the name).
* Dots in the local part are removed only for Gmail; ``googlemail.com`` -> ``gmail.com``
  (an alias, not flagged as a correction).
* Domain typos: a hand-made table (``data/email_domain_typos.tsv``), then, only for
  domains that are neither known nor in the table, an optimal-string-alignment distance
  <= 1 against the major providers marked ``fuzzy`` (ties are left alone).  Both set
  ``domain_corrected``; so does repairing ``gmail,com`` / ``gmail..com``.
* Several addresses in one cell: the first one is used.
* Reasons: ``None`` (valid), ``'empty'``, ``'placeholder'``, ``'invalid_syntax'``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from rapidfuzz.distance import OSA

from omnimdm.normalize.text_repair import read_data_lines

_LOCAL = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2060\ufeff]")
_ANGLE = re.compile(r"<([^<>]*@[^<>]*)>")
_AROUND_AT_DOT = re.compile(r"\s*([@.])\s*")
_SEPARATORS = re.compile(r"[\s;,/]+")
_EDGE_JUNK = "\"'`<>()[]{}.,;: "
_ALNUM = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class EmailResult:
    """Outcome of ``normalize_email``."""

    normalized: str | None
    valid: bool
    domain_corrected: bool
    reason: str | None


_EMPTY = EmailResult(None, False, False, "empty")
_PLACEHOLDER = EmailResult(None, False, False, "placeholder")
_INVALID = EmailResult(None, False, False, "invalid_syntax")


@cache
def known_domains() -> dict[str, frozenset[str]]:
    """Known domain -> its rule flags (``plus``, ``dots``, ``fuzzy``)."""
    return {
        row[0]: frozenset(f for f in row[1].split(",") if f not in {"", "-"})
        for row in read_data_lines("email_domains.tsv")
    }


@cache
def _typos() -> dict[str, str]:
    """Typo domain -> correct domain."""
    return {row[0]: row[1] for row in read_data_lines("email_domain_typos.tsv")}


@cache
def placeholder_lists() -> dict[str, frozenset[str]]:
    """Placeholder kind (``local``/``domain``/``text``) -> values."""
    out: dict[str, set[str]] = {"local": set(), "domain": set(), "text": set()}
    for row in read_data_lines("email_placeholders.tsv"):
        out.setdefault(row[0], set()).add(row[1])
    return {k: frozenset(v) for k, v in out.items()}


@lru_cache(maxsize=16384)
def correct_domain(domain: str) -> tuple[str, bool]:
    """(canonical domain, corrected?) for a syntactically valid domain."""
    if domain == "googlemail.com":
        return "gmail.com", False
    known = known_domains()
    if domain in known:
        return domain, False
    fixed = _typos().get(domain)
    if fixed is not None:
        return fixed, True
    hits = [
        d for d, f in known.items() if "fuzzy" in f and OSA.distance(domain, d, score_cutoff=1) <= 1
    ]
    if len(hits) == 1:
        return hits[0], True
    return domain, False


def _clean(s: str) -> tuple[str, bool]:
    """Strip wrappers and junk; return (candidate address, domain repaired?)."""
    t = _INVISIBLE.sub("", s).strip().lower()
    m = _ANGLE.search(t)
    if m:
        t = m.group(1)
    if t.startswith("mailto:"):
        t = t[7:]
    t = t.strip(_EDGE_JUNK)
    if " " in t or not t.isascii():
        t = _AROUND_AT_DOT.sub(r"\1", t)
    if t.count("@") > 1:
        t = next((p for p in _SEPARATORS.split(t) if "@" in p), t).strip(_EDGE_JUNK)
    local, at, domain = t.rpartition("@")
    if not at:
        return t, False
    fixed = domain.replace(",", ".")
    while ".." in fixed:
        fixed = fixed.replace("..", ".")
    fixed = fixed.strip(".")
    return f"{local}@{fixed}", fixed != domain.strip(".")


def _is_placeholder(local: str, domain: str) -> bool:
    """Placeholder local part / domain, a single repeated character, or ``x@x.com``."""
    ph = placeholder_lists()
    key = _ALNUM.sub("", local)
    label = domain.split(".")[0]
    return (
        key in ph["local"]
        or domain in ph["domain"]
        or len(set(local)) == 1
        or (local == label and (len(local) <= 3 or key in ph["local"]))
    )


def normalize_email(s: str | None) -> EmailResult:
    """Normalize one e-mail value (see module docstring for the rules).

    Valid -> ``EmailResult(normalized, True, domain_corrected, None)``; placeholders
    (``noemail@...``, ``sin@email.com``, ``a@a.com``, ``NO TIENE``) -> ``reason=
    'placeholder'``; anything else unusable -> ``reason='invalid_syntax'`` (``'empty'``
    for blank).  Never raises; idempotent on ``normalized``.
    """
    if s is None or not s.strip():
        return _EMPTY
    t, corrected = _clean(s)
    if not t:
        return _EMPTY
    local, at, domain = t.rpartition("@")
    if not at:
        key = _ALNUM.sub("", t)
        return _PLACEHOLDER if not key or key in placeholder_lists()["text"] else _INVALID
    if (
        not t.isascii()
        or len(local) > 64
        or len(domain) > 253
        or not _LOCAL.fullmatch(local)
        or not _DOMAIN.fullmatch(domain)
    ):
        return _INVALID
    domain, typo = correct_domain(domain)
    flags = known_domains().get(domain, frozenset())
    if "plus" in flags:
        local = local.split("+", 1)[0]
    if "dots" in flags:
        local = local.replace(".", "")
    if not local or not _LOCAL.fullmatch(local):
        return _INVALID
    if _is_placeholder(local, domain):
        return _PLACEHOLDER
    return EmailResult(f"{local}@{domain}", True, corrected or typo, None)

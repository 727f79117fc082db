"""No personal data in logs, unless asked for.

omnimdm's log messages carry counts and ids (``SOURCE:SOURCE_RECORD_ID``, run and golden
ids) only. The few debug messages that would help with a value (a rejected row's raw text)
pass it through :func:`pii`, which returns ``<redacted>`` unless personal data in logs was
switched on, with ``omnimdm --log-pii`` or :func:`allow_pii`, for a debugging session.
Error texts from other libraries (DuckDB, Splink) may quote a value; :func:`scrub` blanks
quoted literals in them the same way. The store and its snapshot hold personal data by
design: this is about what reaches log files, terminals and schedulers' mail.
"""

from __future__ import annotations

import re

REDACTED = "<redacted>"
_allowed = False
#: a quoted literal: '...' or "..." (no newline inside)
_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")


def allow_pii(allowed: bool = True) -> None:
    """Let (or stop letting) personal data into log messages; off by default."""
    global _allowed
    _allowed = allowed


def pii_allowed() -> bool:
    return _allowed


def pii(value: object) -> object:
    """``value`` if personal data may be logged, else ``<redacted>`` (for ``%s`` args)."""
    return value if _allowed else REDACTED


def scrub(text: str) -> str:
    """``text`` with quoted literals redacted unless personal data may be logged."""
    if _allowed:
        return text
    return _QUOTED.sub(lambda m: m.group(0)[0] + REDACTED + m.group(0)[0], text)

"""Cannot-link rules: when may two records never share a cluster?

Automatic rules (the model's edges may not override them):

* two **confidently different birth dates**: both full dates, not a typing slip (day/month
  swap, one digit, two adjacent digits transposed) and either three or more digits apart
  or ten or more years apart;
* two **different valid national ids of the same kind** (DNI, NIE, CURP, ...).

Steward decisions (``review_decisions``) plug into the same mechanism with higher
priority: a steward's ``same`` is a must-link (merged first, whatever the rules say) and a
steward's ``different`` is a cannot-link that no model edge may cross. Contradictory
decisions are refused when they are made, so the active set given here is consistent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field


def dates_conflict(a: dt.date, b: dt.date) -> bool:
    """True when two full birth dates cannot belong to one person.

    Typing slips are not conflicts: a day/month swap, one wrong digit, or two adjacent
    digits transposed in ``YYYYMMDD``. Beyond that, dates conflict when three or more
    digits differ or the years are ten or more apart (a parent and a child); two wrong
    digits within a decade are treated as noise, not as another person.
    """
    if a == b:
        return False
    if a.year == b.year and a.month == b.day and a.day == b.month:
        return False
    da, db = a.strftime("%Y%m%d"), b.strftime("%Y%m%d")
    diff = [i for i, (x, y) in enumerate(zip(da, db, strict=True)) if x != y]
    if len(diff) == 1:
        return False
    if (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and (da[diff[0]] == db[diff[1]] and da[diff[1]] == db[diff[0]])
    ):
        return False
    return len(diff) >= 3 or abs(a.year - b.year) >= 10


@dataclass
class Identity:
    """What a cluster (or record) asserts about its person: birth dates and valid ids."""

    birth_dates: set[dt.date] = field(default_factory=set)
    ids: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, birth_date: dt.date | None, id_kind: str | None, id_value: str | None) -> Identity:
        ident = cls()
        if birth_date is not None:
            ident.birth_dates.add(birth_date)
        if id_kind and id_value:
            ident.ids[id_kind] = {id_value}
        return ident

    def conflicts_with(self, other: Identity) -> str | None:
        """The rule that forbids merging, or None."""
        for kind, values in self.ids.items():
            theirs = other.ids.get(kind)
            if theirs and not values & theirs:
                return "national_id"
        for a in self.birth_dates:
            for b in other.birth_dates:
                if dates_conflict(a, b):
                    return "birth_date"
        return None

    def absorb(self, other: Identity) -> None:
        self.birth_dates |= other.birth_dates
        for kind, values in other.ids.items():
            self.ids.setdefault(kind, set()).update(values)


@dataclass(frozen=True)
class StewardLinks:
    """Steward decisions as record-id pairs: must-links (``same``) and cannot-links
    (``different``). Pairs are stored smaller id first."""

    must_link: frozenset[tuple[int, int]] = frozenset()
    cannot_link: frozenset[tuple[int, int]] = frozenset()

    @classmethod
    def of(
        cls, same: Iterable[tuple[int, int]], different: Iterable[tuple[int, int]]
    ) -> StewardLinks:
        return cls(
            frozenset((min(a, b), max(a, b)) for a, b in same),
            frozenset((min(a, b), max(a, b)) for a, b in different),
        )

    def records(self) -> set[int]:
        return {r for pair in self.must_link | self.cannot_link for r in pair}

    def __bool__(self) -> bool:
        return bool(self.must_link or self.cannot_link)


def any_conflict(identities: Iterable[Identity]) -> bool:
    """Whether any two of the identities conflict (used to find components to split)."""
    merged = Identity()
    for ident in identities:
        if merged.conflicts_with(ident):
            return True
        merged.absorb(ident)
    return False

"""The stewards' decisions log (``review_decisions``) and its rules.

* A decision says two records are the ``same`` person or ``different`` people. It is keyed
  on the two ``(source, source_record_id)`` keys (smaller key first), with reviewer, time
  (UTC), note, origin and the content hash of each side as the steward saw it.
* Decisions are written directly (never staged), each batch in one short transaction
  under the store's writer lock, and never deleted: revoking sets ``revoked_at``.
* The active decisions are always consistent: a decision that would put two records the
  stewards keep apart into one must-link group (A=B, B=C, then A!=C) is refused, naming the
  decisions in the way, until one of them is revoked.
* Status, derived from the last published records: ``active`` (applied by every run),
  ``changed`` (a side's identity fields changed since the decision: flagged for re-review
  and not applied until confirmed or revoked), ``missing`` (a side is retired or gone:
  not applied), ``revoked``.
"""

from __future__ import annotations

import datetime as dt
import getpass
import logging
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import duckdb

from omnimdm.cluster.constraints import StewardLinks
from omnimdm.errors import ContradictionError, ReviewError
from omnimdm.review.records import RecordKey, current_hashes, ordered

log = logging.getLogger(__name__)

Kind = Literal["same", "different"]
Status = Literal["active", "changed", "missing", "revoked"]
ORIGINS = ("review", "decide", "import", "split", "merge")
_COLUMNS = (
    "decision_id, source_a, source_record_id_a, source_b, source_record_id_b, decision, "
    "origin, reviewer, decided_at, note, hash_a, hash_b, revoked_at, revoked_by, revoke_note"
)


@dataclass(frozen=True)
class Decision:
    """One row of ``review_decisions``."""

    decision_id: int
    a: RecordKey
    b: RecordKey
    decision: Kind
    origin: str
    reviewer: str
    decided_at: dt.datetime
    note: str | None
    hash_a: str
    hash_b: str
    revoked_at: dt.datetime | None = None
    revoked_by: str | None = None
    revoke_note: str | None = None

    def describe(self) -> str:
        sign = "=" if self.decision == "same" else "!="
        if self.decision_id <= 0:  # not yet written: an earlier item of the same batch
            return f"line {-self.decision_id} of this batch ({self.a} {sign} {self.b})"
        when = self.decided_at.strftime("%Y-%m-%d %H:%M")
        return f"#{self.decision_id} ({self.a} {sign} {self.b}, {self.reviewer} {when} UTC)"

    def status(self, hashes: dict[RecordKey, str]) -> Status:
        if self.revoked_at is not None:
            return "revoked"
        if self.a not in hashes or self.b not in hashes:
            return "missing"
        if hashes[self.a] != self.hash_a or hashes[self.b] != self.hash_b:
            return "changed"
        return "active"


@dataclass(frozen=True)
class NewDecision:
    """A decision to record. ``hashes`` pins the content the steward saw (interactive
    review); otherwise the records' current content is taken."""

    a: RecordKey
    b: RecordKey
    decision: Kind
    note: str | None = None
    hashes: tuple[str, str] | None = None
    line: int | None = None  # CSV line, for messages

    def __post_init__(self) -> None:
        if self.a == self.b:
            raise ReviewError(f"a decision needs two different records (got {self.a} twice)")


@dataclass
class Outcome:
    """What recording a batch did: ids written, superseded and already-decided pairs."""

    written: list[int] = field(default_factory=list)
    superseded: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)


def default_reviewer(configured: str | None) -> str:
    if configured:
        return configured
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


def _row(r: tuple[object, ...]) -> Decision:
    return Decision(
        decision_id=int(r[0]),  # type: ignore[call-overload]
        a=RecordKey(str(r[1]), str(r[2])),
        b=RecordKey(str(r[3]), str(r[4])),
        decision=r[5],  # type: ignore[arg-type]
        origin=str(r[6]),
        reviewer=str(r[7]),
        decided_at=r[8],  # type: ignore[arg-type]
        note=r[9],  # type: ignore[arg-type]
        hash_a=str(r[10]),
        hash_b=str(r[11]),
        revoked_at=r[12],  # type: ignore[arg-type]
        revoked_by=r[13],  # type: ignore[arg-type]
        revoke_note=r[14],  # type: ignore[arg-type]
    )


def load_decisions(
    con: duckdb.DuckDBPyConnection, *, include_revoked: bool = False
) -> list[Decision]:
    where = "" if include_revoked else "WHERE revoked_at IS NULL"
    rows = con.sql(f"SELECT {_COLUMNS} FROM review_decisions {where} ORDER BY decision_id")
    return [_row(r) for r in rows.fetchall()]


def with_status(
    con: duckdb.DuckDBPyConnection, decisions: Sequence[Decision], records: str = "src_records"
) -> list[tuple[Decision, Status]]:
    keys = {k for d in decisions for k in (d.a, d.b)}
    hashes = current_hashes(con, keys, records)
    return [(d, d.status(hashes)) for d in decisions]


def steward_links(
    con: duckdb.DuckDBPyConnection, records: str
) -> tuple[StewardLinks, dict[str, int]]:
    """The decisions a run applies (status ``active`` against this run's ``records``) as
    record-id links, and counts by status."""
    counts = {"active": 0, "changed": 0, "missing": 0}
    same: list[tuple[int, int]] = []
    different: list[tuple[int, int]] = []
    for d, status in with_status(con, load_decisions(con), records):
        counts[status] += 1
        if status == "active":
            pair = (d.a.record_id, d.b.record_id)
            (same if d.decision == "same" else different).append(pair)
    if counts["changed"]:
        log.warning(
            "%d steward decision(s) not applied: a record changed since the decision "
            "(flagged for re-review)",
            counts["changed"],
        )
    return StewardLinks.of(same, different), {f"decisions_{k}": v for k, v in counts.items()}


class _Graph:
    """Must-link graph of active ``same`` decisions, with cannot-links beside it."""

    def __init__(self, decisions: Iterable[Decision]) -> None:
        self.same: dict[RecordKey, list[tuple[RecordKey, Decision]]] = {}
        self.different: list[Decision] = []
        self.by_pair: dict[tuple[RecordKey, RecordKey], Decision] = {}
        for d in decisions:
            self.add(d)

    def add(self, d: Decision) -> None:
        self.by_pair[(d.a, d.b)] = d
        if d.decision == "same":
            self.same.setdefault(d.a, []).append((d.b, d))
            self.same.setdefault(d.b, []).append((d.a, d))
        else:
            self.different.append(d)

    def remove(self, d: Decision) -> None:
        self.by_pair.pop((d.a, d.b), None)
        if d.decision == "same":
            self.same[d.a] = [(k, x) for k, x in self.same.get(d.a, []) if x is not d]
            self.same[d.b] = [(k, x) for k, x in self.same.get(d.b, []) if x is not d]
        else:
            self.different = [x for x in self.different if x is not d]

    def group(self, start: RecordKey) -> dict[RecordKey, list[Decision]]:
        """Records must-linked to ``start`` -> the decisions on the path from ``start``."""
        paths: dict[RecordKey, list[Decision]] = {start: []}
        todo = deque([start])
        while todo:
            node = todo.popleft()
            for other, d in self.same.get(node, []):
                if other not in paths:
                    paths[other] = [*paths[node], d]
                    todo.append(other)
        return paths

    def contradiction(self, a: RecordKey, b: RecordKey, kind: Kind) -> list[Decision]:
        """The decisions a new ``a kind b`` would contradict (empty when none)."""
        group_a = self.group(a)
        if kind == "different":
            return group_a.get(b, [])
        if b in group_a:
            return []
        group_b = self.group(b)
        for d in self.different:
            for x, y in ((d.a, d.b), (d.b, d.a)):
                if x in group_a and y in group_b:
                    return [d, *group_a[x], *group_b[y]]
        return []


def _contradiction_text(new: NewDecision, blocking: list[Decision]) -> str:
    sign = "=" if new.decision == "same" else "!="
    first, rest = blocking[0], blocking[1:]
    text = f"{new.a} {sign} {new.b} contradicts decision {first.describe()}"
    if rest:
        text += " given " + ", ".join(d.describe() for d in rest)
    return text + "; revoke one of them first (omnimdm review revoke A B)"


@dataclass
class Plan:
    """Checked decisions ready to write, or the problems that stop them."""

    rows: list[tuple[NewDecision, RecordKey, RecordKey, tuple[str, str]]]
    problems: list[tuple[str, list[int]]]
    outcome: Outcome


def record_decisions(
    con: duckdb.DuckDBPyConnection,
    items: Sequence[NewDecision],
    *,
    reviewer: str,
    origin: str,
    replace: Iterable[int] = (),
) -> Outcome:
    """Check and write ``items`` in one transaction: all or nothing (see :func:`check`)."""
    plan = check(con, items, reviewer=reviewer, origin=origin, replace=replace)
    if plan.problems:
        if len(plan.problems) == 1 and plan.problems[0][1]:
            raise ContradictionError(plan.problems[0][0], plan.problems[0][1])
        raise ReviewError("\n".join(text for text, _ in plan.problems))
    return write(con, plan, reviewer=reviewer, origin=origin)


def check(
    con: duckdb.DuckDBPyConnection,
    items: Sequence[NewDecision],
    *,
    reviewer: str,
    origin: str,
    replace: Iterable[int] = (),
) -> Plan:
    """Check ``items`` against the active decisions and each other.

    Unknown records, contradictions with the active decisions (or with earlier items) and
    an opposite decision on the same pair are refused with every problem listed. The same
    decision on an already-decided pair is a no-op, unless that decision was flagged
    (changed records): then it is confirmed by a new decision that supersedes it.
    ``replace`` names decisions the new ones supersede whatever they say (re-review of a
    flagged decision).
    """
    if origin not in ORIGINS:
        raise ValueError(f"unknown origin {origin!r}")
    replace = set(replace)
    active = load_decisions(con)
    graph = _Graph(d for d in active if d.decision_id not in replace)
    keys = {k for item in items for k in (item.a, item.b)}
    hashes = current_hashes(con, keys | {k for d in active for k in (d.a, d.b)})
    problems: list[tuple[str, list[int]]] = []
    plan: list[tuple[NewDecision, RecordKey, RecordKey, tuple[str, str]]] = []
    outcome = Outcome(superseded=sorted(replace))
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for n, item in enumerate(items):
        where = f"line {item.line}: " if item.line is not None else ""
        unknown = [str(k) for k in (item.a, item.b) if k not in hashes]
        if unknown:
            problems.append(
                (
                    f"{where}unknown record {', '.join(unknown)} (not among the active "
                    "records of the last published run; ids are case-sensitive)",
                    [],
                )
            )
            continue
        a, b = ordered(item.a, item.b)
        seen = item.hashes
        if seen is not None and (a, b) != (item.a, item.b):
            seen = (seen[1], seen[0])
        pinned = seen or (hashes[a], hashes[b])
        existing = graph.by_pair.get((a, b))
        if existing is not None and existing.decision == item.decision:
            current = existing.status(hashes) == "active"
            if current and seen in (None, (existing.hash_a, existing.hash_b)):
                outcome.unchanged.append(existing.decision_id)
                continue
            graph.remove(existing)
            outcome.superseded.append(existing.decision_id)
        blocking = graph.contradiction(a, b, item.decision)
        if blocking:
            problems.append(
                (
                    where + _contradiction_text(item, blocking),
                    [d.decision_id for d in blocking if d.decision_id > 0],
                )
            )
            continue
        # a placeholder id (minus its line or position) lets later items name this one
        placeholder = -(item.line if item.line is not None else n + 1)
        graph.add(
            Decision(placeholder, a, b, item.decision, origin, reviewer, now, item.note, *pinned)
        )
        plan.append((item, a, b, pinned))
    return Plan(plan, problems, outcome)


def write(con: duckdb.DuckDBPyConnection, plan: Plan, *, reviewer: str, origin: str) -> Outcome:
    """Write a checked plan in one transaction."""
    outcome = plan.outcome
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con.execute("BEGIN TRANSACTION")
    try:
        if outcome.superseded:
            con.execute(
                "UPDATE review_decisions SET revoked_at = ?, revoked_by = ?, revoke_note = ? "
                "WHERE decision_id IN (SELECT unnest(?::INTEGER[])) AND revoked_at IS NULL",
                [
                    now,
                    reviewer,
                    "superseded by a newer decision on the same pair",
                    outcome.superseded,
                ],
            )
        first = int(
            con.sql("SELECT coalesce(max(decision_id), 0) + 1 FROM review_decisions").fetchall()[0][
                0
            ]
        )
        for offset, (item, a, b, pinned) in enumerate(plan.rows):
            con.execute(
                f"INSERT INTO review_decisions ({_COLUMNS}) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL)",
                [
                    first + offset,
                    a.source,
                    a.source_record_id,
                    b.source,
                    b.source_record_id,
                    item.decision,
                    origin,
                    reviewer,
                    now,
                    item.note,
                    pinned[0],
                    pinned[1],
                ],
            )
            outcome.written.append(first + offset)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    for decision_id, (item, a, b, _) in zip(outcome.written, plan.rows, strict=True):
        log.info("decision #%d: %s %s %s (%s)", decision_id, a, item.decision, b, origin)
    return outcome


def revoke(
    con: duckdb.DuckDBPyConnection,
    a: RecordKey,
    b: RecordKey,
    *,
    reviewer: str,
    note: str | None = None,
    decision_id: int | None = None,
) -> Decision:
    """Revoke the active decision on the pair (or the one with ``decision_id``)."""
    a, b = ordered(a, b)
    active = [d for d in load_decisions(con) if (d.a, d.b) == (a, b)]
    if decision_id is not None:
        active = [d for d in active if d.decision_id == decision_id]
    if not active:
        raise ReviewError(f"no active decision on {a} and {b} to revoke")
    d = active[0]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "UPDATE review_decisions SET revoked_at = ?, revoked_by = ?, revoke_note = ? "
            "WHERE decision_id = ?",
            [now, reviewer, note, d.decision_id],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    log.info("decision #%d revoked", d.decision_id)
    return d

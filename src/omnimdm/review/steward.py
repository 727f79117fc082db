"""Steward commands on the store: list, decide, revoke, export, import, split, merge.

Each call opens the store under the writer lock for one short session and closes it, so a
steward never holds the store between commands (or between keys of an interactive
review). Decisions take effect at the next ``omnimdm run``.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from omnimdm.errors import DecisionImportError, ReviewError
from omnimdm.review.decisions import (
    Decision,
    Kind,
    NewDecision,
    Outcome,
    Status,
    check,
    load_decisions,
    record_decisions,
    revoke,
    with_status,
    write,
)
from omnimdm.review.records import RecordKey, published
from omnimdm.store import Store, record_id_sql

log = logging.getLogger(__name__)

#: record fields shown side by side (review screen, CSV export): canonical columns
DISPLAY_FIELDS = {
    "given_name": "given_name",
    "surname1": "surname1",
    "surname2": "surname2",
    "email": "email_norm",
    "phones": "array_to_string(phones, ' ')",
    "birth_date": "coalesce(birth_date::VARCHAR, "
    "CASE WHEN birth_month IS NOT NULL THEN '--' || lpad(birth_month::VARCHAR, 2, '0') "
    "|| '-' || lpad(birth_day::VARCHAR, 2, '0') END)",
    "street": "street",
    "postcode": "postcode",
    "city": "city",
    "national_id": "national_id",
    "loyalty_id": "loyalty_id",
    "updated": "strftime(source_updated_at, '%Y-%m-%d')",
}
#: undecided queue items: the queue as published less pairs decided since (at most one
#: active decision per pair); a recheck stays while the flagged decision is still active
UNDECIDED_SQL = f"""
    WITH dec AS (
        SELECT decision_id, least(ra, rb) AS lo, greatest(ra, rb) AS hi FROM (
            SELECT decision_id, {record_id_sql("source_a", "source_record_id_a")} AS ra,
                   {record_id_sql("source_b", "source_record_id_b")} AS rb
            FROM review_decisions WHERE revoked_at IS NULL))
    SELECT q.* FROM review_queue q
    LEFT JOIN dec d ON d.lo = least(q.record_id_l, q.record_id_r)
        AND d.hi = greatest(q.record_id_l, q.record_id_r)
    WHERE (q.kind = 'recheck' AND d.decision_id = q.decision_id)
       OR (q.kind <> 'recheck' AND d.decision_id IS NULL)
"""


@dataclass(frozen=True)
class QueueItem:
    """One undecided pair of the review queue."""

    position: int
    kind: str
    a: RecordKey
    b: RecordKey
    golden_a: str
    golden_b: str
    match_probability: float | None
    match_weight: float | None
    impact: float
    records_affected: int
    decision_id: int | None


def _item(row: dict[str, Any]) -> QueueItem:
    return QueueItem(
        position=int(row["position"]),
        kind=str(row["kind"]),
        a=RecordKey(row["source_l"], row["source_record_id_l"]),
        b=RecordKey(row["source_r"], row["source_record_id_r"]),
        golden_a=str(row["golden_id_l"]),
        golden_b=str(row["golden_id_r"]),
        match_probability=row["match_probability"],
        match_weight=row["match_weight"],
        impact=float(row["impact"]),
        records_affected=int(row["records_affected"]),
        decision_id=row["decision_id"],
    )


def _dicts(rel: duckdb.DuckDBPyRelation) -> Iterator[dict[str, Any]]:
    cols = rel.columns
    for row in rel.fetchall():
        yield dict(zip(cols, row, strict=True))


def undecided(
    con: duckdb.DuckDBPyConnection,
    *,
    after: int = 0,
    limit: int | None = None,
    kind: str | None = None,
) -> list[QueueItem]:
    """Undecided queue items after ``position``, in queue order."""
    sql = f"SELECT * FROM ({UNDECIDED_SQL}) WHERE position > $after"
    params: dict[str, Any] = {"after": after}
    if kind:
        sql += " AND kind = $kind"
        params["kind"] = kind
    sql += " ORDER BY position"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [_item(r) for r in _dicts(con.sql(sql, params=params))]


def count_undecided(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.sql(f"SELECT count(*) FROM ({UNDECIDED_SQL})").fetchall()[0][0])


def list_queue(
    store: Store, *, limit: int | None = None, kind: str | None = None
) -> tuple[list[QueueItem], int]:
    """(first ``limit`` undecided items, number undecided)."""
    with published(store, "review list") as con:
        return undecided(con, limit=limit, kind=kind), count_undecided(con)


def list_decisions(store: Store, *, include_revoked: bool = False) -> list[tuple[Decision, Status]]:
    with published(store, "review list") as con:
        return with_status(con, load_decisions(con, include_revoked=include_revoked))


def decide(
    store: Store,
    a: RecordKey,
    b: RecordKey,
    kind: Kind,
    *,
    reviewer: str,
    note: str | None = None,
    origin: str = "decide",
    hashes: tuple[str, str] | None = None,
    replace: Sequence[int] = (),
) -> Outcome:
    """Record one decision in its own short transaction under the writer lock."""
    with published(store, f"review {origin}") as con:
        return record_decisions(
            con,
            [NewDecision(a, b, kind, note, hashes)],
            reviewer=reviewer,
            origin=origin,
            replace=replace,
        )


def revoke_pair(
    store: Store,
    a: RecordKey,
    b: RecordKey,
    *,
    reviewer: str,
    note: str | None = None,
    decision_id: int | None = None,
) -> Decision:
    with published(store, "review revoke") as con:
        return revoke(con, a, b, reviewer=reviewer, note=note, decision_id=decision_id)


# -- spreadsheet round trip --------------------------------------------------------------
EXPORT_COLUMNS = (
    "position",
    "kind",
    "record_a",
    "record_b",
    "decision",
    "note",
    "match_probability",
    "impact",
    "golden_id_a",
    "golden_id_b",
)


def display_fields(
    con: duckdb.DuckDBPyConnection, keys: set[RecordKey]
) -> dict[RecordKey, dict[str, Any]]:
    """Display fields of records from the published canonical table."""
    if not keys:
        return {}
    import pyarrow as pa

    ordered_keys = sorted(keys)
    con.register(
        "rv_show",
        pa.table(
            {
                "source": [k.source for k in ordered_keys],
                "source_record_id": [k.source_record_id for k in ordered_keys],
            }
        ),
    )
    try:
        fields = ", ".join(f"{expr} AS {name}" for name, expr in DISPLAY_FIELDS.items())
        rel = con.sql(
            f"SELECT n.source, n.source_record_id, {fields} FROM norm_customers n "
            "SEMI JOIN rv_show k ON k.source = n.source AND k.source_record_id = n.source_record_id"
        )
        return {RecordKey(r["source"], r["source_record_id"]): r for r in _dicts(rel)}
    finally:
        con.unregister("rv_show")


def export_queue(store: Store, out: Path) -> int:
    """Write the undecided queue as CSV with the records side by side and empty
    ``decision`` / ``note`` columns for a steward to fill (same, different or blank)."""
    with published(store, "review export") as con:
        items = undecided(con)
        shown = display_fields(con, {k for i in items for k in (i.a, i.b)})
    header = list(EXPORT_COLUMNS)
    for name in DISPLAY_FIELDS:
        header += [f"{name}_a", f"{name}_b"]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for i in items:
            row: list[Any] = [
                i.position,
                i.kind,
                str(i.a),
                str(i.b),
                "",
                "",
                "" if i.match_probability is None else f"{i.match_probability:.4f}",
                f"{i.impact:.4f}",
                i.golden_a,
                i.golden_b,
            ]
            left, right = shown.get(i.a, {}), shown.get(i.b, {})
            for name in DISPLAY_FIELDS:
                row += [left.get(name) or "", right.get(name) or ""]
            writer.writerow(row)
    tmp.replace(out)
    return len(items)


DECISION_WORDS: dict[str, Kind] = {"same": "same", "different": "different"}


def parse_decisions_csv(path: Path) -> tuple[list[NewDecision], list[str]]:
    """Rows of a decisions CSV (``record_a, record_b, decision[, note]``) and the problems
    found, each with its line number. Blank decisions are skipped."""
    problems: list[str] = []
    items: list[NewDecision] = []
    try:
        fh = path.open(encoding="utf-8-sig", newline="")
    except OSError as err:
        raise ReviewError(f"cannot read {path}: {err}") from None
    with fh:
        reader = csv.DictReader(fh)
        missing = {"record_a", "record_b", "decision"} - set(reader.fieldnames or ())
        if missing:
            raise DecisionImportError(
                str(path),
                [
                    f"line 1: missing column(s) {', '.join(sorted(missing))} "
                    "(expected record_a, record_b, decision and optionally note)"
                ],
            )
        seen: dict[tuple[RecordKey, RecordKey], tuple[int, str]] = {}
        try:
            for row in reader:
                line = reader.line_num
                value = (row.get("decision") or "").strip().lower()
                if not value:
                    continue
                if value not in DECISION_WORDS:
                    problems.append(
                        f"line {line}: decision {value!r} is not 'same' or 'different' "
                        "(leave it blank to skip the pair)"
                    )
                    continue
                try:
                    a = RecordKey.parse(row.get("record_a") or "")
                    b = RecordKey.parse(row.get("record_b") or "")
                    item = NewDecision(
                        a,
                        b,
                        DECISION_WORDS[value],
                        (row.get("note") or "").strip() or None,
                        line=line,
                    )
                except ReviewError as err:
                    problems.append(f"line {line}: {err}")
                    continue
                pair = (min(a, b), max(a, b))
                if pair in seen:
                    first_line, first_value = seen[pair]
                    if first_value != value:
                        problems.append(
                            f"line {line}: {a} and {b} are {value!r} here but "
                            f"{first_value!r} on line {first_line}"
                        )
                    continue
                seen[pair] = (line, value)
                items.append(item)
        except (csv.Error, UnicodeDecodeError) as err:
            problems.append(f"line {reader.line_num}: not readable as CSV: {err}")
    return items, problems


def import_decisions(store: Store, path: Path, *, reviewer: str) -> Outcome:
    """Validate every line, then apply all decisions in one transaction or none."""
    items, problems = parse_decisions_csv(path)
    with published(store, "review import") as con:
        plan = check(con, items, reviewer=reviewer, origin="import")
        problems += [text for text, _ in plan.problems]
        if problems:
            raise DecisionImportError(str(path), sorted(problems, key=_line_of))
        return write(con, plan, reviewer=reviewer, origin="import")


def _line_of(problem: str) -> int:
    head = problem.split(":", 1)[0]
    return int(head.removeprefix("line ")) if head.startswith("line ") else 0


# -- whole-entity corrections ------------------------------------------------------------
def members(con: duckdb.DuckDBPyConnection, golden_id: str) -> list[RecordKey]:
    rows = con.sql(
        "SELECT source, source_record_id FROM clusters WHERE golden_id = $g "
        "ORDER BY source, source_record_id",
        params={"g": golden_id},
    ).fetchall()
    if not rows:
        raise ReviewError(
            f"unknown golden id {golden_id!r}: not in the last published run "
            "(omnimdm export --what crosswalk lists them)"
        )
    return [RecordKey(s, i) for s, i in rows]


def split(
    store: Store,
    golden_id: str,
    records: Sequence[RecordKey],
    *,
    reviewer: str,
    note: str | None = None,
) -> Outcome:
    """Keep ``records`` together and apart from the rest of the entity: must-links inside
    the named group, cannot-links between each named record and each other member."""
    with published(store, "split") as con:
        entity = members(con, golden_id)
        named = sorted(set(records))
        strangers = [str(k) for k in named if k not in entity]
        if strangers:
            raise ReviewError(f"{', '.join(strangers)} not in {golden_id}")
        rest = [k for k in entity if k not in named]
        if not named or not rest:
            raise ReviewError(
                f"name some but not all of the {len(entity)} records of {golden_id} to split off"
            )
        items = [NewDecision(named[0], k, "same", note) for k in named[1:]]
        items += [NewDecision(x, y, "different", note) for x in named for y in rest]
        return record_decisions(con, items, reviewer=reviewer, origin="split")


def merge(
    store: Store, golden_a: str, golden_b: str, *, reviewer: str, note: str | None = None
) -> tuple[Outcome, RecordKey, RecordKey]:
    """A must-link between the representative (smallest key) records of two entities."""
    if golden_a == golden_b:
        raise ReviewError("merge needs two different golden ids")
    with published(store, "merge") as con:
        rep_a, rep_b = members(con, golden_a)[0], members(con, golden_b)[0]
        outcome = record_decisions(
            con, [NewDecision(rep_a, rep_b, "same", note)], reviewer=reviewer, origin="merge"
        )
    return outcome, rep_a, rep_b

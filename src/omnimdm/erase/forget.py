"""Erasure (GDPR art. 17): remove every trace of a person, rebuild, rewrite the file.

Under the writer lock, as one run (command ``forget``):

1. plan (:mod:`omnimdm.erase.plan`): the records, rejected rows, golden-id events and
   steward decisions the request reaches;
2. rebuild from the stored records minus the removed ones, without reading any input
   file: normalize, match (saved model; term frequencies are recomputed from the
   remaining records, so the person's contribution to them is gone), cluster (the
   remaining members keep their golden ids), survive, review queue; every affected golden
   id gets an ``ERASED`` event;
3. publish in one transaction with the deletions from the logs (events, decisions), the
   tombstones (HMACs only) and the audit row (no personal data); the snapshot is written
   afresh; earlier runs' staging tables are dropped;
4. rewrite the store into a fresh file (DuckDB keeps deleted rows' bytes in the file) and
   swap it in by atomic rename.

An interruption before step 3 changes nothing. Between 3 and 4 the erasure is published
but the old bytes are still in the file; ``erasure_audit.finished_at`` is set only in the
rewritten file, so the next writer to open the store (any command) sees the open audit
row and rewrites the file before doing anything else (:meth:`Store.connection`).
"""

from __future__ import annotations

import dataclasses
import getpass
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from omnimdm import faults
from omnimdm.config import Config
from omnimdm.erase.keys import ErasureKey, create_key, key_path
from omnimdm.erase.plan import DECISION_TOUCHES, ForgetPlan, ForgetRequest, plan_forget
from omnimdm.erase.tombstones import active_key, add_tombstones
from omnimdm.errors import ErasureError, OmnimdmError, StageError, StoreError
from omnimdm.pipeline import (
    APPENDED_TABLES,
    PUBLISHED_TABLES,
    PUBLISHED_VIEWS,
    STAGES,
    RunContext,
    save_model_sql,
    timed_stage,
)
from omnimdm.store import SNAPSHOT_STATE, Store

log = logging.getLogger(__name__)

#: tables omnimdm writes itself; any other table in the store is reported, not searched
MANAGED_TABLES = frozenset(
    {
        *PUBLISHED_TABLES,
        *APPENDED_TABLES,
        "runs",
        "models",
        "schema_version",
        "review_decisions",
        "erasure_tombstones",
        "erasure_audit",
        SNAPSHOT_STATE,
    }
)


@dataclass(frozen=True)
class ForgetResult:
    """What a request removed (or, for a dry run, would remove). Ids and counts only."""

    dry_run: bool
    records: tuple[str, ...]  # SOURCE:SOURCE_RECORD_ID
    records_by_source: dict[str, int]
    golden_ids: dict[str, tuple[int, int]]  # id -> (members removed, members before)
    rejects_removed: int
    events_removed: int
    decisions_removed: int
    shared: tuple[str, ...]
    unmanaged_tables: tuple[str, ...]
    audit_id: int | None = None
    run_id: int | None = None
    tombstones_added: int = 0
    timings: dict[str, float] | None = None

    @property
    def golden_ids_erased(self) -> list[str]:
        """Golden ids with no member left (retired by the erasure)."""
        return [g for g, (removed, before) in self.golden_ids.items() if removed == before]


def _check(request: ForgetRequest, dry_run: bool, confirmed: bool) -> None:
    if request.is_empty():
        raise ErasureError(
            "name what to forget: --source S --id X, --email E, --phone P or --golden-id G"
        )
    if request.golden_ids and not (dry_run or confirmed):
        raise ErasureError(
            "forgetting a golden id removes every member record; list them first with "
            "--dry-run, then confirm with --yes"
        )
    ref = (request.reference or "").casefold()
    # short values (a record id "17") would refuse harmless ticket numbers
    values = [v.strip().casefold() for v in request.raw_values() if len(v.strip()) >= 6]
    if len(ref) > 200 or any(v in ref for v in values):
        raise ErasureError(
            "the reference must be a short ticket id (at most 200 characters) and must not "
            "contain the identifiers being forgotten"
        )


def forget(
    config: Config, request: ForgetRequest, *, dry_run: bool = False, confirmed: bool = False
) -> ForgetResult:
    """Carry out (or with ``dry_run`` only describe) an erasure request.

    ``confirmed`` is needed for a golden id and for a value that is a shared value (the
    shop's own phone: forgetting it removes every record carrying it)."""
    _check(request, dry_run, confirmed)
    faults.check()
    store = Store(config.store.path)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with store.locked("forget --dry-run" if dry_run else "forget"):
        with store.connection() as con:
            key = active_key(con, config, create=False)
            plan = plan_forget(con, config, request)
            timings["plan"] = round(time.perf_counter() - started, 3)
            if dry_run:
                return _result(con, plan, dry_run=True)
            if plan.shared and not confirmed:
                raise ErasureError(
                    f"the {' and '.join(plan.shared)} given is a shared value (carried by "
                    "many records with different names); forgetting it removes every one of "
                    "them. Check with --dry-run, then confirm with --yes"
                )
            if key is None:
                key = create_key(key_path(config))
                log.info("created the erasure key file %s", key.path)
            t = time.perf_counter()
            audit_id, run_id, added = _apply(con, store, config, request, plan, key)
            timings["rebuild_and_publish"] = round(time.perf_counter() - t, 3)
            result = _result(con, plan, dry_run=False)
        faults.point("forget:after_publish")
        t = time.perf_counter()
        _rewrite(store, audit_id)
        timings["rewrite"] = round(time.perf_counter() - t, 3)
    timings["total"] = round(time.perf_counter() - started, 3)
    log.info(
        "erasure %d: %d records removed, %d golden ids affected (run %d)",
        audit_id,
        len(plan.records),
        len(plan.golden_ids),
        run_id,
    )
    return dataclasses.replace(
        result, audit_id=audit_id, run_id=run_id, tombstones_added=added, timings=timings
    )


def _rewrite(store: Store, audit_id: int) -> None:
    """Rewrite the store into a fresh file (which marks the audit row finished)."""
    try:
        store.rewrite_file()
    except (OSError, duckdb.Error) as err:
        raise StoreError(
            f"erasure {audit_id} is published, but rewriting the store into a fresh file "
            f"failed ({err}), so the deleted rows' bytes are still in {store.path}. Fix the "
            "cause (disk space?) and run any omnimdm command that opens the store (the "
            "same forget, say): it rewrites the file first"
        ) from None


def _result(con: duckdb.DuckDBPyConnection, plan: ForgetPlan, *, dry_run: bool) -> ForgetResult:
    unmanaged = tuple(
        t for t in Store.tables(con) if t not in MANAGED_TABLES and not t.startswith("stg_r")
    )
    return ForgetResult(
        dry_run=dry_run,
        records=tuple(f"{s}:{i}" for s, i in plan.records),
        records_by_source=plan.records_by_source(),
        golden_ids=dict(plan.golden_ids),
        rejects_removed=len(plan.rejects),
        events_removed=plan.events,
        decisions_removed=plan.decisions,
        shared=tuple(plan.shared),
        unmanaged_tables=unmanaged,
    )


def _apply(
    con: duckdb.DuckDBPyConnection,
    store: Store,
    config: Config,
    request: ForgetRequest,
    plan: ForgetPlan,
    key: ErasureKey,
) -> tuple[int, int, int]:
    """Rebuild and publish (or, with nothing to rebuild, record); return the audit id, the
    run id and the number of new tombstones."""
    audit_id = int(
        con.sql("SELECT coalesce(max(audit_id), 0) + 1 FROM erasure_audit").fetchall()[0][0]
    )
    requested_at = con.sql("SELECT now()::TIMESTAMP").fetchall()[0][0]
    run_id = store.begin_run(con, "forget", config.config_hash())
    ctx = RunContext(con=con, config=config, store=store, run_id=run_id)
    added: list[int] = []

    def record() -> None:
        added.append(_record(con, key, plan, request, audit_id, run_id, requested_at))

    stage = "erase"
    try:
        if plan.published and plan.changes_data:
            ctx.counts["erase"] = {
                "audit_id": audit_id,
                "records_removed": len(plan.records),
                "rejects_removed": len(plan.rejects),
                "golden_ids_affected": len(plan.golden_ids),
            }
            started = time.perf_counter()
            timed_stage(ctx, "erase", lambda c: _stage_erase(c, plan), None)
            for stage, fn in STAGES[1:]:
                timed_stage(ctx, stage, fn, None)
            stage = "publish"
            _publish(ctx, sorted(plan.golden_ids), record)
            ctx.timings["total"] = round(time.perf_counter() - started, 3)
            con.execute(
                "UPDATE runs SET timings = ? WHERE run_id = ?", [json.dumps(ctx.timings), run_id]
            )
        else:
            con.execute("BEGIN TRANSACTION")
            record()
            con.execute("COMMIT")
            note = f"erasure {audit_id}: no stored record matched; tombstones recorded"
            store.end_unpublished(con, run_id, note, status="erasure")
    except BaseException as err:
        store.fail_run(con, run_id, f"{stage}: {err}")
        if isinstance(err, OmnimdmError | KeyboardInterrupt):
            raise
        raise StageError(stage, run_id, err) from err
    return audit_id, run_id, added[0]


def _publish(ctx: RunContext, golden_ids: list[str], record: Callable[[], None]) -> None:
    """``ERASED`` events, then the usual publish with ``record`` in its transaction."""
    t = time.perf_counter()
    if golden_ids:
        ctx.con.execute(
            f"INSERT INTO {ctx.stg('golden_events')} BY NAME SELECT $run::INTEGER AS run_id, "
            "'ERASED' AS event, unnest($ids)::VARCHAR AS golden_id, "
            "current_localtimestamp()::TIMESTAMP AS created_at",
            {"run": ctx.run_id, "ids": golden_ids},
        )

    def before_commit() -> None:
        save_model_sql(ctx)  # a model retrained because the definition changed
        record()

    ctx.store.publish(
        ctx.con,
        ctx.run_id,
        PUBLISHED_TABLES,
        counts=ctx.counts,
        timings=ctx.timings,
        append=APPENDED_TABLES,
        views=PUBLISHED_VIEWS,
        before_commit=before_commit,
    )
    ctx.timings["publish"] = round(time.perf_counter() - t, 3)


def _record(
    con: duckdb.DuckDBPyConnection,
    key: ErasureKey,
    plan: ForgetPlan,
    request: ForgetRequest,
    audit_id: int,
    run_id: int,
    requested_at: object,
) -> int:
    """Inside the publishing transaction: drop the log rows naming removed records, add
    the tombstones and the audit row. Returns the number of new tombstones."""
    if plan.events:
        con.execute(
            "DELETE FROM golden_events e WHERE EXISTS (SELECT 1 FROM er_removed r "
            "WHERE r.source = e.source AND r.source_record_id = e.source_record_id)"
        )
    con.execute(f"DELETE FROM review_decisions d WHERE {DECISION_TOUCHES}")
    added = add_tombstones(con, key, plan.identifiers, audit_id)
    con.execute(
        "INSERT INTO erasure_audit VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            audit_id,
            requested_at,
            run_id,
            request.operator or _os_user(),
            request.reference,
            json.dumps(request.selectors()),
            len(plan.records),
            json.dumps(plan.records_by_source()),
            sorted(plan.golden_ids),
            len(plan.rejects),
            plan.events,
            plan.decisions,
            added,
        ],
    )
    return added


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


def _stage_erase(ctx: RunContext, plan: ForgetPlan) -> None:
    """The run's ``src_records`` and ``rejects``: the published ones minus the removed."""
    con = ctx.con
    records, rejects = ctx.stg("src_records"), ctx.stg("rejects")
    con.execute(
        f"CREATE TABLE {records} AS SELECT * FROM src_records ANTI JOIN er_removed "
        "USING (record_id)"
    )
    con.execute(
        f"CREATE TABLE {rejects} AS SELECT * EXCLUDE (n) FROM er_rejects "
        "WHERE NOT list_contains($gone, n) ORDER BY n",
        {"gone": plan.rejects},
    )
    removed = plan.records_by_source()
    per_source = {}
    for source in ctx.config.sources:
        active = con.sql(
            f"SELECT count(*) FROM {records} WHERE source = $s AND retired_run IS NULL",
            params={"s": source.name},
        ).fetchall()[0][0]
        reasons = con.sql(
            f"SELECT reason, count(*) FROM {rejects} WHERE source = $s GROUP BY 1 ORDER BY 1",
            params={"s": source.name},
        ).fetchall()
        per_source[source.name] = {
            **dict.fromkeys(("read", "accepted", "rejected", "suppressed"), 0),
            **dict.fromkeys(("new", "updated", "unchanged", "retired"), 0),
            "active": int(active),
            "erased": removed.get(source.name, 0),
            # what the rejects table holds now (the profile reads it from the last run)
            "rejected_by_reason": {str(r): int(n) for r, n in reasons},
        }
    ctx.counts["sources"] = per_source

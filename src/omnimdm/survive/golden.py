"""Survivorship: one golden record per cluster, field by field, with lineage.

Set-based in DuckDB (no per-record Python). The stage, in order: candidate rows
(:mod:`omnimdm.survive.candidates`), the winner of every field
(:mod:`omnimdm.survive.picks`, with the rule chains of :mod:`omnimdm.survive.rules`), the
other values of collected lists and the lineage view (:mod:`omnimdm.survive.lineage`),
consent per contact point (:mod:`omnimdm.survive.consent`), then the golden table with
its customer-360 aggregates (:mod:`omnimdm.survive.customer360`) and the per-field
winners that lineage reads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import duckdb

from omnimdm.config import Config
from omnimdm.survive import customer360
from omnimdm.survive.candidates import build_candidates, drop_candidates
from omnimdm.survive.consent import decide_consent
from omnimdm.survive.lineage import build_collected
from omnimdm.survive.picks import NAME_FIELDS, RECORD_FIELDS, Plan, phone_picks, record_picks
from omnimdm.survive.rules import FIELD_SPECS, RECORD_MASK, deciding_rule_sql

log = logging.getLogger(__name__)

#: golden columns, in order (values of member records, then documented aggregates)
GOLDEN_COLUMNS = (
    "golden_id",
    "given_name",
    "surname1",
    "surname2",
    "full_name",
    "email",
    "emails",
    "email_consent",
    "phone",
    "phones",
    "sms_consent",
    "birth_date",
    "street",
    "street_number",
    "postcode",
    "city",
    "region",
    "country",
    "national_id",
    "national_id_kind",
    "loyalty_id",
    "company",
    "channels",
    "sources",
    "source_records",
    "first_seen",
    "last_seen",
    "orders",
    "spend",
    "spend_total",
    "spend_total_currency",
)


_CONSENT_JOINS = """
    LEFT JOIN {consent} ce ON ce.golden_id = p.golden_id AND ce.channel = 'email'
         AND ce.contact_point = p.email
    LEFT JOIN {consent} cs ON cs.golden_id = p.golden_id AND cs.channel = 'sms'
         AND cs.contact_point = ph.phone
"""


def _winner_sql(plan: Plan, name: str) -> tuple[str, str, str | None]:
    """SQL for field ``name``'s winning record id, deciding rule and (names) value: a name
    part takes its best display form (rule suffixed ``+display_form``)."""
    rule = deciding_rule_sql(
        plan.chains[name],
        FIELD_SPECS[name],
        winner=f"{name}__w",
        runner_up=f"{name}__r",
        candidates=f"{name}__n",
    )
    win = f"{name}__rid"
    if name not in NAME_FIELDS:
        return win, rule, None
    disp = f"({name}__dk & {RECORD_MASK})::BIGINT"
    moved = f"({name}__dk IS NOT NULL AND {disp} <> {win})"
    return (
        f"CASE WHEN {moved} THEN {disp} ELSE {win} END",
        f"CASE WHEN {moved} THEN ({rule}) || '+display_form' ELSE {rule} END",
        f"coalesce({name}__d, p.{name})",
    )


def _write_golden(
    con: duckdb.DuckDBPyConnection,
    plan: Plan,
    config: Config,
    *,
    run_id: int,
    ids: str,
    previous: str | None,
    consent: str,
    collected: str,
    out: str,
) -> None:
    """Write the golden table: values, customer 360, ``created_run``, ``updated_run`` (moves
    only when the content or the members changed: ``content_hash``). Collected lists are
    the primary, then the other values (``collected``) in order."""
    names = {n: _winner_sql(plan, n)[2] for n in NAME_FIELDS}
    spend, total, total_currency = customer360.spend_sql(config)

    def collected_list(primary: str, name: str) -> str:
        if not plan.collect[name]:
            return "NULL::VARCHAR[]"
        others = f"coalesce(c.{name}s, [])"
        return f"CASE WHEN {primary} IS NOT NULL THEN list_prepend({primary}, {others}) END"

    values = {
        **{n: f"{sql} AS {n}" for n, sql in names.items()},
        "full_name": "nullif(concat_ws(' ', {}, {}, {}), '') AS full_name".format(*names.values()),
        "emails": collected_list("p.email", "email") + " AS emails",
        "phone": "ph.phone",
        "phones": collected_list("ph.phone", "phone") + " AS phones",
        "email_consent": "ce.consent AS email_consent",
        "sms_consent": "cs.consent AS sms_consent",
        "channels": "k.channels",
        "sources": "s.sources",
        "spend": f"{spend} AS spend",
        "spend_total": f"{total} AS spend_total",
        "spend_total_currency": f"{total_currency} AS spend_total_currency",
    }
    select = ", ".join(values.get(c, f"p.{c}") for c in GOLDEN_COLUMNS)
    content = ", ".join(c for c in GOLDEN_COLUMNS if c not in ("golden_id", "full_name"))
    prev_join = (
        f"LEFT JOIN (SELECT golden_id, content_hash AS prev_hash, updated_run AS prev_updated "
        f"FROM {previous}) o USING (golden_id)"
        if previous
        else "LEFT JOIN (SELECT NULL::VARCHAR AS golden_id, NULL::UBIGINT AS prev_hash, "
        "NULL::INTEGER AS prev_updated) o USING (golden_id)"
    )
    con.execute(
        f"""
        CREATE TABLE {out} AS
        WITH {customer360.mask_lists_sql(config, "sv_picks")},
        g AS (
            SELECT {select}, p.member_sig
            FROM sv_picks p LEFT JOIN sv_phone_picks ph USING (gk)
            JOIN kinds k USING (kind_mask) JOIN srcs s USING (source_mask)
            LEFT JOIN (
                SELECT golden_id, list_sort(list(value) FILTER (field = 'emails')) AS emails,
                       list_sort(list(value) FILTER (field = 'phones')) AS phones
                FROM {collected} GROUP BY golden_id
            ) c ON c.golden_id = p.golden_id
            {_CONSENT_JOINS.format(consent=consent)}
        ),
        h AS (SELECT *, hash({content}, member_sig) AS content_hash FROM g)
        SELECT {", ".join(f"h.{c}" for c in GOLDEN_COLUMNS)},
               coalesce(i.created_run, $run) AS created_run,
               CASE WHEN o.prev_hash = h.content_hash THEN o.prev_updated ELSE $run END
                   AS updated_run,
               h.content_hash
        FROM h LEFT JOIN {ids} i USING (golden_id) {prev_join}
    """,
        {"run": run_id},
    )


def _write_winners(con: duckdb.DuckDBPyConnection, plan: Plan, *, out: str) -> None:
    """Write ``out``: per golden id, each field's winning record id (``<field>__rid``) and
    the rule that decided (``<field>__rule``), for the lineage view."""
    cols = []
    for name in (*RECORD_FIELDS, "phone"):
        rid, rule, _ = _winner_sql(plan, name)
        cols += [f"{rid} AS {name}__rid", f"{rule} AS {name}__rule"]
    con.execute(f"""
        CREATE TABLE {out} AS
        SELECT p.golden_id, {", ".join(cols)}
        FROM sv_picks p LEFT JOIN sv_phone_picks USING (gk)
    """)


def survive(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    *,
    run_id: int,
    norm: str,
    members: str,
    ids: str,
    previous_golden: str | None,
    golden_out: str,
    winners_out: str,
    collected_out: str,
    consent_out: str,
    timings: dict[str, float] | None = None,
    pairs_side_by_side: bool = True,
) -> dict[str, int]:
    """Build golden records, their lineage (``winners_out``, ``collected_out``: see
    :mod:`omnimdm.survive.lineage` for the view over them) and consent per contact
    point.

    ``members`` is the cluster stage's record -> golden id table (with each record's
    ``cluster_match_probability``: it is the crosswalk), ``ids`` its golden id
    registry (for ``created_run``); ``previous_golden`` the published golden table, if
    any, so ``updated_run`` only moves when a golden record's content or members change.
    ``pairs_side_by_side=False`` groups clusters of two like larger ones (the same
    results, slower; tests compare the two).
    """
    plan = Plan(config, pairs_side_by_side=pairs_side_by_side)
    timings = timings if timings is not None else {}

    def step(name: str, fn: Callable[[], object]) -> None:
        started = time.perf_counter()
        fn()
        timings[f"survive.{name}"] = round(time.perf_counter() - started, 3)

    step(
        "candidates",
        lambda: build_candidates(con, config, norm=norm, members=members, frequent=plan.frequent),
    )
    step("record_picks", lambda: record_picks(con, plan, config))
    step("phone_picks", lambda: phone_picks(con, plan))
    step("collected", lambda: build_collected(con, collect=plan.collect, out=collected_out))
    strong = config.survivorship.strong_match_probability
    step("consent", lambda: decide_consent(con, strong=strong, out=consent_out))
    step(
        "golden",
        lambda: _write_golden(
            con,
            plan,
            config,
            run_id=run_id,
            ids=ids,
            previous=previous_golden,
            consent=consent_out,
            collected=collected_out,
            out=golden_out,
        ),
    )
    step("winners", lambda: _write_winners(con, plan, out=winners_out))
    counts = {
        name: int(con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0])
        for name, table in (
            ("golden_records", golden_out),
            ("crosswalk_rows", members),
            ("consent_contact_points", consent_out),
            ("collected_values", collected_out),
        )
    }
    counts["changed_golden_records"] = int(
        con.sql(
            f"SELECT count(*) FROM {golden_out} WHERE updated_run = $r", params={"r": run_id}
        ).fetchall()[0][0]
    )
    for table in ("sv_picks", "sv_phone_picks"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    drop_candidates(con)
    log.info("survive: %d golden records", counts["golden_records"])
    return counts

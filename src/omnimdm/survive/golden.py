"""Survivorship: one golden record per cluster, field by field, with lineage.

Set-based in DuckDB (no per-record Python). :mod:`omnimdm.survive.rules` packs each
field's rule chain into one integer key, so a ``min()`` finds the winner. Clusters of two
or more take two grouped passes over their members (winner keys; then the winners'
values, the best candidate with another value, which tells which rule decided, and the
display form of each name part); clusters of one record skip both. The member phone
numbers get the same two passes; consent is decided per contact point
(:mod:`omnimdm.survive.consent`); the customer-360 aggregates
(:mod:`omnimdm.survive.customer360`) ride along in the first pass; lineage is stored per
golden record and read through a view (:mod:`omnimdm.survive.lineage`).
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
from omnimdm.survive.rules import (
    FIELD_SPECS,
    RECORD_BITS,
    RECORD_MASK,
    VALUE_MASK,
    chain_for,
    collects,
    deciding_rule_sql,
    packed_key_sql,
)

log = logging.getLogger(__name__)

#: record-level fields picked in the grouped pass over ``sv_base`` (phone has its own)
RECORD_FIELDS = tuple(n for n, s in FIELD_SPECS.items() if s.candidates == "record")
NAME_FIELDS = tuple(n for n, s in FIELD_SPECS.items() if s.display is not None)
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


class _Plan:
    """The configured chains, resolved once."""

    def __init__(self, config: Config, *, pairs_side_by_side: bool = True) -> None:
        self.pairs_side_by_side = pairs_side_by_side
        surv = config.survivorship
        self.chains = {n: chain_for(n, surv.fields, surv.default_rule) for n in FIELD_SPECS}
        self.collect = {n: collects(n, surv.fields) for n in FIELD_SPECS}
        self.frequent = [n for n, c in self.chains.items() if "most_frequent" in c]

    def key(self, name: str) -> str:
        return packed_key_sql(self.chains[name], FIELD_SPECS[name])

    def keyed(self, table: str, names: tuple[str, ...], where: str = "true") -> str:
        """``table`` with its ``most_frequent`` counts joined and a key column per field."""
        key_cols = "record_id, pos" if table == "sv_phone" else "record_id"
        joins = " ".join(
            f"LEFT JOIN sv_freq_{n} USING ({key_cols})"
            for n in self.frequent
            if n in names and (FIELD_SPECS[n].candidates == "phone") == (table == "sv_phone")
        )
        keys = ", ".join(f"{self.key(n)} AS k_{n}" for n in names)
        return f"(SELECT *, {keys} FROM {table} {joins} WHERE {where})"


def _record_picks(con: duckdb.DuckDBPyConnection, plan: _Plan, config: Config) -> None:
    """``sv_picks``: per golden id, each record field's winner key, value, number of
    candidates and runner-up, the customer-360 aggregates and the collected e-mails.

    Clusters of three or more take two passes: the first finds each field's winner key
    (its low bits hash the winning value), the second reads the winning record (the
    smallest record id with that key) and its values, the best candidate with *another*
    value (it tells which rule decided) and each name part's best display form among the
    members whose name matches the winner's (``García`` over ``Garcia``). Clusters of two
    records compare the two side by side (:func:`_pair_picks_sql`, same results, no
    grouping); clusters of one record (about half of them) take the record's values."""
    first, second, single, flags = [], [], [], []
    for name in RECORD_FIELDS:
        spec, k, h = FIELD_SPECS[name], f"k_{name}", f"h_{name}"
        first.append(f"min({k}) FILTER ({spec.present}) AS {name}__w")
        # per row, once: has the winning key / has another value than the winner
        flags += [
            f"{k} = p.{name}__w AS won_{name}",
            f"{spec.present} AND {h} <> p.{name}__c AS other_{name}",
        ]
        second += [
            f"count({spec.present_value}) AS {name}__n",
            f"min(record_id) FILTER (won_{name}) AS {name}__rid",
            f"min({k}) FILTER (other_{name}) AS {name}__r",
        ]
        if spec.display is None:  # (a name's value is its display form, below)
            second += [
                f"arg_min_null({expr}, record_id) FILTER (won_{name}) AS {col}"
                for col, expr in spec.columns.items()
            ]
        # a lone record needs no key: it wins every field it has
        single += [f"CASE WHEN {spec.present} THEN record_id END AS {name}__rid"]
        single += [
            f"CASE WHEN {spec.present} THEN {expr} END AS {col}"
            for col, expr in spec.columns.items()
        ]
        if spec.display is not None:  # best written; then a winner; then the smallest id
            dk = (
                f"(((3 - d_{name})::UHUGEINT << {RECORD_BITS + 1}) "
                f"| ((NOT won_{name})::UHUGEINT << {RECORD_BITS}) | record_id::UHUGEINT)"
            )
            flags.append(f"{spec.present} AND {h} = p.{name}__c AS same_{name}")
            second += [
                f"arg_min({name}, {dk}) FILTER (same_{name}) AS {name}__d",
                f"min({dk}) FILTER (same_{name}) AS {name}__dk",
            ]
    first += customer360.aggregates(config)
    single += customer360.of_one_record(config)
    smallest = 3 if plan.pairs_side_by_side else 2  # the clusters the grouped passes take
    multi = plan.keyed("sv_base", RECORD_FIELDS, f"members >= {smallest}")
    pairs = f"UNION ALL BY NAME {_pair_picks_sql(plan, config)}" if plan.pairs_side_by_side else ""
    # the winning key, and its value hash (its low bits)
    winners = [f"{n}__w, ({n}__w & {VALUE_MASK})::UBIGINT AS {n}__c" for n in RECORD_FIELDS]
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE sv_first AS
        SELECT gk, any_value(golden_id) AS golden_id, {", ".join(first)}
        FROM {multi} GROUP BY gk
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE sv_picks AS
        SELECT * FROM sv_first JOIN (
            SELECT gk, {", ".join(second)} FROM (
                SELECT b.*, {", ".join(flags)}
                FROM {multi} b JOIN (SELECT gk, {", ".join(winners)} FROM sv_first) p USING (gk)
            )
            GROUP BY gk
        ) USING (gk)
        {pairs}
        UNION ALL BY NAME
        SELECT gk, golden_id, {", ".join(single)}
        FROM sv_base WHERE members = 1
    """)
    con.execute("DROP TABLE sv_first")


def _pair_picks_sql(plan: _Plan, config: Config) -> str:
    """The picks of clusters of exactly two records, as one join of the pair (``a`` has
    the smaller record id) instead of a grouping; the same results as the grouped passes
    (a tie on the whole key goes to ``a``, the smaller record id)."""
    side = ["gk", "golden_id", "record_id", *customer360.of_one_record(config)]
    cols = ["a.gk", "a.golden_id", *customer360.of_two_records()]
    for name in RECORD_FIELDS:
        spec = FIELD_SPECS[name]
        side += [f"{spec.present} AS p_{name}", f"k_{name}", f"h_{name}"]
        side += [f"{expr} AS {col}" for col, expr in spec.columns.items()]
        a_wins = f"(a.p_{name} AND (NOT b.p_{name} OR a.k_{name} <= b.k_{name}))"

        def winner(a_expr: str, b_expr: str, cond: str = a_wins, field: str = name) -> str:
            return f"CASE WHEN {cond} THEN {a_expr} WHEN b.p_{field} THEN {b_expr} END"

        other = (  # the loser, when it has another value than the winner
            f"CASE WHEN {a_wins} THEN (CASE WHEN b.p_{name} AND b.h_{name} <> a.h_{name} "
            f"THEN b.k_{name} END) WHEN b.p_{name} THEN (CASE WHEN a.p_{name} AND "
            f"a.h_{name} <> b.h_{name} THEN a.k_{name} END) END"
        )
        cols += [
            f"{winner(f'a.k_{name}', f'b.k_{name}')} AS {name}__w",
            f"{winner('a.record_id', 'b.record_id')} AS {name}__rid",
            f"a.p_{name}::INT + b.p_{name}::INT AS {name}__n",
            f"{other} AS {name}__r",
        ]
        if spec.display is None:
            cols += [f"{winner(f'a.{c}', f'b.{c}')} AS {c}" for c in spec.columns]
            continue
        side.append(f"d_{name}")
        w_hash = winner(f"a.h_{name}", f"b.h_{name}")
        w_key = winner(f"a.k_{name}", f"b.k_{name}")
        same = {x: f"({x}.p_{name} AND {x}.h_{name} = {w_hash})" for x in "ab"}
        dk = {  # best written; then a winning record; then the smaller record id
            x: f"(((3 - {x}.d_{name})::UHUGEINT << {RECORD_BITS + 1}) | ((NOT "
            f"({x}.p_{name} AND {x}.k_{name} = {w_key}))::UHUGEINT << {RECORD_BITS}) "
            f"| {x}.record_id::UHUGEINT)"
            for x in "ab"
        }
        pick_a = f"({same['a']} AND (NOT {same['b']} OR {dk['a']} < {dk['b']}))"
        cols += [
            f"CASE WHEN {pick_a} THEN a.{name} WHEN {same['b']} THEN b.{name} END AS {name}__d",
            f"CASE WHEN {pick_a} THEN {dk['a']} WHEN {same['b']} THEN {dk['b']} END AS {name}__dk",
        ]
    pairs = plan.keyed("sv_base", RECORD_FIELDS, "members = 2")
    return f"""
        SELECT {", ".join(cols)}
        FROM (SELECT {", ".join(side)} FROM {pairs}) a
        JOIN (SELECT {", ".join(side)} FROM {pairs}) b
            ON a.gk = b.gk AND a.record_id < b.record_id
    """


def _phone_picks(con: duckdb.DuckDBPyConnection, plan: _Plan) -> None:
    """``sv_phone_picks``: the primary phone (winner key, value, runner-up with another
    number, candidates)."""
    spec = FIELD_SPECS["phone"]
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE sv_phone_first AS
        SELECT gk, min(k_phone) AS phone__w, arg_min(phone, k_phone) AS phone,
               (min(k_phone) & {RECORD_MASK})::BIGINT AS phone__rid, count(*) AS phone__n
        FROM {plan.keyed("sv_phone", ("phone",), spec.present)}
        GROUP BY gk
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE sv_phone_picks AS
        SELECT f.*, r.phone__r FROM sv_phone_first f LEFT JOIN (
            SELECT gk, min(k_phone) FILTER (b.phone <> p.phone) AS phone__r
            FROM {plan.keyed("sv_phone", ("phone",), "members > 1")} b
            JOIN (SELECT gk, phone FROM sv_phone_first WHERE phone__n > 1) p USING (gk)
            GROUP BY gk
        ) r USING (gk)
    """)
    con.execute("DROP TABLE sv_phone_first")


_CONSENT_JOINS = """
    LEFT JOIN {consent} ce ON ce.golden_id = p.golden_id AND ce.channel = 'email'
         AND ce.contact_point = p.email
    LEFT JOIN {consent} cs ON cs.golden_id = p.golden_id AND cs.channel = 'sms'
         AND cs.contact_point = ph.phone
"""


def _winner_sql(plan: _Plan, name: str) -> tuple[str, str, str | None]:
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
    plan: _Plan,
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


def _write_winners(con: duckdb.DuckDBPyConnection, plan: _Plan, *, out: str) -> None:
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
    plan = _Plan(config, pairs_side_by_side=pairs_side_by_side)
    timings = timings if timings is not None else {}

    def step(name: str, fn: Callable[[], object]) -> None:
        started = time.perf_counter()
        fn()
        timings[f"survive.{name}"] = round(time.perf_counter() - started, 3)

    step(
        "candidates",
        lambda: build_candidates(con, config, norm=norm, members=members, frequent=plan.frequent),
    )
    step("record_picks", lambda: _record_picks(con, plan, config))
    step("phone_picks", lambda: _phone_picks(con, plan))
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

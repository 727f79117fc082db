"""Per-field picks: the winning member of every survivorship field, set-based in DuckDB.

:mod:`omnimdm.survive.rules` packs each field's rule chain into one integer key, so a
``min()`` finds the winner. Clusters of three or more take two grouped passes over their
members (winner keys; then the winners' values, the best candidate with another value,
which tells which rule decided, and the display form of each name part); clusters of two
compare the pair side by side; clusters of one record take the record's values. The
member phone numbers get the same treatment in :func:`phone_picks`.
"""

from __future__ import annotations

import duckdb

from omnimdm.config import Config
from omnimdm.survive import customer360
from omnimdm.survive.rules import (
    FIELD_SPECS,
    RECORD_BITS,
    RECORD_MASK,
    VALUE_MASK,
    chain_for,
    collects,
    packed_key_sql,
)

#: record-level fields picked in the passes over ``sv_base`` (phone has its own)
RECORD_FIELDS = tuple(n for n, s in FIELD_SPECS.items() if s.candidates == "record")
NAME_FIELDS = tuple(n for n, s in FIELD_SPECS.items() if s.display is not None)


class Plan:
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


def record_picks(con: duckdb.DuckDBPyConnection, plan: Plan, config: Config) -> None:
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
            # a record without the field never wins it, even where its key ties (an
            # address of only a country compares like no address at all)
            f"{spec.present} AND {k} = p.{name}__w AS won_{name}",
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


def _pair_picks_sql(plan: Plan, config: Config) -> str:
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


def phone_picks(con: duckdb.DuckDBPyConnection, plan: Plan) -> None:
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

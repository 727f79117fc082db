"""Field-level lineage: for every non-null golden value, the member record it came from.

``golden_lineage`` has one row per (golden id, field) for single values, one per value
for collected lists (``emails``, ``phones``: the first member record carrying it, rule
``collect``) and one per consent flag (``email_consent``, ``sms_consent``: the deciding
event's record, ``event_at`` and policy case). ``rule`` names the rule of the chain that
told the winner from the runner-up (``only_candidate`` when there was no other candidate,
``record_id`` when the whole chain tied and the smallest record id won;
``+display_form`` when a name's display form came from another member with the same name).
Aggregates (``full_name``, channels, first/last seen, spend, orders) are made from every
member and have no lineage row: the crosswalk lists the members.
"""

from __future__ import annotations

import duckdb

from omnimdm.survive.rules import FIELD_SPECS


def build_lineage(
    con: duckdb.DuckDBPyConnection,
    *,
    fields: tuple[str, ...],
    collect: dict[str, bool],
    golden: str,
    consent: str,
    out: str,
) -> int:
    """Write ``out`` (golden_id, field, value, source, source_record_id, rule, event_at);
    return its row count. Reads ``sv_winners``, ``sv_base`` and ``sv_phone``."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE sv_gw AS
        SELECT * FROM {golden} g JOIN sv_winners w USING (golden_id)
    """)
    parts = []
    for name in fields:
        for col in FIELD_SPECS[name].columns:
            parts.append(
                f"SELECT golden_id, '{col}' AS field, {col}::VARCHAR AS value, {name}__rid AS rid, "
                f"{name}__rule AS rule, NULL::TIMESTAMP AS event_at FROM sv_gw "
                f"WHERE {col} IS NOT NULL"
            )
    if collect["email"]:
        parts.append(
            "SELECT golden_id, 'emails', email_norm, min(record_id), 'collect', NULL FROM sv_base "
            "WHERE email_norm IS NOT NULL GROUP BY golden_id, email_norm"
        )
    if collect["phone"]:
        parts.append(
            "SELECT golden_id, 'phones', phone, min(record_id), 'collect', NULL FROM sv_phone "
            "GROUP BY golden_id, phone"
        )
    consent_rows = " UNION ALL ".join(
        f"SELECT c.golden_id, '{col}' AS field, c.consent AS value, c.source, "
        f"c.source_record_id, c.rule, c.event_at FROM {consent} c JOIN {golden} g "
        f"ON g.golden_id = c.golden_id AND c.contact_point = g.{point} "
        f"WHERE c.channel = '{channel}' AND c.consent IS NOT NULL"
        for channel, col, point in (
            ("email", "email_consent", "email"),
            ("sms", "sms_consent", "phone"),
        )
    )
    union = "\nUNION ALL ".join(parts)
    con.execute(f"""
        CREATE TABLE {out} AS
        SELECT l.golden_id, l.field, l.value, k.source, k.source_record_id, l.rule, l.event_at
        FROM ({union}) l JOIN sv_base k ON k.record_id = l.rid
        UNION ALL {consent_rows}
    """)
    con.execute("DROP TABLE sv_gw")
    return int(con.sql(f"SELECT count(*) FROM {out}").fetchall()[0][0])

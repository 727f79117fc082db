"""Field-level lineage: for every non-null golden value, the member record it came from.

Stored compactly and read as a view. ``golden_winners`` has one row per golden record
with, per survivorship field, the winning record id (``<field>__rid``) and the rule that
decided (``<field>__rule``); ``golden_collected`` has one row per value of ``emails`` /
``phones`` besides the primary (golden_id, field, value, record_id). The view
``golden_lineage`` (golden_id, field, value, source, source_record_id, rule, event_at)
unpivots them against the golden values, the crosswalk (record id -> SOURCE:ID) and the
consent decisions, so lineage costs one narrow row per golden record instead of a second
copy of every golden value (at a million records that is the difference between about
4 million rows written per run and 600 thousand).

One lineage row per survivorship field with a value: the address survives as a unit, so
one ``address`` row (value ``street, postcode city, region, country``) covers
``street``, ``street_number``, ``postcode``, ``city``, ``region`` and ``country``, and the
``national_id`` row covers ``national_id_kind``; one row per other value of ``emails`` /
``phones`` (rule ``collect``; the primary's row is ``email`` / ``phone``); one row per
consent flag (the deciding event's record, ``event_at`` and policy case). ``rule`` is
``only_candidate``, ``agreed`` (every candidate had the winner's value), the first rule
of the chain on which the winner beat the best candidate with another value, or
``tie`` (the whole chain tied); ``+display_form`` when a name's written form came
from another member with the same name. Aggregates (``full_name``, channels, first/last
seen, spend, orders) are made from every member and have no lineage row: the crosswalk
lists the members.
"""

from __future__ import annotations

import duckdb

from omnimdm.survive.rules import FIELD_SPECS

#: lineage fields with one value each, in view order (collected lists and consent follow)
LINEAGE_FIELDS = tuple(FIELD_SPECS)


def build_collected(con: duckdb.DuckDBPyConnection, *, collect: dict[str, bool], out: str) -> None:
    """Write ``out`` (golden_id, field, value, record_id): each value of the collected
    lists besides the primary, with the smallest record id carrying it. Reads
    ``sv_base``, ``sv_phone``, ``sv_picks`` and ``sv_phone_picks``."""
    parts = ["SELECT NULL::VARCHAR, NULL::VARCHAR, NULL::VARCHAR, NULL::BIGINT WHERE false"]
    if collect["email"]:
        parts.append(
            "SELECT b.golden_id, 'emails', b.email_norm, min(b.record_id) FROM sv_base b "
            "JOIN sv_picks p USING (gk) WHERE b.email_norm <> p.email "
            "GROUP BY b.golden_id, b.email_norm"
        )
    if collect["phone"]:
        parts.append(
            "SELECT b.golden_id, 'phones', b.phone, min(b.record_id) FROM sv_phone b "
            "JOIN sv_phone_picks p USING (gk) WHERE b.phone <> p.phone "
            "GROUP BY b.golden_id, b.phone"
        )
    con.execute(f"""
        CREATE TABLE {out} AS
        SELECT * FROM ({" UNION ALL ".join(parts)}) t(golden_id, field, value, record_id)
    """)


def lineage_view_sql(
    *, golden: str, winners: str, collected: str, consent: str, crosswalk: str
) -> str:
    """The ``golden_lineage`` view over the stored tables (names unqualified, so the same
    text works in the store and in its snapshot)."""
    values = ", ".join(
        f"('{name}', {FIELD_SPECS[name].lineage_sql}, w.{name}__rid, w.{name}__rule)"
        for name in LINEAGE_FIELDS
    )
    consent_rows = " UNION ALL ".join(
        f"SELECT g.golden_id, '{col}', k.consent, k.source, k.source_record_id, k.rule, "
        f"k.event_at FROM {golden} g JOIN {consent} k ON k.golden_id = g.golden_id "
        f"AND k.channel = '{channel}' AND k.contact_point = g.{point} "
        "WHERE k.consent IS NOT NULL"
        for channel, col, point in (
            ("email", "email_consent", "email"),
            ("sms", "sms_consent", "phone"),
        )
    )
    return f"""
        SELECT g.golden_id, f.field, f.value, c.source, c.source_record_id, f.rule,
               NULL::TIMESTAMP AS event_at
        FROM {golden} g JOIN {winners} w ON w.golden_id = g.golden_id,
             LATERAL (VALUES {values}) f(field, value, rid, rule)
        JOIN {crosswalk} c ON c.golden_id = g.golden_id AND c.record_id = f.rid
        WHERE f.value IS NOT NULL
        UNION ALL
        SELECT l.golden_id, l.field, l.value, c.source, c.source_record_id, 'collect', NULL
        FROM {collected} l
        JOIN {crosswalk} c ON c.golden_id = l.golden_id AND c.record_id = l.record_id
        UNION ALL {consent_rows}
    """

"""Field-level lineage: for every non-null golden value, the member record it came from.

``golden_lineage`` has one row per (golden id, survivorship field) with a value: the
address survives as a unit, so one ``address`` row (value ``street, postcode city, region,
country``) covers ``street``, ``street_number``, ``postcode``, ``city``, ``region`` and
``country``, and the ``national_id`` row covers ``national_id_kind``. Collected lists get
one row per value (``emails``, ``phones``: the first member record carrying it, rule
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
    out: str,
) -> int:
    """Write ``out`` (golden_id, field, value, source, source_record_id, rule, event_at);
    return its row count. Reads ``sv_winners``, ``sv_base`` and ``sv_phone``.

    Golden records of one member name that member directly; the others look their
    winners' SOURCE:SOURCE_RECORD_ID up by record id."""
    single, multi = [], []
    for name in fields:
        value = FIELD_SPECS[name].lineage_sql
        row = f"SELECT golden_id, '{name}' AS field, {value} AS value"
        where = f"WHERE {value} IS NOT NULL"
        single.append(
            f"{row}, single__source, single__srid, {name}__rule AS rule FROM sv_winners "
            f"{where} AND source_records = 1"
        )
        multi.append(
            f"{row}, {name}__rid AS rid, {name}__rule AS rule FROM sv_winners "
            f"{where} AND source_records > 1"
        )
    # collected lists: one row per value besides the primary (whose row is email / phone)
    collected = {
        "email": ("emails", "email_norm", "sv_base"),
        "phone": ("phones", "phone", "sv_phone"),
    }
    for name, (field, col, table) in collected.items():
        if not collect[name]:
            continue
        others = f"c.{col} IS NOT NULL AND c.{col} <> g.{name}"
        single.append(
            f"SELECT c.golden_id, '{field}', c.{col}, c.source, c.source_record_id, 'collect' "
            f"FROM {table} c JOIN sv_winners g USING (golden_id) WHERE c.members = 1 AND {others}"
        )
        multi.append(
            f"SELECT c.golden_id, '{field}', c.{col}, min(c.record_id), 'collect' "
            f"FROM {table} c JOIN sv_winners g USING (golden_id) WHERE c.members > 1 AND {others} "
            f"GROUP BY c.golden_id, c.{col}"
        )
    consent = [
        f"SELECT golden_id, '{col}' AS field, {col} AS value, {col}__source, {col}__srid, "
        f"{col}__rule, {col}__event_at FROM sv_winners WHERE {col} IS NOT NULL"
        for col in ("email_consent", "sms_consent")
    ]
    con.execute(f"""
        CREATE TABLE {out} AS
        SELECT l.golden_id, l.field, l.value, k.source, k.source_record_id, l.rule,
               NULL::TIMESTAMP AS event_at
        FROM ({" UNION ALL ".join(multi)}) l JOIN sv_base k ON k.record_id = l.rid
        UNION ALL
        SELECT *, NULL::TIMESTAMP FROM ({" UNION ALL ".join(single)})
        UNION ALL {" UNION ALL ".join(consent)}
    """)
    return int(con.sql(f"SELECT count(*) FROM {out}").fetchall()[0][0])

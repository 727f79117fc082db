"""Candidate rows for survivorship.

``sv_base``   the member records with the canonical columns the rules read, the number of
              members of their cluster, trust and recency; ``gk`` (the cluster's smallest
              record id) is an integer stand-in for the golden id in joins and groupings
``sv_phone``  one row per (member record, phone number)
``sv_freq_*`` how many members carry each value (only for ``most_frequent`` fields, and
              only in clusters of three or more: with two members or fewer the counts
              always tie, so they are left out and count as 1)
"""

from __future__ import annotations

import duckdb

from omnimdm.config import Config
from omnimdm.survive.rules import FIELD_SPECS

#: minutes from 1900-01-01 to 1970-01-01; recency is counted in minutes from 1900 (30 bits)
_EPOCH_1900 = 36_816_480
_RECENCY_MAX = (1 << 30) - 1

#: canonical columns the rules and aggregates read
BASE_COLUMNS = (
    "source_kind",
    "source_updated_at",
    "given_name",
    "given_name_norm",
    "surname1",
    "surname1_norm",
    "surname2",
    "surname2_norm",
    "email_norm",
    "email_match",
    "email_corrected",
    "email_consent",
    "sms_consent",
    "birth_date",
    "birth_date_reason",
    "street",
    "street_type",
    "street_name",
    "street_number",
    "postcode",
    "city",
    "city_norm",
    "region",
    "country",
    "national_id",
    "national_id_kind",
    "national_id_valid",
    "loyalty_id",
    "company",
    "total_spent",
    "currency",
    "orders",
    "first_seen",
    "last_seen",
)


def recency_bad_sql(ts: str) -> str:
    """Badness of a timestamp for ``most_recent``: newer is lower; undated is the worst."""
    mins = f"least(greatest(epoch_ms({ts}) // 60000 + {_EPOCH_1900}, 0), {_RECENCY_MAX - 1})"
    return f"CASE WHEN {ts} IS NULL THEN {_RECENCY_MAX} ELSE {_RECENCY_MAX - 1} - {mins} END"


def trust_sql(config: Config, column: str = "source") -> str:
    """Each source's configured ``trust`` (for ``source_priority``)."""
    whens = " ".join(f"WHEN '{s.name}' THEN {float(s.trust)}" for s in config.sources)
    return f"(CASE {column} {whens} ELSE 0.0 END)"


def build_candidates(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    *,
    norm: str,
    members: str,
    frequent: list[str],
) -> None:
    """Create ``sv_base``, ``sv_phone`` and the ``sv_freq_*`` tables."""
    cols = ", ".join(f"n.{c}" for c in BASE_COLUMNS)
    # each field's value as compared (names accent- and case-blind), hashed once (only
    # clusters of two or more compare values)
    hashes = ", ".join(
        f"CASE WHEN members > 1 THEN hash({spec.compare}) END AS h_{name}"
        for name, spec in FIELD_SPECS.items()
        if spec.candidates == "record"
    )
    # and each name's display quality (accents, mixed case), for the display form
    hashes += "".join(
        f", CASE WHEN members > 1 THEN ({spec.display})::UTINYINT END AS d_{name}"
        for name, spec in FIELD_SPECS.items()
        if spec.display is not None
    )
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE sv_base AS
        SELECT *, {hashes} FROM (
        WITH sizes AS (
            SELECT golden_id, count(*) AS members, min(record_id) AS gk
            FROM {members} GROUP BY golden_id
        )
        SELECT m.golden_id, s.gk, m.record_id, m.source, m.source_record_id, s.members,
               m.cluster_match_probability AS cmp, {trust_sql(config, "m.source")} AS trust,
               {recency_bad_sql("n.source_updated_at")} AS recency_bad, {cols}
        FROM {members} m JOIN sizes s USING (golden_id) JOIN {norm} n USING (record_id)
        )
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE sv_phone AS
        WITH numbers AS (
            SELECT b.golden_id, b.gk, b.record_id, b.source, b.source_record_id, b.members,
                   b.cmp, b.trust, b.source_updated_at,
                   b.recency_bad, b.sms_consent, n.mobiles, n.mobiles_match, n.landlines_match,
                   len(n.mobiles) > 0 AS has_mobile,
                   unnest(n.phones) AS phone, generate_subscripts(n.phones, 1) AS pos
            FROM {norm} n JOIN sv_base b USING (record_id) WHERE len(n.phones) > 0
        )
        SELECT golden_id, gk, record_id, source, source_record_id, members, cmp, trust,
               source_updated_at, recency_bad,
               sms_consent, has_mobile, phone, pos,
               list_contains(mobiles, phone) AS phone_mobile,
               NOT (list_contains(mobiles_match, phone)
                    OR list_contains(landlines_match, phone)) AS phone_shared
        FROM numbers
    """)
    for name in frequent:
        spec = FIELD_SPECS[name]
        table = "sv_phone" if spec.candidates == "phone" else "sv_base"
        key = "record_id, pos" if spec.candidates == "phone" else "record_id"
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE sv_freq_{name} AS
            SELECT {key}, count(*) OVER (PARTITION BY gk, {spec.compare})
                AS freq_{name}
            FROM {table} WHERE members > 2 AND {spec.present}
        """)


def drop_candidates(con: duckdb.DuckDBPyConnection) -> None:
    for name in ("sv_base", "sv_phone"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    for name in FIELD_SPECS:
        con.execute(f"DROP TABLE IF EXISTS sv_freq_{name}")

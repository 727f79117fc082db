"""Survivorship: one golden record per cluster, field by field, with lineage.

Each field takes the value of the member record that ranks first under the configured rule
(``most_recent``: latest ``source_updated_at``; ``source_priority``: highest source trust,
then most recent); ties break on ``(source, source_record_id)`` so results are
deterministic. Lineage names the record and rule behind every golden value.
"""

from __future__ import annotations

import duckdb

from omnimdm.config import Config

#: golden field -> canonical column it survives from
GOLDEN_FIELDS = {
    "given_name": "given_name",
    "surname1": "surname1",
    "surname2": "surname2",
    "full_name": "full_name",
    "email": "email_norm",
    "phone": "phones[1]",
    "birth_date": "birth_date::VARCHAR",
    "street": "street",
    "postcode": "postcode",
    "city": "city",
    "region": "region",
    "country": "country",
    "national_id": "national_id",
}


def _rank_key(config: Config) -> str:
    recency = "coalesce(n.source_updated_at, TIMESTAMP '1900-01-01')"
    if config.survivorship.default_rule == "source_priority":
        trust = " ".join(f"WHEN '{s.name}' THEN {float(s.trust)}" for s in config.sources)
        return f"(CASE n.source {trust} ELSE 0 END, {recency})"
    return f"({recency},)"


def survive(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    *,
    norm: str,
    members: str,
    pairs: str,
    golden_out: str,
    lineage_out: str,
    crosswalk_out: str,
) -> dict[str, int]:
    """Build golden records, lineage and the crosswalk for the run."""
    rule = config.survivorship.default_rule
    # the winner for a field: highest rank key, then smallest (source, source_record_id)
    picks = ",\n".join(
        f"arg_max(struct_pack(v := {expr}, s := n.source, i := n.source_record_id), "
        f"({_rank_key(config)}, -rank_tiebreak)) FILTER ({expr} IS NOT NULL) AS {name}"
        for name, expr in GOLDEN_FIELDS.items()
    )
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE golden_picks AS
        SELECT m.golden_id, {picks}
        FROM {members} m
        JOIN (SELECT *, dense_rank() OVER (ORDER BY source, source_record_id) AS rank_tiebreak
              FROM {norm}) n USING (record_id)
        GROUP BY m.golden_id
    """)
    values = ", ".join(f"{name}.v AS {name}" for name in GOLDEN_FIELDS)
    con.execute(f"""
        CREATE TABLE {golden_out} AS
        SELECT p.golden_id, {values}, s.source_records, s.sources, s.first_seen, s.last_seen
        FROM golden_picks p JOIN (
            SELECT m.golden_id, count(*) AS source_records,
                   list(DISTINCT n.source ORDER BY n.source) AS sources,
                   min(n.source_updated_at) AS first_seen, max(n.source_updated_at) AS last_seen
            FROM {members} m JOIN {norm} n USING (record_id) GROUP BY m.golden_id
        ) s USING (golden_id)
        ORDER BY golden_id
    """)
    unpivot = " UNION ALL ".join(
        f"SELECT golden_id, '{name}' AS field, {name}.v::VARCHAR AS value, "
        f"{name}.s AS source, {name}.i AS source_record_id FROM golden_picks "
        f"WHERE {name} IS NOT NULL"
        for name in GOLDEN_FIELDS
    )
    con.execute(
        f"CREATE TABLE {lineage_out} AS SELECT *, $rule AS rule FROM ({unpivot}) "
        "ORDER BY golden_id, field",
        {"rule": rule},
    )
    con.execute(f"""
        CREATE TABLE {crosswalk_out} AS
        WITH edges AS (
            SELECT record_id_l AS record_id, record_id_r AS other, match_probability
            FROM {pairs}
            UNION ALL SELECT record_id_r, record_id_l, match_probability FROM {pairs}
        ),
        member_edges AS (
            SELECT e.record_id, max(e.match_probability) AS p
            FROM edges e
            JOIN {members} a ON a.record_id = e.record_id
            JOIN {members} b ON b.record_id = e.other AND b.golden_id = a.golden_id
            GROUP BY e.record_id
        )
        SELECT m.golden_id, m.source, m.source_record_id, m.record_id,
               me.p AS cluster_match_probability
        FROM {members} m LEFT JOIN member_edges me USING (record_id)
        ORDER BY m.golden_id, m.source, m.source_record_id
    """)
    con.execute("DROP TABLE golden_picks")
    golden = int(con.sql(f"SELECT count(*) FROM {golden_out}").fetchall()[0][0])
    crosswalk = int(con.sql(f"SELECT count(*) FROM {crosswalk_out}").fetchall()[0][0])
    return {"golden_records": golden, "crosswalk_rows": crosswalk}

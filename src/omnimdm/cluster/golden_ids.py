"""Stable golden ids across runs, and the events that let downstream systems follow them.

The rule (set-based; nothing depends on input row order or on Splink's cluster ids):

1. Old clusters (the previous published run's membership, ``clusters``) and new clusters
   are matched greedily by overlap size, then the old id's creation run (older first),
   then the smallest member key ``(source, source_record_id)`` of the overlap (compared
   as ``source || chr(1) || source_record_id``, which sorts the same since source names
   are ``[a-z0-9_]``). Each old id is used at most once, each new cluster gets at most
   one old id.
2. The other new clusters get ids from a persistent sequence (``golden_id_sequence``), in
   order of their smallest ``(source, source_record_id)``. Ids are ``G`` + nine digits
   (``G000000042``; more digits once past a billion). A retired id is never reused.
3. Events (``golden_events``): ``CREATED`` (a new id), ``SPLIT_FROM`` (a new id whose
   records were part of an older golden record; related = the id that held most of them),
   ``MERGED_INTO`` (an old id that lost its place while its records live on; related = the
   id holding most of them), ``RETIRED`` (an old id whose records all left the sources),
   ``RECORD_MOVED`` (a record whose golden id changed; related = its previous id) and
   ``ERASED`` (reserved for erasure requests).

The greedy matching runs in rounds: an overlap that ranks first both among its new
cluster's overlaps and among its old id's is exactly one greedy would take, so each round
takes all of those, drops what they used, and repeats (one or two rounds in practice).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import duckdb

log = logging.getLogger(__name__)

EVENTS = ("CREATED", "MERGED_INTO", "SPLIT_FROM", "RECORD_MOVED", "RETIRED", "ERASED")
ID_SQL = "printf('G%09d', {})"


@dataclass(frozen=True)
class PreviousIds:
    """The published state the new ids continue from (table names; None when absent)."""

    members: str | None = None  # record_id, golden_id of the last published run
    registry: str | None = None  # golden_ids
    sequence: str | None = None  # golden_id_sequence


def best_edge_sql(records: str, key: str, pairs: str) -> str:
    """SQL for (record_id, cluster_match_probability): each record's highest edge
    probability to another member of its cluster (``records`` has record_id and the
    cluster column ``key``). Records alone in their cluster have no row."""
    return f"""
        WITH inside AS (
            SELECT p.record_id_l AS l, p.record_id_r AS r, p.match_probability AS p
            FROM {pairs} p
            JOIN {records} a ON a.record_id = p.record_id_l
            JOIN {records} b ON b.record_id = p.record_id_r
            WHERE a.{key} = b.{key}
        )
        SELECT record_id, max(p) AS cluster_match_probability
        FROM (SELECT l AS record_id, p FROM inside UNION ALL SELECT r, p FROM inside)
        GROUP BY record_id
    """


def format_golden_id(seq: int) -> str:
    """The golden id of sequence number ``seq`` (same as the SQL)."""
    return f"G{seq:09d}"


def _previous_tables(con: duckdb.DuckDBPyConnection, prev: PreviousIds) -> int:
    """Create ``gi_old`` and ``gi_registry``; return the sequence's last value."""
    if prev.members:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE gi_old AS "
            f"SELECT record_id, golden_id FROM {prev.members}"
        )
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE gi_old (record_id BIGINT, golden_id VARCHAR)")
    registry = (
        f"SELECT golden_id, seq, created_run, retired_run, successor FROM {prev.registry}"
        if prev.registry
        else "SELECT NULL::VARCHAR AS golden_id, NULL::BIGINT AS seq, NULL::INTEGER AS "
        "created_run, NULL::INTEGER AS retired_run, NULL::VARCHAR AS successor WHERE false"
    )
    # ids published before the registry existed (older stores) join it, creation run unknown
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE gi_registry AS
        {registry}
        UNION ALL
        SELECT DISTINCT golden_id, NULL, NULL, NULL, NULL FROM gi_old
        WHERE golden_id NOT IN (SELECT golden_id FROM ({registry}))
    """)
    last = ["(SELECT coalesce(max(seq), 0) FROM gi_registry)"]
    if prev.sequence:
        last.append(f"(SELECT coalesce(max(last_value), 0) FROM {prev.sequence})")
    return int(con.sql(f"SELECT greatest({', '.join(last)})").fetchall()[0][0])


def _greedy_match(con: duckdb.DuckDBPyConnection) -> int:
    """Fill ``gi_match`` (cluster_key, golden_id) from ``gi_overlap``; return the rounds."""
    con.execute("CREATE OR REPLACE TEMP TABLE gi_match (cluster_key BIGINT, golden_id VARCHAR)")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE gi_work AS "
        "SELECT cluster_key, golden_id, prio FROM gi_overlap"
    )
    rounds = 0
    while True:
        con.execute("""
            CREATE OR REPLACE TEMP TABLE gi_round AS
            SELECT cluster_key, golden_id FROM gi_work
            QUALIFY prio = min(prio) OVER (PARTITION BY cluster_key)
                AND prio = min(prio) OVER (PARTITION BY golden_id)
        """)
        taken = int(con.sql("SELECT count(*) FROM gi_round").fetchall()[0][0])
        if taken == 0:
            break
        rounds += 1
        con.execute("INSERT INTO gi_match SELECT * FROM gi_round")
        con.execute("""
            DELETE FROM gi_work WHERE cluster_key IN (SELECT cluster_key FROM gi_round)
                OR golden_id IN (SELECT golden_id FROM gi_round)
        """)
    for table in ("gi_work", "gi_round"):
        con.execute(f"DROP TABLE {table}")
    return rounds


def assign_golden_ids(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: int,
    clusters: str,
    norm: str,
    previous: PreviousIds,
    out: str,
    registry_out: str,
    sequence_out: str,
    events_out: str,
    pairs: str | None = None,
) -> dict[str, int]:
    """Give every cluster of ``clusters`` (record_id, cluster_key) its golden id.

    Writes ``out`` (record_id, source, source_record_id, golden_id,
    cluster_match_probability: the record's best edge in ``pairs`` to another member of
    its cluster; it is the published crosswalk), the whole registry
    ``registry_out`` (golden_id, seq, created_run, retired_run, successor), the
    sequence's new high-water mark ``sequence_out`` and this run's ``events_out``.
    """
    last_seq = _previous_tables(con, previous)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE gi_new AS
        SELECT c.record_id, c.cluster_key, n.source, n.source_record_id,
               n.source || chr(1) || n.source_record_id AS sk
        FROM {clusters} c JOIN {norm} n USING (record_id)
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE gi_overlap AS
        WITH o AS (
            SELECT n.cluster_key, o.golden_id, count(*) AS n, min(n.sk) AS first_key
            FROM gi_new n JOIN gi_old o USING (record_id)
            GROUP BY n.cluster_key, o.golden_id
        )
        SELECT o.*, coalesce(r.created_run, 0) AS created_run,
               row_number() OVER (ORDER BY o.n DESC, coalesce(r.created_run, 0), o.first_key)
                   AS prio
        FROM o LEFT JOIN gi_registry r USING (golden_id)
    """)
    rounds = _greedy_match(con)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE gi_assign AS
        WITH anchors AS (SELECT cluster_key, min(sk) AS anchor FROM gi_new GROUP BY cluster_key),
        fresh AS (
            SELECT cluster_key,
                   {last_seq} + row_number() OVER (ORDER BY anchor) AS seq
            FROM anchors WHERE cluster_key NOT IN (SELECT cluster_key FROM gi_match)
        )
        SELECT cluster_key, golden_id, NULL::BIGINT AS seq FROM gi_match
        UNION ALL
        SELECT cluster_key, {ID_SQL.format("seq")}, seq FROM fresh
    """)
    best = (
        best_edge_sql("gi_new", "cluster_key", pairs)
        if pairs
        else "SELECT NULL::BIGINT AS record_id, NULL::DOUBLE AS cluster_match_probability"
    )
    con.execute(f"""
        CREATE TABLE {out} AS
        SELECT n.record_id, n.source, n.source_record_id, a.golden_id,
               b.cluster_match_probability
        FROM gi_new n JOIN gi_assign a USING (cluster_key) LEFT JOIN ({best}) b USING (record_id)
    """)
    _events(con, run_id=run_id, out=events_out)
    con.execute(
        f"""
        CREATE TABLE {registry_out} AS
        SELECT r.golden_id, r.seq, r.created_run,
               CASE WHEN e.golden_id IS NOT NULL THEN $run ELSE r.retired_run END
                   AS retired_run,
               CASE WHEN e.golden_id IS NOT NULL THEN e.related_golden_id ELSE r.successor END
                   AS successor
        FROM gi_registry r
        LEFT JOIN (SELECT golden_id, related_golden_id FROM {events_out}
                   WHERE event IN ('MERGED_INTO', 'RETIRED')) e USING (golden_id)
        UNION ALL
        SELECT golden_id, seq, $run, NULL, NULL FROM gi_assign WHERE seq IS NOT NULL
    """,
        {"run": run_id},
    )
    new_ids = int(con.sql("SELECT count(*) FROM gi_assign WHERE seq IS NOT NULL").fetchall()[0][0])
    con.execute(
        f"CREATE TABLE {sequence_out} AS SELECT $v::BIGINT AS last_value, $run AS run_id",
        {"v": last_seq + new_ids, "run": run_id},
    )
    counts = {
        f"events_{event.lower()}": int(n)
        for event, n in con.sql(
            f"SELECT event, count(*) FROM {events_out} GROUP BY event ORDER BY event"
        ).fetchall()
    }
    golden = int(con.sql("SELECT count(*) FROM gi_assign").fetchall()[0][0])
    for table in ("gi_new", "gi_old", "gi_overlap", "gi_match", "gi_assign", "gi_registry"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    log.info("golden ids: %d clusters, %d new ids, %d matching rounds", golden, new_ids, rounds)
    return {"clusters": golden, "new_golden_ids": new_ids, "id_matching_rounds": rounds, **counts}


def _events(con: duckdb.DuckDBPyConnection, *, run_id: int, out: str) -> None:
    """This run's events from ``gi_*``: created, split, merged, retired, moved."""
    con.execute(
        f"""
        CREATE TABLE {out} AS
        WITH
        -- overlaps with the new id they went to; k: most records first (then the older
        -- id, then the smallest member key)
        ov AS (
            SELECT o.golden_id AS old_id, a.golden_id AS new_id, a.seq IS NOT NULL AS is_new,
                   o.prio AS k
            FROM gi_overlap o JOIN gi_assign a USING (cluster_key)
        ),
        retired AS (
            SELECT o.golden_id, s.successor
            FROM (SELECT DISTINCT golden_id FROM gi_old) o
            LEFT JOIN (SELECT old_id, arg_min(new_id, k) AS successor FROM ov GROUP BY old_id) s
                ON s.old_id = o.golden_id
            WHERE o.golden_id NOT IN (SELECT golden_id FROM gi_match)
        ),
        fresh AS (SELECT golden_id, seq FROM gi_assign WHERE seq IS NOT NULL),
        split AS (
            SELECT new_id, arg_min(old_id, k) AS from_id FROM ov WHERE is_new GROUP BY new_id
        ),
        moved AS (
            SELECT n.source, n.source_record_id, a.golden_id AS new_id, o.golden_id AS old_id
            FROM gi_new n JOIN gi_old o USING (record_id) JOIN gi_assign a USING (cluster_key)
            WHERE a.golden_id <> o.golden_id
        ),
        ev AS (
            SELECT 'CREATED' AS event, golden_id, NULL AS related_golden_id, NULL AS source,
                   NULL AS source_record_id FROM fresh
            UNION ALL SELECT 'SPLIT_FROM', new_id, from_id, NULL, NULL FROM split
            UNION ALL SELECT CASE WHEN successor IS NULL THEN 'RETIRED' ELSE 'MERGED_INTO' END,
                   golden_id, successor, NULL, NULL FROM retired
            UNION ALL SELECT 'RECORD_MOVED', new_id, old_id, source, source_record_id FROM moved
        )
        SELECT $run::INTEGER AS run_id, event::VARCHAR AS event, golden_id::VARCHAR AS golden_id,
               related_golden_id::VARCHAR AS related_golden_id, source::VARCHAR AS source,
               source_record_id::VARCHAR AS source_record_id,
               current_localtimestamp()::TIMESTAMP AS created_at
        FROM ev
    """,
        {"run": run_id},
    )

"""Golden ids for clusters, independent of Splink's cluster ids and of input row order.

The id of a cluster is derived from its smallest member key ``(source, source_record_id)``.
(The persistent, overlap-matched id sequence across runs comes with survivorship work.)
"""

from __future__ import annotations

import duckdb


def assign_golden_ids(con: duckdb.DuckDBPyConnection, *, clusters: str, norm: str, out: str) -> int:
    """Write ``out`` (record_id, source, source_record_id, golden_id); return cluster count."""
    con.execute(f"""
        CREATE TABLE {out} AS
        WITH members AS (
            SELECT c.record_id, c.cluster_key, n.source, n.source_record_id
            FROM {clusters} c JOIN {norm} n USING (record_id)
        ),
        anchor AS (
            SELECT cluster_key, min((source, source_record_id)) AS k
            FROM members GROUP BY cluster_key
        )
        SELECT m.record_id, m.source, m.source_record_id,
               'G' || upper(substr(md5(a.k[1] || chr(31) || a.k[2]), 1, 14)) AS golden_id
        FROM members m JOIN anchor a USING (cluster_key)
        ORDER BY golden_id, m.source, m.source_record_id
    """)
    return int(con.sql(f"SELECT count(DISTINCT golden_id) FROM {out}").fetchall()[0][0])

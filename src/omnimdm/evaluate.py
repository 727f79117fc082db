"""Accuracy against ground truth: pairwise precision, recall and F1 from final clusters.

Pairs are counted set-based (``n*(n-1)/2`` per group), never enumerated, so evaluation is
cheap at millions of records.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from omnimdm.errors import SourceError


@dataclass(frozen=True)
class Metrics:
    records: int
    true_pairs: int
    predicted_pairs: int
    true_positive_pairs: int
    precision: float
    recall: float
    f1: float
    predicted_entities: int
    true_entities: int
    records_without_truth: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def load_truth(con: duckdb.DuckDBPyConnection, path: Path, table: str = "truth") -> None:
    """Load ``truth.csv`` (source, source_record_id, person_id[, household_id])."""
    if not path.exists():
        raise SourceError(
            "truth file not found",
            path=str(path),
            fix="pass the truth.csv written by `omnimdm synth`",
        )
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM "
            "read_csv($p, all_varchar = true, header = true)",
            {"p": str(path)},
        )
    except duckdb.Error as err:
        raise SourceError(f"cannot read truth file: {err}", path=str(path)) from None
    cols = {r[0] for r in con.sql(f"DESCRIBE {table}").fetchall()}
    missing = {"source", "source_record_id", "person_id"} - cols
    if missing:
        raise SourceError(
            f"truth file lacks columns {sorted(missing)}; found {sorted(cols)}",
            path=str(path),
            fix="columns: source,source_record_id,person_id",
        )


def pairwise_metrics(con: duckdb.DuckDBPyConnection, predicted: str, truth: str) -> Metrics:
    """Compare ``predicted`` (source, source_record_id, golden_id) with ``truth``."""
    row = con.sql(f"""
        WITH j AS (
            SELECT p.golden_id, t.person_id
            FROM {predicted} p JOIN {truth} t USING (source, source_record_id)
        ),
        pred AS (SELECT count(*) AS n FROM j GROUP BY golden_id),
        tru AS (SELECT count(*) AS n FROM j GROUP BY person_id),
        both_ AS (SELECT count(*) AS n FROM j GROUP BY golden_id, person_id)
        SELECT (SELECT count(*) FROM j),
               (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM tru),
               (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM pred),
               (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM both_),
               (SELECT count(*) FROM pred), (SELECT count(*) FROM tru),
               (SELECT count(*) FROM {predicted} p ANTI JOIN {truth} t
                   USING (source, source_record_id))
    """).fetchall()[0]
    records, true_pairs, pred_pairs, tp = (int(v) for v in row[:4])
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Metrics(
        records=records,
        true_pairs=true_pairs,
        predicted_pairs=pred_pairs,
        true_positive_pairs=tp,
        precision=round(precision, 6),
        recall=round(recall, 6),
        f1=round(f1, 6),
        predicted_entities=int(row[4]),
        true_entities=int(row[5]),
        records_without_truth=int(row[6]),
    )


def evaluate_snapshot(snapshot: duckdb.DuckDBPyConnection, truth_path: Path) -> Metrics:
    """Metrics of the published crosswalk in a snapshot connection against a truth file."""
    mem = duckdb.connect()
    try:
        load_truth(mem, truth_path)
        arrow = snapshot.sql(
            "SELECT source, source_record_id, golden_id FROM crosswalk"
        ).to_arrow_table()
        mem.register("crosswalk_arrow", arrow)
        return pairwise_metrics(mem, "crosswalk_arrow", "truth")
    finally:
        mem.close()

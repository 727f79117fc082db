"""Accuracy against ground truth: pairwise precision, recall and F1 from final clusters.

Pairs are counted set-based (``n*(n-1)/2`` per group), never enumerated, so evaluation is
cheap at millions of records.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from omnimdm.config import MatchingConfig
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


def extended_metrics(
    con: duckdb.DuckDBPyConnection, predicted: str, truth: str, names: str | None = None
) -> dict[str, float | int | None]:
    """B-cubed precision/recall, false-merge rate and hard-negative merge rates.

    ``predicted`` has (source, source_record_id, golden_id); ``truth`` has person_id and
    household_id; ``names`` (optional) has (source, source_record_id, full_name_key) to
    find same-name persons inside a household (a parent and child with one name): two
    members are same-name when any record of one carries the key of any record of the other.
    """
    joined = (
        "SELECT p.golden_id, t.person_id, nullif(t.household_id, '') AS household_id, "
        f"p.source, p.source_record_id FROM {predicted} p JOIN {truth} t "
        "USING (source, source_record_id)"
    )
    row = con.sql(f"""
        WITH j AS ({joined}),
        cp AS (SELECT golden_id, person_id, count(*) AS n FROM j GROUP BY ALL),
        c AS (SELECT golden_id, sum(n) AS n, count(*) AS persons FROM cp GROUP BY golden_id),
        p AS (SELECT person_id, sum(n) AS n FROM cp GROUP BY person_id)
        SELECT
            (SELECT sum(cp.n * cp.n / c.n) FROM cp JOIN c USING (golden_id))
                / (SELECT count(*) FROM j) AS bcubed_precision,
            (SELECT sum(cp.n * cp.n / p.n) FROM cp JOIN p USING (person_id))
                / (SELECT count(*) FROM j) AS bcubed_recall,
            (SELECT avg((persons > 1)::INT) FROM c) AS false_merge_rate
    """).fetchall()[0]
    out: dict[str, float | int | None] = {
        "bcubed_precision": round(float(row[0]), 6),
        "bcubed_recall": round(float(row[1]), 6),
        "false_merge_rate": round(float(row[2]), 6),
    }
    # same-name persons: two members of one household with records that carry one name key
    # (a son named after his father); decided per person pair, so every record pair of
    # those two persons counts as a same-name pair, including records that lack a surname
    same_name_persons = (
        f"""SELECT DISTINCT a.person_id AS pa, b.person_id AS pb
            FROM j a JOIN j b ON a.household_id = b.household_id AND a.person_id < b.person_id
            JOIN {names} na ON na.source = a.source AND na.source_record_id = a.source_record_id
            JOIN {names} nb ON nb.source = b.source AND nb.source_record_id = b.source_record_id
            WHERE na.full_name_key = nb.full_name_key"""
        if names
        else "SELECT NULL AS pa, NULL AS pb WHERE false"
    )
    hh = con.sql(f"""
        WITH j AS ({joined}), snp AS ({same_name_persons})
        SELECT count(*) FILTER (NOT sn) AS hh_pairs,
               count(*) FILTER (NOT sn AND merged) AS hh_merged,
               count(*) FILTER (sn) AS same_name_pairs,
               count(*) FILTER (sn AND merged) AS same_name_merged
        FROM (
            SELECT a.golden_id = b.golden_id AS merged, snp.pa IS NOT NULL AS sn
            FROM j a JOIN j b ON a.household_id = b.household_id
                 AND a.person_id < b.person_id
            LEFT JOIN snp ON snp.pa = a.person_id AND snp.pb = b.person_id
        )
    """).fetchall()[0]
    hh_pairs, hh_merged, sn_pairs, sn_merged = (int(v) for v in hh)
    out.update(
        {
            "household_pairs": hh_pairs,
            "household_pairs_merged_rate": round(hh_merged / hh_pairs, 6) if hh_pairs else None,
            "same_name_household_pairs": sn_pairs,
            "same_name_household_pairs_merged_rate": round(sn_merged / sn_pairs, 6)
            if sn_pairs
            else None,
        }
    )
    return out


def blocking_recall(
    con: duckdb.DuckDBPyConnection,
    matching: MatchingConfig,
    *,
    norm: str = "norm_customers",
    truth: str = "truth",
) -> dict[str, object]:
    """Share of true pairs that reach scoring: some blocking rule of the model holds for
    the pair on the match stage's own input (capped broad keys included), and the share
    each rule alone catches. True pairs are enumerated here (one row each), so this is for
    benchmarks, not for every run."""
    from omnimdm.match.model import prepare_input
    from omnimdm.match.model_spec import load_model_spec

    mem, _ = prepare_input(con, matching, norm=norm)
    try:
        ids = con.sql(
            f"SELECT n.record_id, t.person_id FROM {norm} n "
            f"JOIN {truth} t USING (source, source_record_id)"
        ).to_arrow_table()
        mem.register("ids_arrow", ids)
        mem.execute(
            "CREATE TEMP TABLE true_pairs AS SELECT a.record_id AS l, b.record_id AS r "
            "FROM ids_arrow a JOIN ids_arrow b "
            "ON a.person_id = b.person_id AND a.record_id < b.record_id"
        )
        conditions = {}
        for rule in load_model_spec(matching.model).blocking:
            parts = [
                f"array_length(array_intersect(x.{c}, y.{c})) > 0"
                if rule.explode
                else f"x.{c} = y.{c}"
                for c in rule.columns
            ]
            conditions[rule.label] = " AND ".join(parts)
        counts = ", ".join(
            f"count(*) FILTER (coalesce({cond}, false))" for cond in conditions.values()
        )
        any_rule = " OR ".join(f"coalesce({cond}, false)" for cond in conditions.values())
        row = mem.sql(
            f"SELECT count(*), count(*) FILTER ({any_rule}), {counts} FROM true_pairs p "
            "JOIN customers x ON x.record_id = p.l JOIN customers y ON y.record_id = p.r"
        ).fetchall()[0]
    finally:
        mem.close()
    total, reached = int(row[0]), int(row[1])
    return {
        "true_pairs": total,
        "true_pairs_blocked": reached,
        "blocking_recall": round(reached / total, 6) if total else 1.0,
        "true_pairs_per_rule": dict(zip(conditions, (int(v) for v in row[2:]), strict=True)),
    }

"""Per-comparison match weights for any two records, with the saved model.

Splink's record-to-record scorer (``compare_records``, what ``compare_two_records`` became
in Splink 5) runs the model's comparison SQL on the two canonical rows, with no blocking,
so pairs that were never blocked together can be explained too. Term-frequency values are
taken from the published canonical table, the same way the match stage computed them, so
the total equals the run's score for a pair it scored. Nothing is trained: the model comes
from the store's ``models`` table and the scorer's SQL is built once per process.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from omnimdm.config import MatchingConfig
from omnimdm.errors import ReviewError
from omnimdm.match.settings import capped_keys, column_sql
from omnimdm.store import record_id


@dataclass(frozen=True)
class ComparisonPart:
    """One comparison of a scored pair: the level reached and its weight (bits)."""

    comparison: str
    level: str
    gamma: int
    match_weight: float
    tf_adjustment: float

    @property
    def total(self) -> float:
        return self.match_weight + self.tf_adjustment


@dataclass(frozen=True)
class PairExplanation:
    """A pair's score as a waterfall: prior, then one part per comparison."""

    record_id_l: int
    record_id_r: int
    prior_weight: float
    parts: list[ComparisonPart]
    match_weight: float
    match_probability: float


def latest_model(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    rows = con.sql("SELECT model_json FROM models ORDER BY run_id DESC LIMIT 1").fetchall()
    if not rows:
        raise ReviewError("the store has no saved model yet; run `omnimdm run` first")
    return dict(json.loads(rows[0][0]))


class PairScorer:
    """Scores record pairs with one saved model; build it once and reuse it."""

    def __init__(self, model: dict[str, Any], matching: MatchingConfig | None = None) -> None:
        from splink import DuckDBAPI, SettingsCreator

        matching = matching or MatchingConfig.model_validate({})
        self.column_sql = column_sql(matching, prefix="n.")
        self.capped_keys = tuple(capped_keys(matching))

        self.model = {k: v for k, v in model.items() if k != "omnimdm_fingerprint"}
        self.cache_key = f"omnimdm-explain-{model.get('omnimdm_fingerprint', '')}"
        settings = SettingsCreator.from_path_or_dict(self.model).get_settings("duckdb")
        self.labels: dict[tuple[str, int], str] = {}
        self.comparisons: list[str] = []
        self.tf_columns: list[str] = []
        for comparison in settings.comparisons:
            name = comparison.output_column_name
            self.comparisons.append(name)
            for level in comparison.comparison_levels:
                self.labels[(name, level.comparison_vector_value)] = str(level.label_for_charts)
                column = level._tf_adjustment_input_column_name
                if column and column not in self.tf_columns:
                    self.tf_columns.append(str(column))
        prior = float(settings._probability_two_random_records_match)
        self.prior_weight = math.log2(prior / (1 - prior))
        self._mem = duckdb.connect(config={"autoinstall_known_extensions": "false"})
        self._api = DuckDBAPI(connection=self._mem)

    def _rows(self, con: duckdb.DuckDBPyConnection, ids: Sequence[int], norm: str) -> pa.Table:
        """Model columns (plus term frequencies) of ``ids`` in order, with ``pair_no``."""
        cols = self.column_sql
        blocks = ", ".join(f"NULL::VARCHAR AS {name}" for name in self.capped_keys)
        tf_joins, tf_cols = [], []
        for i, col in enumerate(self.tf_columns):
            tf_joins.append(
                f"LEFT JOIN (SELECT {col} AS v, count(*) / (SELECT count({col}) FROM {norm}) "
                f"AS tf FROM {norm} WHERE {col} IN (SELECT {col} FROM wanted_rows) GROUP BY 1) "
                f"tf{i} ON tf{i}.v = n.{col}"
            )
            tf_cols.append(f"tf{i}.tf::DOUBLE AS tf_{col}")
        con.register(
            "wanted",
            pa.table(
                {
                    "pair_no": pa.array(range(len(ids)), pa.int64()),
                    "record_id": pa.array(ids, pa.int64()),
                }
            ),
        )
        try:
            return con.sql(
                f"""WITH wanted_rows AS (SELECT n.* FROM {norm} n SEMI JOIN wanted w
                        ON w.record_id = n.record_id)
                SELECT w.pair_no, {cols}, {blocks}{"".join(", " + c for c in tf_cols)}
                FROM wanted w JOIN wanted_rows n ON n.record_id = w.record_id
                {" ".join(tf_joins)} ORDER BY w.pair_no"""
            ).to_arrow_table()
        finally:
            con.unregister("wanted")

    def explain(
        self,
        con: duckdb.DuckDBPyConnection,
        pairs: Sequence[tuple[int, int]],
        norm: str = "norm_customers",
    ) -> list[PairExplanation | None]:
        """One explanation per pair of record ids (None where a record is not in ``norm``)."""
        from splink.internals.realtime import compare_records

        if not pairs:
            return []
        left = self._rows(con, [a for a, _ in pairs], norm)
        right = self._rows(con, [b for _, b in pairs], norm)
        if left.num_rows == 0 or right.num_rows == 0:
            return [None] * len(pairs)
        scored = compare_records(
            left,
            right,
            self.model,
            self._api,
            sql_cache_key=self.cache_key,
            join_condition="l.pair_no = r.pair_no",
        )
        try:
            rows = scored.as_record_list()
        finally:
            scored.drop_table_from_database_and_remove_from_cache(force_non_splink_table=True)
        by_ids = {(int(r["record_id_l"]), int(r["record_id_r"])): r for r in rows}
        out: list[PairExplanation | None] = []
        for a, b in pairs:
            row = by_ids.get((a, b))
            out.append(None if row is None else self._explanation(row))
        return out

    def _explanation(self, row: dict[str, Any]) -> PairExplanation:
        parts = []
        for name in self.comparisons:
            gamma = int(row[f"gamma_{name}"])
            parts.append(
                ComparisonPart(
                    comparison=name,
                    level=self.labels.get((name, gamma), str(gamma)),
                    gamma=gamma,
                    match_weight=float(row.get(f"mw_{name}") or 0.0),
                    tf_adjustment=float(row.get(f"mw_tf_adj_{name}") or 0.0),
                )
            )
        return PairExplanation(
            record_id_l=int(row["record_id_l"]),
            record_id_r=int(row["record_id_r"]),
            prior_weight=self.prior_weight,
            parts=parts,
            match_weight=float(row["match_weight"]),
            match_probability=float(row["match_probability"]),
        )

    def close(self) -> None:
        self._mem.close()


def explain_keys(
    con: duckdb.DuckDBPyConnection, scorer: PairScorer, a: tuple[str, str], b: tuple[str, str]
) -> PairExplanation | None:
    """Explain one pair named by ``(source, source_record_id)`` keys."""
    return scorer.explain(con, [(record_id(*a), record_id(*b))])[0]

"""The matching model as data: a YAML definition turned into Splink 5 creators here, and
only here.

The packaged ``customer_model.yaml`` is the default; ``matching.model`` in the config
points at another file. Comparisons, blocking rules and the blocks that training uses are
plain data; Splink renders them to SQL for a dialect only when a linker is built, and SQL
levels are written in DuckDB SQL and translated by sqlglot for Spark (scale-out stays
open).
"""

from __future__ import annotations

from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import splink.comparison_level_library as cll
import splink.comparison_library as cl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from splink import block_on
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.comparison_level_creator import ComparisonLevelCreator

from omnimdm.errors import ConfigError

DEFAULT_MODEL = "customer_model.yaml"
#: the dialect SQL levels are written in
BASE_DIALECT = "duckdb"


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LevelSpec(_Spec):
    """One comparison level."""

    kind: Literal["missing", "exact", "jaro_winkler", "sql", "all_of", "else"]
    column: str | None = Field(None, description="column compared (missing, exact, jaro_winkler)")
    sql: str | None = Field(None, description="DuckDB SQL condition over <col>_l / <col>_r")
    label: str | None = Field(None, description="label in charts and explanations (sql)")
    threshold: float | None = Field(None, gt=0, le=1, description="Jaro-Winkler similarity")
    tf: bool = Field(False, description="term-frequency adjusted (exact)")
    missing: bool = Field(False, description="this sql level means 'not comparable'")
    all_of: list[LevelSpec] = Field(
        default_factory=list, description="levels that must all hold (all_of)"
    )
    m: float | None = Field(None, gt=0, le=1, description="fixed m probability")
    u: float | None = Field(None, gt=0, le=1, description="fixed u probability")

    @model_validator(mode="after")
    def _needs(self) -> LevelSpec:
        need = {
            "missing": ("column",),
            "exact": ("column",),
            "jaro_winkler": ("column", "threshold"),
            "sql": ("sql",),
            "all_of": (),
            "else": (),
        }[self.kind]
        missing = [f for f in need if getattr(self, f) is None]
        if self.kind == "all_of" and len(self.all_of) < 2:
            missing.append("two or more levels under all_of")
        if missing:
            raise ValueError(f"a {self.kind!r} level needs {', '.join(missing)}")
        if (self.m is None) != (self.u is None):
            raise ValueError("fix both m and u, or neither")
        return self


class ComparisonSpec(_Spec):
    """One comparison: explicit levels, or a stock exact / Jaro-Winkler comparison."""

    name: str = Field(description="output column name of the comparison")
    kind: Literal["levels", "exact", "jaro_winkler"] = "levels"
    column: str | None = Field(None, description="column (exact, jaro_winkler)")
    thresholds: list[float] = Field(default_factory=list, description="Jaro-Winkler bands")
    tf: bool = Field(False, description="term-frequency adjusted exact level")
    levels: list[LevelSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _shape(self) -> ComparisonSpec:
        if self.kind == "levels":
            if len(self.levels) < 2 or self.levels[-1].kind != "else":
                raise ValueError("a comparison needs at least two levels, the last one 'else'")
        elif self.column is None:
            raise ValueError(f"a {self.kind!r} comparison needs a column")
        elif self.kind == "jaro_winkler" and not self.thresholds:
            raise ValueError("a jaro_winkler comparison needs thresholds")
        return self


class BlockingSpec(_Spec):
    """One blocking rule: records agreeing on every column are compared."""

    columns: list[str] = Field(min_length=1)
    explode: bool = Field(False, description="the columns are lists: agree on any element")

    @property
    def label(self) -> str:
        """The rule's name in reports: its columns joined with ``+``."""
        return "+".join(self.columns)


class TrainingSpec(_Spec):
    """Blocks used to train: deterministic rules for the prior, EM sessions for m."""

    prior_rules: list[list[str]] = Field(min_length=1)
    em_sessions: list[list[str]] = Field(min_length=1)


class ModelSpec(_Spec):
    """A whole matching model definition."""

    columns: list[str] = Field(min_length=2)
    derived: dict[str, str] = Field(
        default_factory=dict, description="columns computed from canonical ones (name -> SQL)"
    )
    capped_keys: dict[str, str] = Field(default_factory=dict)
    comparisons: list[ComparisonSpec] = Field(min_length=1)
    blocking: list[BlockingSpec] = Field(min_length=1)
    training: TrainingSpec

    @model_validator(mode="after")
    def _known_columns(self) -> ModelSpec:
        known = set(self.columns) | set(self.capped_keys)
        used = [c for b in self.blocking for c in b.columns]
        used += [
            c for t in (self.training.prior_rules, self.training.em_sessions) for r in t for c in r
        ]
        for comp in self.comparisons:
            used += [comp.column] if comp.column else []
            levels = list(comp.levels)
            while levels:
                lv = levels.pop()
                used += [lv.column] if lv.column else []
                levels += lv.all_of
        unknown = sorted(set(used) - known)
        if unknown:
            raise ValueError(f"columns not in `columns` or `capped_keys`: {unknown}")
        if "record_id" not in self.columns:
            raise ValueError("`columns` must include record_id")
        return self


def _level(spec: LevelSpec) -> Any:
    level: ComparisonLevelCreator
    if spec.kind == "missing":
        level = cll.NullLevel(str(spec.column))
    elif spec.kind == "exact":
        level = cll.ExactMatchLevel(str(spec.column), term_frequency_adjustments=spec.tf)
    elif spec.kind == "jaro_winkler":
        level = cll.JaroWinklerLevel(str(spec.column), float(spec.threshold or 0))
    elif spec.kind == "sql":
        level = cll.CustomLevel(
            str(spec.sql), label_for_charts=spec.label, base_dialect_str=BASE_DIALECT
        )
        if spec.missing:
            level = level.configure(is_null_level=True)
    elif spec.kind == "all_of":
        level = cll.And(*(_level(sub) for sub in spec.all_of))
        if spec.label:
            level = level.configure(label_for_charts=spec.label)
    else:
        level = cll.ElseLevel()
    if spec.m is not None:
        level = level.configure(
            m_probability=spec.m,
            u_probability=spec.u,
            fix_m_probability=True,
            fix_u_probability=True,
        )
    return level


def comparison(spec: ComparisonSpec) -> Any:
    """The Splink comparison creator of one comparison spec."""
    if spec.kind == "exact":
        return cl.ExactMatch(str(spec.column))
    if spec.kind == "jaro_winkler":
        comp = cl.JaroWinklerAtThresholds(str(spec.column), spec.thresholds)
        return comp.configure(term_frequency_adjustments=True) if spec.tf else comp
    return cl.CustomComparison(
        output_column_name=spec.name,
        comparison_levels=[_level(lv) for lv in spec.levels],
    )


def blocking_rule(spec: BlockingSpec) -> BlockingRuleCreator:
    if spec.explode:
        return block_on(*spec.columns, arrays_to_explode=list(spec.columns))
    return block_on(*spec.columns)


def _problems(err: ValidationError) -> list[str]:
    return [
        f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in err.errors()
    ]


def parse_model(data: Any, origin: str) -> ModelSpec:
    """Validate a model definition; every problem is reported with its path."""
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: a model definition is a YAML mapping")
    try:
        return ModelSpec.model_validate(data)
    except ValidationError as err:
        raise ConfigError(f"{origin}: invalid model definition", _problems(err)) from None


@cache
def _packaged() -> ModelSpec:
    text = resources.files("omnimdm.match").joinpath(DEFAULT_MODEL).read_text("utf-8")
    return parse_model(yaml.safe_load(text), f"omnimdm/match/{DEFAULT_MODEL}")


def load_model_spec(path: Path | None = None) -> ModelSpec:
    """The model definition at ``path``, or the packaged default customer model.

    A file is read and validated once per version (path, modification time, size): a run
    asks for the model from several places and all of them see the same definition."""
    if path is None:
        return _packaged()
    try:
        stat = path.stat()
    except OSError as err:
        raise _unreadable(path, err) from None
    return _model_file(path, stat.st_mtime_ns, stat.st_size)


def _unreadable(path: Path, err: OSError) -> ConfigError:
    return ConfigError(
        f"model definition {path} cannot be read ({err.strerror or err}); fix "
        "`matching.model` in the config or remove it to use the default model"
    )


@lru_cache(maxsize=16)
def _model_file(path: Path, mtime_ns: int, size: int) -> ModelSpec:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise _unreadable(path, err) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    return parse_model(data, str(path))

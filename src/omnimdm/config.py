"""Configuration: pydantic models of ``configs/*.yaml``.

Every model forbids unknown keys, so a typo is an error rather than a silently ignored
setting. :func:`load_config` collects every problem and raises one :class:`ConfigError`.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from omnimdm.errors import ConfigError

SourceKind = Literal["crm", "ecommerce", "pos", "callcenter", "other"]
SourceFormat = Literal["csv", "json", "jsonl", "parquet"]
SourceMode = Literal["snapshot", "delta"]
#: survivorship rules (see :mod:`omnimdm.survive.rules`); ``collect`` only heads a chain
SurvivorshipRule = Literal[
    "source_priority",
    "most_recent",
    "most_frequent",
    "most_complete",
    "longest",
    "valid_first",
    "collect",
]
#: rules that rank one candidate value against another (every rule but ``collect``)
RankingRule = Literal[
    "source_priority", "most_recent", "most_frequent", "most_complete", "longest", "valid_first"
]

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
DEFAULT_CONFIG_PATH = Path("configs/omnimdm.yaml")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MappingConfig(_Model):
    """Column mapping for a source without a preset: canonical field -> file column."""

    columns: dict[str, str | list[str]] = Field(
        description="input field (e.g. source_record_id, given_name, email) -> column name, "
        "or a list of columns joined with spaces (street: [street_number, address_1])"
    )


class SourceConfig(_Model):
    """One channel export."""

    name: str = Field(description="short source name used in SOURCE:SOURCE_RECORD_ID keys")
    kind: SourceKind = Field(description="channel kind: crm, ecommerce, pos, callcenter, other")
    path: Path = Field(description="file path; relative paths resolve from the config file")
    preset: str | None = Field(None, description="vendor preset, e.g. salesforce_contacts")
    mapping: MappingConfig | None = Field(None, description="generic column mapping")
    format: SourceFormat | None = Field(None, description="file format; default from extension")
    encoding: Literal["utf-8", "windows-1252", "latin-1"] = Field(
        "utf-8",
        description="text encoding; windows-1252 (Spanish Excel) is transcoded while streaming",
    )
    delimiter: str | None = Field(None, description="CSV delimiter; default from the preset")
    trust: float = Field(0.5, ge=0, le=1, description="trust for source_priority rules")
    mode: SourceMode = Field(
        "snapshot",
        description="snapshot: the file is the full list (missing records retire); "
        "delta: the file only adds or updates records",
    )
    default_region: str = Field(
        "ES", pattern=r"^[A-Z]{2}$", description="ISO-2 region for national phones"
    )
    country: str | None = Field(
        None, pattern=r"^[A-Z]{2}$", description="ISO-2 country of records that carry none"
    )
    currency: str | None = Field(
        None, pattern=r"^[A-Z]{3}$", description="ISO-4217 currency of amounts in this file"
    )
    decimal_separator: Literal[".", ","] = Field(
        ".", description="decimal separator of amounts ('1.234,56' needs ',')"
    )
    date_formats: dict[str, list[str]] = Field(
        default_factory=dict,
        description="input field -> strptime formats tried in order (overrides the preset)",
    )

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError(
                "must be lower-case letters, digits and '_', starting with a letter "
                "(at most 40 characters)"
            )
        return value

    def resolved_format(self) -> SourceFormat:
        if self.format:
            return self.format
        suffixes = [s.lower() for s in self.path.suffixes if s.lower() != ".gz"]
        ext = suffixes[-1].lstrip(".") if suffixes else ""
        if ext in ("csv", "tsv", "txt"):
            return "csv"
        if ext in ("json", "jsonl", "parquet"):
            return ext  # type: ignore[return-value]
        if ext == "ndjson":
            return "jsonl"
        return "csv"


class TrainingConfig(_Model):
    """How the Fellegi-Sunter model is estimated."""

    seed: int = Field(42, description="seed for u-sampling (deterministic training)")
    u_max_pairs: int = Field(2_000_000, gt=0, description="pairs sampled to estimate u")
    prior_recall: float = Field(
        0.7, gt=0, le=1, description="assumed recall of the deterministic rules for the prior"
    )


class NormalizeConfig(_Model):
    """Normalization settings."""

    shared_value_max_records: int = Field(
        10,
        gt=1,
        description="an email or phone carried by more records than this, with conflicting "
        "names, is flagged shared_value and kept out of blocking and identity comparisons",
    )
    phone_fallback_regions: list[str] | None = Field(
        None,
        description="for a record without a country, a national phone number invalid in "
        "the source's default region is tried in these ISO-2 regions and kept when valid in "
        "exactly one (a POS export with tills in Spain and Mexico has no country column); "
        "default: every country named by at least 5% of the records that name one",
    )


class MatchingConfig(_Model):
    """Matching and clustering settings."""

    model: Path | None = Field(
        None,
        description="model definition YAML (comparisons, blocking rules, training blocks); "
        "default: the packaged customer model (src/omnimdm/match/customer_model.yaml)",
    )

    threshold_match_probability: float = Field(
        0.95, gt=0, lt=1, description="pairs at or above this probability are linked"
    )
    max_block_size: int = Field(
        20,
        gt=1,
        description="broad blocking keys (name, surname, surname+postcode, address) carried "
        "by more records than this are skipped (and counted); keeps pairs per record bounded "
        "as common names grow with the data",
    )
    pairs_per_record_per_key: float = Field(
        1.0,
        gt=0,
        description="pair budget of each broad blocking key: bigger blocks are admitted "
        "while their pairs stay within this many per record (never below max_block_size)",
    )
    min_pairs_per_key: int = Field(
        500_000,
        ge=0,
        description="pair budget floor of each broad blocking key (small data keeps big blocks)",
    )
    training: TrainingConfig = Field(default_factory=TrainingConfig)  # type: ignore[arg-type]


class ReviewConfig(_Model):
    """Steward review: which pairs each run puts in the review queue."""

    band_low: float = Field(
        0.5,
        ge=0.01,
        lt=1,
        description="pairs scored at or above this probability but below "
        "matching.threshold_match_probability (so not linked while undecided) go into the "
        "review queue; at least 0.01, the lowest probability the match stage keeps",
    )
    weak_link_below: float = Field(
        0.99,
        gt=0,
        le=1,
        description="a linked pair below this probability that alone holds its cluster "
        "together (a bridge) goes into the review queue as a weak link",
    )
    reviewer: str | None = Field(
        None,
        description="reviewer name recorded with decisions when --reviewer is not given "
        "(default: the OS user)",
    )


class CurrencyRatesConfig(_Model):
    """A rate table for a cross-currency spend total (without one, spend stays per currency)."""

    base: str = Field(pattern=r"^[A-Z]{3}$", description="ISO-4217 currency of the total")
    rates: dict[str, float] = Field(
        description="ISO-4217 currency -> units of `base` per unit (the base itself is 1)"
    )

    @field_validator("rates")
    @classmethod
    def _valid_rates(cls, value: dict[str, float]) -> dict[str, float]:
        for code, rate in value.items():
            if not re.match(r"^[A-Z]{3}$", code):
                raise ValueError(f"{code!r} is not an ISO-4217 code (three capital letters)")
            if not rate > 0:
                raise ValueError(f"rate of {code} must be positive (got {rate})")
        return value


class SurvivorshipConfig(_Model):
    """Golden-record rules: a chain of rules per field, consent, currencies."""

    default_rule: RankingRule = Field(
        "most_recent",
        description="rule for every field without its own chain in `fields` (a full tie "
        "between different values ends on a fixed hash of the value)",
    )
    fields: dict[str, list[SurvivorshipRule]] = Field(
        default_factory=dict,
        description="golden field -> rule chain, tried in order as tie-breakers and always "
        "ended by a fixed tie-break (never row order); fields: given_name, surname1, "
        "surname2, email, phone, birth_date, address (street, number, postcode, city, region "
        "and country from one record), national_id, loyalty_id, company. `collect` (email, "
        "phone only, first in the chain) keeps every distinct value; the rest of the chain "
        "picks the primary",
    )
    strong_match_probability: float = Field(
        0.99,
        gt=0,
        le=1,
        description="an opt-in counts only from a record whose best edge to another member "
        "of its cluster reaches this probability (or that is alone in its cluster)",
    )
    currency_rates: CurrencyRatesConfig | None = Field(
        None, description="rate table for a spend total across currencies; none: no total"
    )


class StoreConfig(_Model):
    """Where the DuckDB store lives."""

    path: Path = Field(Path("omnimdm.duckdb"), description="store file (holds personal data)")
    erasure_key_file: Path | None = Field(
        None,
        description="secret key of the erasure tombstones (default: beside the store, "
        "<store>.erasure.key; env OMNIMDM_ERASURE_KEY_FILE wins); back it up apart from "
        "the store",
    )


class Config(_Model):
    """A whole omnimdm configuration."""

    sources: list[SourceConfig] = Field(min_length=1)
    normalize: NormalizeConfig = Field(default_factory=NormalizeConfig)  # type: ignore[arg-type]
    matching: MatchingConfig = Field(default_factory=MatchingConfig)  # type: ignore[arg-type]
    survivorship: SurvivorshipConfig = Field(
        default_factory=SurvivorshipConfig  # type: ignore[arg-type]
    )
    review: ReviewConfig = Field(default_factory=ReviewConfig)  # type: ignore[arg-type]
    store: StoreConfig = Field(default_factory=StoreConfig)  # type: ignore[arg-type]
    base_dir: Path = Field(Path("."), description="directory relative source paths resolve from")

    def source_path(self, source: SourceConfig) -> Path:
        return source.path if source.path.is_absolute() else self.base_dir / source.path

    def config_hash(self) -> str:
        payload = self.model_dump(mode="json", exclude={"base_dir"})
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]

    def with_data_dir(self, data_dir: Path) -> Config:
        """The same config with every source file taken from ``data_dir`` (same file names)."""
        data_dir = data_dir.resolve()
        sources = [s.model_copy(update={"path": data_dir / s.path.name}) for s in self.sources]
        return self.model_copy(update={"sources": sources, "base_dir": data_dir})

    def with_store(self, path: Path) -> Config:
        store = self.store.model_copy(update={"path": path})
        return self.model_copy(update={"store": store})


def _format_validation_error(err: ValidationError) -> list[str]:
    problems = []
    for item in err.errors():
        loc = ".".join(str(p) for p in item["loc"]) or "(top level)"
        given = item.get("input")
        shown = "" if isinstance(given, dict | list) else f" (got {given!r})"
        problems.append(f"{loc}: {item['msg']}{shown}")
    return problems


def _survivorship_problems(config: Config) -> list[str]:
    from omnimdm.survive.rules import FIELD_SPECS, MULTI_VALUED

    problems = []
    for name, chain in config.survivorship.fields.items():
        where = f"survivorship.fields.{name}"
        if name not in FIELD_SPECS:
            problems.append(f"{where}: unknown field; known: {', '.join(FIELD_SPECS)}")
            continue
        if not chain:
            problems.append(f"{where}: give at least one rule")
        if len(set(chain)) != len(chain):
            problems.append(f"{where}: a rule is listed twice")
        if "collect" in chain and name not in MULTI_VALUED:
            problems.append(
                f"{where}: 'collect' only applies to {' and '.join(MULTI_VALUED)} "
                "(fields with several values per person)"
            )
        elif "collect" in chain and chain[0] != "collect":
            problems.append(f"{where}: 'collect' must come first (the rest picks the primary)")
    return problems


def _semantic_problems(config: Config) -> list[str]:
    from omnimdm.adapters.presets import INPUT_FIELDS, PRESETS

    problems: list[str] = _survivorship_problems(config)
    threshold = config.matching.threshold_match_probability
    # checked only when set explicitly: lowering the threshold alone just empties the band
    explicit = config.review.model_fields_set
    if "band_low" in explicit and config.review.band_low >= threshold:
        problems.append(
            f"review.band_low: must be below matching.threshold_match_probability ({threshold})"
        )
    if "weak_link_below" in explicit and config.review.weak_link_below <= threshold:
        problems.append(
            "review.weak_link_below: must be above matching.threshold_match_probability "
            f"({threshold})"
        )
    seen: set[str] = set()
    for i, src in enumerate(config.sources):
        where = f"sources.{i} ({src.name})"
        if src.name in seen:
            problems.append(f"{where}.name: duplicate source name {src.name!r}")
        seen.add(src.name)
        if (src.preset is None) == (src.mapping is None):
            problems.append(f"{where}: give exactly one of 'preset' or 'mapping'")
        if src.preset is not None and src.preset not in PRESETS:
            problems.append(
                f"{where}.preset: unknown preset {src.preset!r}; "
                f"available: {', '.join(sorted(PRESETS))}"
            )
        if src.mapping is not None and "source_record_id" not in src.mapping.columns:
            problems.append(f"{where}.mapping.columns: 'source_record_id' is required")
        if src.mapping is not None and isinstance(
            src.mapping.columns.get("source_record_id"), list
        ):
            problems.append(f"{where}.mapping.columns.source_record_id: must be one column")
        unknown = sorted(set(src.mapping.columns if src.mapping else ()) | set(src.date_formats))
        for key in (k for k in unknown if k not in INPUT_FIELDS):
            problems.append(
                f"{where}: unknown input field {key!r}; known: {', '.join(INPUT_FIELDS)}"
            )
    if config.matching.model is not None:
        from omnimdm.match.model_spec import load_model_spec

        try:
            load_model_spec(config.matching.model)
        except ConfigError as err:
            problems.append(f"matching.model: {err}")
    return problems


def parse_config(data: Any, *, origin: str = "<config>", base_dir: Path | None = None) -> Config:
    """Validate a config mapping; raise one :class:`ConfigError` listing every problem."""
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: the config must be a YAML mapping (key: value)")
    data = dict(data)
    if base_dir is not None and "base_dir" not in data:
        data["base_dir"] = str(base_dir)
    try:
        config = Config.model_validate(data)
    except ValidationError as err:
        raise ConfigError(
            f"{origin}: invalid configuration", _format_validation_error(err)
        ) from None
    model = config.matching.model
    if model is not None and not model.is_absolute():
        matching = config.matching.model_copy(update={"model": config.base_dir / model})
        config = config.model_copy(update={"matching": matching})
    problems = _semantic_problems(config)
    if problems:
        raise ConfigError(f"{origin}: invalid configuration", problems)
    return config


def load_config(path: str | Path) -> Config:
    """Read and validate a YAML config file. Relative source paths resolve from its folder."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path} not found; pass -c/--config PATH or set OMNIMDM_CONFIG"
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"config file {path} cannot be read: {err}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}: {err}") from None
    return parse_config(data, origin=str(path), base_dir=path.resolve().parent)

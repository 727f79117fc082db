"""Noise profiles: the YAML knobs of the synthetic generator, validated with pydantic.

A profile is either one of the packaged profiles (``default``, ``high_noise``) or a path to a
YAML file. A file may start with ``base: default`` to inherit every value of a packaged profile
and override only what it lists. Unknown keys are errors (``extra="forbid"``); an omitted noise
rate means "no noise of that kind".
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from omnimdm.errors import ConfigError

SOURCES: tuple[str, ...] = ("crm", "ecommerce", "pos", "callcenter")
PHONE_STYLES: tuple[str, ...] = (
    "e164",
    "intl_spaced",
    "intl_00",
    "national",
    "national_spaced",
    "national_dashed",
    "legacy",
)
PACKAGED_PROFILES: tuple[str, ...] = ("default", "high_noise")

Rate = Annotated[float, Field(ge=0.0, le=1.0)]
Weight = Annotated[float, Field(ge=0.0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CountryMix(_Strict):
    """Relative share of persons living in Spain and in Mexico."""

    ES: Weight
    MX: Weight

    @model_validator(mode="after")
    def _positive(self) -> CountryMix:
        if self.ES + self.MX <= 0:
            raise ValueError("country_mix weights must not all be zero")
        return self


class PerCountry(_Strict):
    ES: Rate = 0.0
    MX: Rate = 0.0


class PopulationSettings(_Strict):
    country_mix: CountryMix
    household_sizes: list[Weight] = Field(min_length=5, max_length=5)
    single_parent: Rate = 0.2
    compound_given_names: Rate = 0.25
    same_name_parent_child: Rate = 0.02
    moved: Rate = 0.1
    landline: PerCountry = PerCountry(ES=0.55, MX=0.35)
    email: Rate = 0.92
    employed: Rate = 0.5
    nie: Rate = 0.08

    @model_validator(mode="after")
    def _sizes(self) -> PopulationSettings:
        if sum(self.household_sizes) <= 0:
            raise ValueError("household_sizes weights must not all be zero")
        return self


class Coverage(_Strict):
    crm: Rate
    ecommerce: Rate
    pos: Rate
    callcenter: Rate

    @model_validator(mode="after")
    def _positive(self) -> Coverage:
        if self.crm + self.ecommerce + self.pos + self.callcenter <= 0:
            raise ValueError("coverage rates must not all be zero")
        return self


class NameNoise(_Strict):
    two_surnames: Rate = 1.0
    nickname: Rate = 0.0
    compound_abbreviated: Rate = 0.0
    compound_truncated: Rate = 0.0
    lower: Rate = 0.0
    typo: Rate = 0.0
    swapped: Rate = 0.0


class EmailNoise(_Strict):
    missing: Rate = 0.0
    junk: Rate = 0.0
    work: Rate = 0.0
    plus_tag: Rate = 0.0
    gmail_dots: Rate = 0.0
    domain_typo: Rate = 0.0
    typo: Rate = 0.0
    upper: Rate = 0.0
    capitalized: Rate = 0.0


class PhoneStyles(_Strict):
    e164: Weight = 0.0
    intl_spaced: Weight = 0.0
    intl_00: Weight = 0.0
    national: Weight = 1.0
    national_spaced: Weight = 0.0
    national_dashed: Weight = 0.0
    legacy: Weight = 0.0

    def weights(self) -> list[float]:
        """Weights in the order of ``PHONE_STYLES``."""
        return [float(getattr(self, s)) for s in PHONE_STYLES]

    @model_validator(mode="after")
    def _positive(self) -> PhoneStyles:
        if sum(self.weights()) <= 0:
            raise ValueError("phone style weights must not all be zero")
        return self


class PhoneNoise(_Strict):
    missing: Rate = 0.0
    secondary_missing: Rate = 0.5
    landline_instead: Rate = 0.0
    store_phone: Rate = 0.0
    typo: Rate = 0.0
    styles: PhoneStyles = PhoneStyles()


class AddressNoise(_Strict):
    missing: Rate = 0.0
    old_address: Rate = 0.0
    street_type_abbreviated: Rate = 0.0
    street_type_missing: Rate = 0.0
    unit_compact: Rate = 0.0
    typo: Rate = 0.0
    postcode_missing: Rate = 0.0
    postcode_typo: Rate = 0.0
    postcode_leading_zero_lost: Rate = 0.0
    city_alias: Rate = 0.0
    city_missing: Rate = 0.0
    state_missing: Rate = 0.0
    multiline: Rate = 0.0


class BirthDateNoise(_Strict):
    missing: Rate = 0.0
    swap_day_month: Rate = 0.0
    digit_off: Rate = 0.0
    no_year: Rate = 0.0
    placeholder: Rate = 0.0


class NationalIdNoise(_Strict):
    present: Rate = 0.0
    typo: Rate = 0.0
    formatted: Rate = 0.0


class SourceNoise(_Strict):
    duplicates: Rate = 0.0
    upper_record: Rate = 0.0
    strip_accents: Rate = 0.0
    name: NameNoise = NameNoise()
    email: EmailNoise = EmailNoise()
    phone: PhoneNoise = PhoneNoise()
    address: AddressNoise = AddressNoise()
    birth_date: BirthDateNoise = BirthDateNoise()
    national_id: NationalIdNoise = NationalIdNoise()
    loyalty_card: Rate = 0.0
    nickname_field: Rate = 0.0
    external_id: Rate = 0.0


class Sources(_Strict):
    crm: SourceNoise
    ecommerce: SourceNoise
    pos: SourceNoise
    callcenter: SourceNoise


class NoiseProfile(_Strict):
    """A validated noise profile (see ``data/default.yaml`` for the documented keys)."""

    version: Literal[1] = 1
    name: str
    description: str = ""
    population: PopulationSettings
    coverage: Coverage
    sources: Sources

    def source(self, name: str) -> SourceNoise:
        """The noise settings of one source (``crm``, ``ecommerce``, ``pos``, ``callcenter``)."""
        if name not in SOURCES:
            raise ConfigError(f"unknown source {name!r}; expected one of {', '.join(SOURCES)}")
        result: SourceNoise = getattr(self.sources, name)
        return result

    def coverage_of(self, name: str) -> float:
        """Probability that a person has a record in source ``name``."""
        return float(getattr(self.coverage, name))


def _packaged_text(name: str) -> str:
    ref = resources.files("omnimdm.synthetic") / "data" / f"{name}.yaml"
    return ref.read_text(encoding="utf-8")


def _parse_yaml(text: str, origin: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"noise profile {origin}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"noise profile {origin}: expected a mapping at the top level")
    return data


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _resolve_base(data: dict[str, Any], origin: str) -> dict[str, Any]:
    base = data.pop("base", None)
    if base is None:
        return data
    if base not in PACKAGED_PROFILES:
        raise ConfigError(
            f"noise profile {origin}: base must be one of {', '.join(PACKAGED_PROFILES)}, "
            f"got {base!r}"
        )
    parent = _parse_yaml(_packaged_text(str(base)), str(base))
    for key in ("base", "name", "description"):  # a derived profile is not its base
        parent.pop(key, None)
    return _deep_merge(parent, data)


def _format_errors(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "<root>"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def _read_source(profile: str | Path | None) -> tuple[str, str]:
    if profile is None:
        return _packaged_text("default"), "default"
    if isinstance(profile, str) and profile in PACKAGED_PROFILES:
        return _packaged_text(profile), profile
    path = Path(profile)
    if path.suffix.lower() not in (".yaml", ".yml") and not path.exists():
        raise ConfigError(
            f"unknown noise profile {str(profile)!r}: expected one of "
            f"{', '.join(PACKAGED_PROFILES)} or a path to a YAML file"
        )
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except OSError as exc:
        raise ConfigError(f"cannot read noise profile {str(path)!r}: {exc}") from exc


def load_noise_profile(profile: str | Path | None = None) -> NoiseProfile:
    """Load and validate a noise profile.

    ``profile`` is ``None`` (the packaged ``default``), a packaged profile name
    (``"default"``, ``"high_noise"``) or a path to a YAML file. Raises
    ``omnimdm.errors.ConfigError`` for unknown names, unreadable files, invalid YAML and any
    validation error (unknown keys, rates outside [0, 1], ...).
    """
    text, origin = _read_source(profile)
    data = _resolve_base(_parse_yaml(text, origin), origin)
    data.setdefault("name", Path(origin).stem)
    try:
        return NoiseProfile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"noise profile {origin}: {_format_errors(exc)}") from exc

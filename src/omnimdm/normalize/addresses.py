"""Address and country normalization as SQL expressions."""

from __future__ import annotations

COUNTRY_ALIASES = {
    "es": "ES",
    "esp": "ES",
    "espana": "ES",
    "spain": "ES",
    "reino de espana": "ES",
    "mx": "MX",
    "mex": "MX",
    "mexico": "MX",
    "estados unidos mexicanos": "MX",
    "us": "US",
    "usa": "US",
    "united states": "US",
    "estados unidos": "US",
    "fr": "FR",
    "francia": "FR",
    "france": "FR",
    "pt": "PT",
    "portugal": "PT",
    "ar": "AR",
    "argentina": "AR",
    "co": "CO",
    "colombia": "CO",
    "cl": "CL",
    "chile": "CL",
    "pe": "PE",
    "peru": "PE",
}


def country_sql(expr: str) -> str:
    """ISO-2 country code from a code or a name in English or Spanish; else NULL."""
    key = f"trim(lower(strip_accents({expr})))"
    cases = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in COUNTRY_ALIASES.items())
    return f"CASE {key} {cases} END"


def postcode_sql(expr: str) -> str:
    """Postcode as text (never a number): spaces removed, upper-case."""
    return f"nullif(upper(regexp_replace({expr}, '\\s+', '', 'g')), '')"

"""Consent flags, amounts, currencies and the company flag, as SQL expressions."""

from __future__ import annotations

TRUE_WORDS = ("yes", "y", "si", "sí", "true", "1", "subscribed", "opted in", "opt-in", "x")
FALSE_WORDS = ("no", "n", "false", "0", "unsubscribed", "opted out", "opt-out")

#: legal forms that mark a company name (Spain, Mexico, Latin America)
LEGAL_FORM_RE = (
    r"(^|\s)(s\.?\s?l\.?\s?u?\.?|s\.?\s?a\.?(\s?de\s?c\.?\s?v\.?)?|s\.?\s?de\s?r\.?\s?l\.?"
    r"(\s?de\s?c\.?\s?v\.?)?|s\.?\s?c\.?|s\.?\s?coop\.?|sociedad (an[oó]nima|limitada)|"
    r"s\.?\s?a\.?\s?p\.?\s?i\.?|s\.?\s?a\.?\s?s\.?|ltda\.?|cia\.?|inc\.?|ltd\.?|gmbh)$"
)


def _bool_sql(expr: str) -> str:
    # list_contains rather than IN: DuckDB plans an IN list of ten or more values as a
    # join, and a consent flag is read three times a record (0.3 CPU-s at a million)
    low = f"lower(trim({expr}))"
    trues = ", ".join(f"'{w}'" for w in TRUE_WORDS)
    falses = ", ".join(f"'{w}'" for w in FALSE_WORDS)
    return (
        f"CASE WHEN list_contains([{trues}], {low}) THEN true "
        f"WHEN list_contains([{falses}], {low}) THEN false END"
    )


def consent_sql(opt_in: str, opt_out: str | None = None) -> str:
    """'yes' | 'no' | NULL. Not having opted out is unknown, never yes."""
    out = f"WHEN {_bool_sql(opt_out)} THEN 'no' " if opt_out else ""
    return (
        f"CASE {out}WHEN {_bool_sql(opt_in)} THEN 'yes' WHEN NOT {_bool_sql(opt_in)} THEN 'no' END"
    )


def amount_sql(expr: str, decimal_separator: str) -> str:
    """A money amount as DECIMAL: currency symbols and thousands separators removed."""
    kept = f"regexp_replace({expr}, '[^0-9,.\\-]', '', 'g')"
    if decimal_separator == ",":
        normal = f"replace(replace({kept}, '.', ''), ',', '.')"
    else:
        normal = f"replace({kept}, ',', '')"
    return f"TRY_CAST(nullif({normal}, '') AS DECIMAL(18, 2))"


def currency_sql(expr: str, configured: str | None, country: str) -> str:
    """ISO-4217 currency: symbol or code in the value, then the source's, then the country's."""
    default = (
        f"'{configured}'"
        if configured
        else (
            f"CASE {country} WHEN 'MX' THEN 'MXN' WHEN 'US' THEN 'USD' WHEN 'ES' THEN 'EUR' "
            f"WHEN 'FR' THEN 'EUR' WHEN 'PT' THEN 'EUR' END"
        )
    )
    return (
        f"CASE WHEN {expr} IS NULL THEN NULL "
        f"WHEN contains({expr}, '€') OR contains(upper({expr}), 'EUR') THEN 'EUR' "
        f"WHEN contains(upper({expr}), 'MXN') OR contains(upper({expr}), 'MX$') THEN 'MXN' "
        f"WHEN contains(upper({expr}), 'USD') OR contains(upper({expr}), 'US$') THEN 'USD' "
        f"WHEN contains({expr}, '$') THEN coalesce("
        f"CASE {country} WHEN 'MX' THEN 'MXN' WHEN 'US' THEN 'USD' END, {default}) "
        f"ELSE {default} END"
    )


def is_company_sql(name_expr: str) -> str:
    """True when a customer name ends in a legal form (SL, SA, S.A. de C.V., ...)."""
    return f"coalesce(regexp_matches(lower(trim({name_expr})), '{LEGAL_FORM_RE}'), false)"

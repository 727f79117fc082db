"""Email normalization as SQL expressions."""

from __future__ import annotations

EMAIL_RE = r"^[a-z0-9._%+\-]+@[a-z0-9\-]+(\.[a-z0-9\-]+)*\.[a-z]{2,}$"
DOT_INSENSITIVE_DOMAINS = ("gmail.com", "googlemail.com")


def email_norm_sql(expr: str) -> str:
    """Lower-case, trim, validate; fold ``+tags``, and dots for Gmail; invalid -> NULL."""
    low = f"lower(trim({expr}))"
    valid = f"CASE WHEN regexp_matches({low}, '{EMAIL_RE}') THEN {low} END"
    local = f"regexp_replace(split_part({valid}, '@', 1), '\\+.*$', '')"
    domain = f"split_part({valid}, '@', 2)"
    domains = ", ".join(f"'{d}'" for d in DOT_INSENSITIVE_DOMAINS)
    folded_local = (
        f"CASE WHEN {domain} IN ({domains}) THEN replace({local}, '.', '') ELSE {local} END"
    )
    folded_domain = f"CASE WHEN {domain} = 'googlemail.com' THEN 'gmail.com' ELSE {domain} END"
    return f"CASE WHEN {valid} IS NOT NULL THEN {folded_local} || '@' || {folded_domain} END"

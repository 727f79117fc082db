"""Date parsing as SQL expressions, with per-source formats and partial dates."""

from __future__ import annotations


def parse_date_sql(expr: str, formats: tuple[str, ...]) -> str:
    """First format that parses, as DATE; impossible dates give NULL."""
    tries = ", ".join(f"try_strptime({expr}, '{f}')::DATE" for f in formats)
    return f"coalesce({tries})" if formats else "NULL::DATE"


def partial_month_day_sql(expr: str) -> tuple[str, str]:
    """Month and day of a year-less birthday (``0000-MM-DD``, ``--MM-DD``, ``DD/MM``)."""
    iso = f"regexp_extract({expr}, '^(?:0000|-)-(\\d{{1,2}})-(\\d{{1,2}})$', ['m', 'd'])"
    dm = f"regexp_extract({expr}, '^(\\d{{1,2}})/(\\d{{1,2}})$', ['d', 'm'])"

    def part(key: str) -> str:
        return (
            f"coalesce(TRY_CAST(nullif({iso}.{key}, '') AS INTEGER), "
            f"TRY_CAST(nullif({dm}.{key}, '') AS INTEGER))"
        )

    return part("m"), part("d")

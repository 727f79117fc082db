"""Phone normalization: strip formatting in SQL, then phonenumbers over distinct values.

Distinct ``(digits, region)`` pairs are parsed once each in Python (phonenumbers is the
field's standard library), so the per-row work stays in DuckDB.
"""

from __future__ import annotations

import functools

import duckdb
import phonenumbers
import pyarrow as pa


def strip_phone_sql(expr: str) -> str:
    """Keep digits and a leading '+'; an international ``00`` prefix becomes '+'."""
    kept = f"regexp_replace({expr}, '[^0-9+]', '', 'g')"
    return f"nullif(regexp_replace({kept}, '^00', '+'), '')"


@functools.lru_cache(maxsize=1_000_000)
def to_e164(digits: str, region: str) -> str | None:
    """E.164 form of a stripped number, or None when it is not a valid number."""
    try:
        num = phonenumbers.parse(digits, region or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(num):
        return None
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def build_phone_lookup(con: duckdb.DuckDBPyConnection, distinct_sql: str, out: str) -> int:
    """Parse every distinct ``(digits, region)`` of ``distinct_sql`` into table ``out``."""
    rows = con.sql(distinct_sql).fetchall()
    digits = [r[0] for r in rows]
    regions = [r[1] for r in rows]
    e164 = [to_e164(d, r) for d, r in zip(digits, regions, strict=True)]
    arrow = pa.table(
        {"digits": digits, "region": regions, "e164": e164},
        schema=pa.schema([("digits", pa.string()), ("region", pa.string()), ("e164", pa.string())]),
    )
    con.register("phone_lookup_arrow", arrow)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT * FROM phone_lookup_arrow")
    con.unregister("phone_lookup_arrow")
    return len(rows)

"""Data-quality profile per source and field: fill rate, validity rate, shared values.

``filled`` counts records whose raw value is present; ``valid`` those whose normalized
value is usable for matching; ``shared`` those carrying a value flagged in
``shared_values`` (the shop's own phone, ``noemail@...``).
"""

from __future__ import annotations

import duckdb

#: field -> (raw-present SQL over nc_base b, valid SQL over the canonical row n, shared SQL)
PROFILE_FIELDS: dict[str, tuple[str, str, str]] = {
    "given_name": (
        "b.given_name IS NOT NULL OR b.full_name IS NOT NULL",
        "n.given_name_norm IS NOT NULL",
        "false",
    ),
    "surname": (
        "coalesce(b.surname, b.surname1, b.full_name) IS NOT NULL",
        "n.surname1_norm IS NOT NULL",
        "false",
    ),
    "email": (
        "b.email IS NOT NULL",
        "n.email_norm IS NOT NULL",
        "n.email_norm IS NOT NULL AND n.email_match IS NULL",
    ),
    "phone": (
        "coalesce(b.phone, b.mobile) IS NOT NULL",
        "len(n.phones) > 0",
        "len(n.mobiles) + len(n.landlines) > len(n.mobiles_match) + len(n.landlines_match)",
    ),
    "birth_date": ("b.birth_date IS NOT NULL", "n.birth_date IS NOT NULL", "false"),
    "national_id": (
        "b.national_id IS NOT NULL",
        "n.national_id_valid",
        "n.national_id_valid AND n.national_id_match IS NULL",
    ),
    "street": ("coalesce(b.street, b.street2) IS NOT NULL", "n.street_name IS NOT NULL", "false"),
    "postcode": ("b.postcode IS NOT NULL", "n.postcode IS NOT NULL", "false"),
    "city": ("b.city IS NOT NULL", "n.city_norm IS NOT NULL", "false"),
    "country": ("b.country_raw IS NOT NULL", "n.country IS NOT NULL", "false"),
}


def build_profile(con: duckdb.DuckDBPyConnection, *, base: str, canonical: str, out: str) -> None:
    """Write ``out`` (source, field, records, filled, valid, shared, fill_rate,
    validity_rate) from the raw ``base`` rows and the ``canonical`` rows."""
    aggregates = ", ".join(
        f'count(*) FILTER ({filled}) AS "{field}.filled", '
        f'count(*) FILTER ({valid}) AS "{field}.valid", '
        f'count(*) FILTER ({shared}) AS "{field}.shared"'
        for field, (filled, valid, shared) in PROFILE_FIELDS.items()
    )
    unpivot = " UNION ALL ".join(
        f"SELECT source, '{field}' AS field, records, \"{field}.filled\" AS filled, "
        f'"{field}.valid" AS valid, "{field}.shared" AS shared FROM per_source'
        for field in PROFILE_FIELDS
    )
    con.execute(f"""
        CREATE TABLE {out} AS
        WITH per_source AS (  -- one scan, every field counted at once
            SELECT b.source, count(*) AS records, {aggregates}
            FROM {base} b JOIN {canonical} n USING (record_id) GROUP BY b.source
        )
        SELECT source, field, records, filled, valid, shared,
               round(filled / greatest(records, 1), 4) AS fill_rate,
               round(valid / greatest(filled, 1), 4) AS validity_rate
        FROM ({unpivot}) ORDER BY source, field
    """)

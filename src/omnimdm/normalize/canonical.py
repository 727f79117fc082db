"""Normalize stage: active source records -> ``norm_customers`` (the canonical schema).

Everything is one pass of DuckDB SQL, except phone parsing, which runs phonenumbers once
per distinct (digits, region). Values carried by many records with conflicting names
(the shop's own phone, ``noemail@...``) are found from the data, listed in
``shared_values`` and kept out of blocking and identity comparisons.
"""

from __future__ import annotations

import logging

import duckdb

from omnimdm.adapters.ingest import preset_for
from omnimdm.config import Config
from omnimdm.normalize.addresses import country_sql, postcode_sql
from omnimdm.normalize.dates import parse_date_sql, partial_month_day_sql
from omnimdm.normalize.emails import email_norm_sql
from omnimdm.normalize.names import (
    clean_display_sql,
    fold_sql,
    split_full_name_sql,
    split_surnames_sql,
)
from omnimdm.normalize.phones import build_phone_lookup, strip_phone_sql

log = logging.getLogger(__name__)

DEFAULT_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")


def _per_source_case(config: Config, values: dict[str, str], default: str) -> str:
    whens = " ".join(f"WHEN '{name}' THEN {expr}" for name, expr in values.items())
    return f"CASE source {whens} ELSE {default} END"


def _birth_date_sql(config: Config) -> str:
    per_source = {
        s.name: parse_date_sql(
            "birth_date", preset_for(s).date_formats.get("birth_date", DEFAULT_DATE_FORMATS)
        )
        for s in config.sources
    }
    parsed = _per_source_case(
        config, per_source, parse_date_sql("birth_date", DEFAULT_DATE_FORMATS)
    )
    # placeholder and impossible birth dates are treated as unknown
    return (
        f"CASE WHEN year({parsed}) BETWEEN 1900 AND year(current_date) "
        f"AND {parsed} <> DATE '1900-01-01' THEN {parsed} END"
    )


def _base_select(config: Config) -> str:
    full = split_full_name_sql(clean_display_sql("full_name"))
    last = split_surnames_sql(clean_display_sql("surname"))
    month_pd, day_pd = partial_month_day_sql("birth_date")
    region_default = _per_source_case(
        config, {s.name: f"'{s.default_region}'" for s in config.sources}, "'ES'"
    )
    locale_country = (
        "CASE WHEN upper(locale) LIKE '%-MX' THEN 'MX' WHEN upper(locale) LIKE '%-ES' THEN 'ES' END"
    )
    return f"""
        record_id, source, source_kind, source_record_id, updated_ts AS source_updated_at,
        coalesce({clean_display_sql("given_name")}, {full["given"]}) AS given_name,
        coalesce({clean_display_sql("surname1")}, {last["surname1"]}, {full["surname1"]})
            AS surname1,
        coalesce({clean_display_sql("surname2")},
                 CASE WHEN surname IS NOT NULL THEN {last["surname2"]} END,
                 CASE WHEN surname IS NULL THEN {full["surname2"]} END) AS surname2,
        {clean_display_sql("full_name")} AS full_name_raw,
        {clean_display_sql("nickname")} AS nickname,
        email, {email_norm_sql("email")} AS email_norm,
        list_filter([{strip_phone_sql("mobile")}, {strip_phone_sql("phone")}],
                    lambda x: x IS NOT NULL) AS phone_digits,
        coalesce({country_sql("country")}, {locale_country}) AS country,
        {region_default} AS default_region,
        {_birth_date_sql(config)} AS birth_date,
        {month_pd} AS partial_birth_month, {day_pd} AS partial_birth_day,
        {clean_display_sql("concat_ws(', ', street, street2)")} AS street,
        {postcode_sql("postcode")} AS postcode,
        {clean_display_sql("city")} AS city, {clean_display_sql("region")} AS region,
        upper(regexp_replace(national_id, '[^0-9A-Za-z]', '', 'g')) AS national_id,
        loyalty_id
    """


def normalize(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    *,
    records: str,
    out: str,
    shared_out: str,
    timings: dict[str, float] | None = None,
) -> dict[str, int]:
    """Build the run's canonical table ``out`` from the active rows of ``records``."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE nc_base AS SELECT {_base_select(config)} "
        f"FROM {records} WHERE retired_run IS NULL"
    )
    distinct_phones = build_phone_lookup(
        con,
        "SELECT DISTINCT d, coalesce(country, default_region) FROM "
        "(SELECT unnest(phone_digits) AS d, country, default_region FROM nc_base) ORDER BY ALL",
        "phone_lookup",
    )
    con.execute(f"""
        CREATE TABLE {out} AS
        WITH phones AS (
            SELECT b.record_id,
                   list(l.e164 ORDER BY p.pos) FILTER (l.e164 IS NOT NULL) AS phones
            FROM nc_base b,
                 LATERAL (SELECT unnest(b.phone_digits) AS d,
                                 generate_subscripts(b.phone_digits, 1) AS pos) p
            JOIN phone_lookup l
              ON l.digits = p.d AND l.region = coalesce(b.country, b.default_region)
            GROUP BY b.record_id
        )
        SELECT b.* EXCLUDE (phone_digits, default_region, partial_birth_month,
                            partial_birth_day),
               {clean_display_sql("concat_ws(' ', b.given_name, b.surname1, b.surname2)")}
                   AS full_name,
               {fold_sql("b.given_name")} AS given_name_norm,
               split_part({fold_sql("b.given_name")}, ' ', 1) AS given_first_norm,
               {fold_sql("b.surname1")} AS surname1_norm,
               {fold_sql("b.surname2")} AS surname2_norm,
               coalesce(month(b.birth_date), b.partial_birth_month) AS birth_month,
               coalesce(day(b.birth_date), b.partial_birth_day) AS birth_day,
               year(b.birth_date) AS birth_year,
               coalesce(list_distinct(p.phones), []) AS phones,
               {fold_sql("b.city")} AS city_norm
        FROM nc_base b LEFT JOIN phones p USING (record_id)
        ORDER BY b.record_id
    """)
    shared = _flag_shared_values(con, config, out, shared_out)
    con.execute("DROP TABLE IF EXISTS nc_base")
    con.execute("DROP TABLE IF EXISTS phone_lookup")
    rows = int(con.sql(f"SELECT count(*) FROM {out}").fetchall()[0][0])
    log.info(
        "normalized %d records (%d distinct phones parsed, %d shared values)",
        rows,
        distinct_phones,
        shared,
    )
    return {"records": rows, "distinct_phones_parsed": distinct_phones, "shared_values": shared}


def _flag_shared_values(
    con: duckdb.DuckDBPyConnection, config: Config, table: str, shared_out: str
) -> int:
    """Find emails/phones carried by many records with conflicting names; mask them."""
    k = config.normalize.shared_value_max_records
    con.execute(
        f"""
        CREATE TABLE {shared_out} AS
        WITH vals AS (
            SELECT 'email' AS field, email_norm AS value, record_id,
                   surname1_norm || '|' || given_first_norm AS who
            FROM {table} WHERE email_norm IS NOT NULL
            UNION ALL
            SELECT 'phone', unnest(phones), record_id, surname1_norm || '|' || given_first_norm
            FROM {table}
        )
        SELECT field, value, count(DISTINCT record_id) AS records,
               count(DISTINCT who) AS distinct_names
        FROM vals GROUP BY field, value
        HAVING count(DISTINCT record_id) > $k AND count(DISTINCT who) > 1
        ORDER BY field, value
    """,
        {"k": k},
    )
    shared: dict[str, list[str]] = {"email": [], "phone": []}
    for field, value in con.sql(f"SELECT field, value FROM {shared_out}").fetchall():
        shared[field].append(value)
    con.execute(f"ALTER TABLE {table} ADD COLUMN email_match VARCHAR")
    con.execute(f"ALTER TABLE {table} ADD COLUMN phones_match VARCHAR[]")
    con.execute(
        f"UPDATE {table} SET email_match = CASE WHEN list_contains($emails, email_norm) "
        "THEN NULL ELSE email_norm END, "
        "phones_match = list_filter(phones, lambda x: NOT list_contains($phones, x))",
        {"emails": shared["email"], "phones": shared["phone"]},
    )
    return int(con.sql(f"SELECT count(*) FROM {shared_out}").fetchall()[0][0])

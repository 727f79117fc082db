"""Normalize stage: active source records -> ``norm_customers`` (the canonical schema).

Row-wise work is DuckDB SQL. Python normalizers (names, dates, identifiers, addresses,
and the unusual phones and e-mails) run once per distinct value (:mod:`distinct_map`) and
are joined back. Values carried by many records with conflicting names (the shop's own
phone, ``noemail@...``) are found from the data, listed in ``shared_values`` and kept out
of the ``*_match`` columns that blocking and identity comparisons use.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import duckdb

from omnimdm.adapters.ingest import preset_for
from omnimdm.config import Config
from omnimdm.normalize import mappers
from omnimdm.normalize.date_sql import build_birth_date_lookup
from omnimdm.normalize.distinct_map import create_sql, map_distinct
from omnimdm.normalize.email_sql import build_email_lookup
from omnimdm.normalize.identifier_sql import build_national_id_lookup
from omnimdm.normalize.names import build_name_tables
from omnimdm.normalize.phone_sql import build_phone_lookup
from omnimdm.normalize.profile import build_profile
from omnimdm.normalize.street_sql import build_street_lookup
from omnimdm.normalize.values_sql import amount_sql, consent_sql, currency_sql, is_company_sql
from omnimdm.store import column_ddl, scratch_database

log = logging.getLogger(__name__)

DEFAULT_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")


def _per_source(config: Config, values: dict[str, str], default: str) -> str:
    whens = " ".join(f"WHEN '{name}' THEN {expr}" for name, expr in values.items())
    return f"(CASE source {whens} ELSE {default} END)"


def _lit(text: str | None) -> str:
    return "NULL" if text is None else "'" + text.replace("'", "''") + "'"


def _base_inner_sql(config: Config, records: str) -> str:
    """Trimmed raw fields plus per-source settings, one row per active record."""
    sources = config.sources
    region = _per_source(config, {s.name: _lit(s.default_region) for s in sources}, "'ES'")
    country = _per_source(config, {s.name: _lit(s.country) for s in sources}, "NULL")
    formats = _per_source(
        config,
        {s.name: _lit("|".join(preset_for(s).date_formats.get("birth_date", ()))) for s in sources},
        "''",
    )
    locale = (
        "CASE WHEN upper(locale) LIKE '%-MX' OR upper(locale) LIKE '%_MX' THEN 'MX' "
        "WHEN upper(locale) LIKE '%-ES' THEN 'ES' END"
    )
    return f"""
        SELECT record_id, source, source_kind, source_record_id,
               updated_ts AS source_updated_at, given_name, surname, surname1, surname2,
               full_name, nickname, email, phone, mobile, birth_date, street, street2, city,
               region, postcode, national_id, loyalty_id, company, email_opt_in,
               email_opt_out, sms_opt_in, total_spent, orders, first_seen, last_seen,
               coalesce(country, {country}, {locale}) AS country_raw,
               {region} AS default_region, {formats} AS birth_formats
        FROM {records} WHERE retired_run IS NULL
    """


def build_base(con: duckdb.DuckDBPyConnection, config: Config, records: str, out: str) -> int:
    """Temp table ``out``: the trimmed raw fields of the active rows of ``records`` (a table
    or a parenthesized query with the columns of ``src_records``) with their ``country``
    (ISO-2) and ``region_key`` (the region national phone numbers are read in). Returns
    the number of distinct country values mapped."""
    inner = _base_inner_sql(config, records)
    countries = map_distinct(
        con,
        distinct_sql=f"SELECT DISTINCT country_raw FROM ({inner}) WHERE country_raw IS NOT NULL "
        "ORDER BY 1",
        fn=mappers.country,
        out=f"{out}_country",
        in_cols=("raw",),
        out_schema=mappers.COUNTRY,
    )
    con.execute(f"""
        {create_sql(out)} AS
        SELECT b.*, c.iso2 AS country, coalesce(c.iso2, b.default_region) AS region_key
        FROM ({inner}) b LEFT JOIN {out}_country c ON c.raw = b.country_raw
    """)
    con.execute(f"DROP TABLE {out}_country")
    return countries


#: the attached in-memory database holding the normalize stage's working tables: every
#: connection (cursor) of the store sees it, so that independent lookups are built on
#: several cursors at once (temp tables are private to one connection)
WORK = "omnimdm_normalize"


def _w(table: str) -> str:
    """A working table's qualified name."""
    return f"{WORK}.{table}"


def _map_fields(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Birth date, national id, postcode and city per distinct value."""
    base = _w("nc_base")
    counts: dict[str, int] = {}
    counts.update(
        build_birth_date_lookup(
            con, f"SELECT birth_date AS raw, birth_formats AS formats FROM {base}", _w("nc_dob")
        )
    )
    ids = build_national_id_lookup(
        con,
        f"SELECT national_id AS raw, coalesce(country, '') AS country FROM {base}",
        _w("nc_nid"),
    )
    counts["national_ids"] = ids.pop("national_ids")
    counts.update(ids)
    counts["postcodes"] = map_distinct(
        con,
        distinct_sql=f"SELECT DISTINCT postcode, region_key FROM {base} "
        "WHERE postcode IS NOT NULL ORDER BY ALL",
        fn=mappers.postcode,
        out=_w("nc_pc"),
        in_cols=("raw", "country"),
        out_schema=mappers.POSTCODE,
    )
    counts["cities"] = map_distinct(
        con,
        distinct_sql=f"SELECT DISTINCT city FROM {base} WHERE city IS NOT NULL ORDER BY 1",
        fn=mappers.city,
        out=_w("nc_city"),
        in_cols=("raw",),
        out_schema=mappers.CITY,
    )
    return counts


def _streets(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    streets = build_street_lookup(
        con,
        f"SELECT concat_ws(', ', street, street2) AS raw FROM {_w('nc_base')} "
        "WHERE street IS NOT NULL OR street2 IS NOT NULL",
        _w("nc_street"),
    )
    return {"streets": streets.pop("distinct_streets"), **streets}


#: a country named by at least this share of the records that name one is a fallback
#: phone region for records without a country (see NormalizeConfig.phone_fallback_regions)
FALLBACK_REGION_SHARE = 0.05


def fallback_regions(con: duckdb.DuckDBPyConnection, config: Config, base: str) -> list[str]:
    """The configured fallback phone regions, else every country named by at least
    :data:`FALLBACK_REGION_SHARE` of the rows of ``base`` (a :func:`build_base` table) that
    name one."""
    if config.normalize.phone_fallback_regions is not None:
        return sorted({r.upper() for r in config.normalize.phone_fallback_regions})
    rows = con.sql(
        f"SELECT country, count(*) FROM {base} WHERE country IS NOT NULL GROUP BY 1"
    ).fetchall()
    total = sum(int(n) for _, n in rows)
    return sorted(str(c) for c, n in rows if int(n) >= FALLBACK_REGION_SHARE * total)


def build_phone_fallback(
    con: duckdb.DuckDBPyConnection, config: Config, *, base: str, lookup: str, out: str
) -> int:
    """Temp table ``out`` (raw, region, e164, phone_type, reason): the numbers of the rows
    of ``base`` without a country that ``lookup`` (a :func:`build_phone_lookup` table over
    ``base``'s numbers in their ``region_key``) found invalid but that are valid in exactly
    one fallback region. Returns how many distinct numbers were rescued."""
    regions = fallback_regions(con, config, base)
    con.execute(
        f"""{create_sql(out + "_orphans")} AS
        SELECT DISTINCT l.raw, l.region FROM {lookup} l
        SEMI JOIN (SELECT mobile AS raw, region_key AS region FROM {base}
                   WHERE country IS NULL
                   UNION ALL SELECT phone, region_key FROM {base} WHERE country IS NULL) b
             USING (raw, region)
        WHERE l.reason = 'invalid'"""
    )
    build_phone_lookup(
        con,
        f"SELECT o.raw, r.region FROM {out}_orphans o "
        "CROSS JOIN (SELECT unnest($regions::VARCHAR[]) AS region) r WHERE r.region <> o.region",
        f"{out}_tries",
        params={"regions": regions},
    )
    con.execute(
        f"""{create_sql(out)} AS
        SELECT o.raw, o.region, any_value(t.e164) AS e164,
               any_value(t.phone_type) AS phone_type, NULL::VARCHAR AS reason
        FROM {out}_orphans o JOIN {out}_tries t ON t.raw = o.raw
        WHERE t.e164 IS NOT NULL AND t.region <> o.region
        GROUP BY o.raw, o.region HAVING count(*) = 1"""
    )
    con.execute(f"DROP TABLE {out}_orphans")
    con.execute(f"DROP TABLE {out}_tries")
    return int(con.sql(f"SELECT count(*) FROM {out}").fetchall()[0][0])


def _two_list(a: str, b: str, *, keep_order: bool = False) -> str:
    """SQL for the list of the non-null values of ``a`` and ``b`` without repeats: sorted,
    or with ``keep_order`` as given (``[a, b]``)."""
    first, second = (
        (f"({a})", f"({b})") if keep_order else (f"least({a}, {b})", f"greatest({a}, {b})")
    )
    return (
        f"CASE WHEN ({a}) IS NULL THEN CASE WHEN ({b}) IS NULL THEN []::VARCHAR[] "
        f"ELSE [({b})] END WHEN ({b}) IS NULL OR ({a}) = ({b}) THEN [({a})] "
        f"ELSE [{first}, {second}] END"
    )


def _phones(con: duckdb.DuckDBPyConnection, config: Config) -> dict[str, int]:
    base, lookup, fallback = _w("nc_base"), _w("nc_phone_lookup"), _w("nc_phone_fallback")
    counts = build_phone_lookup(
        con,
        f"SELECT mobile AS raw, region_key AS region FROM {base} "
        f"UNION ALL SELECT phone, region_key FROM {base}",
        lookup,
    )
    counts["phones_by_fallback_region"] = build_phone_fallback(
        con, config, base=base, lookup=lookup, out=fallback
    )
    # A record has at most two numbers (mobile field, phone field): lists are built per row,
    # no aggregation, and with CASE rather than list lambdas (2x cheaper at a million rows).
    # Mobiles are personal, fixed lines household; Mexican numbers are 'either' and count
    # as personal when typed into a mobile field.
    mobile_m = "CASE WHEN m_type IN ('mobile', 'either') THEN m END"
    mobile_p = "CASE WHEN p_type = 'mobile' THEN p END"
    fixed_m = "CASE WHEN m_type IN ('fixed', 'unknown') THEN m END"
    fixed_p = "CASE WHEN p_type IN ('fixed', 'unknown', 'either') THEN p END"
    con.execute(f"""
        {create_sql(_w("nc_phones"))} AS
        SELECT record_id, {_two_list("m", "p", keep_order=True)} AS phones,
               {_two_list(mobile_m, mobile_p)} AS mobiles,
               {_two_list(fixed_m, fixed_p)} AS landlines,
               nullif({_two_list("m_reason", "p_reason")}, []) AS phone_reasons
        FROM (
            SELECT b.record_id,
                   coalesce(fm.e164, lm.e164) AS m,
                   CASE WHEN fm.raw IS NULL THEN lm.phone_type ELSE fm.phone_type END AS m_type,
                   CASE WHEN fm.raw IS NULL THEN lm.reason END AS m_reason,
                   coalesce(fp.e164, lp.e164) AS p,
                   CASE WHEN fp.raw IS NULL THEN lp.phone_type ELSE fp.phone_type END AS p_type,
                   CASE WHEN fp.raw IS NULL THEN lp.reason END AS p_reason
            FROM {base} b
            LEFT JOIN {lookup} lm ON lm.raw = b.mobile AND lm.region = b.region_key
            LEFT JOIN {lookup} lp ON lp.raw = b.phone AND lp.region = b.region_key
            LEFT JOIN {fallback} fm ON b.country IS NULL AND fm.raw = b.mobile
                 AND fm.region = b.region_key
            LEFT JOIN {fallback} fp ON b.country IS NULL AND fp.raw = b.phone
                 AND fp.region = b.region_key
            WHERE b.mobile IS NOT NULL OR b.phone IS NOT NULL
        )
    """)
    return counts


def _assemble_sql(config: Config) -> str:
    sources = config.sources
    amount = {s.name: amount_sql("b.total_spent", s.decimal_separator) for s in sources}
    currency_cases = " ".join(
        f"WHEN '{s.name}' THEN {currency_sql('b.total_spent', s.currency, 'b.country')}"
        for s in sources
    )
    return f"""
        SELECT b.record_id, b.source, b.source_kind, b.source_record_id, b.source_updated_at,
               p.given_name, p.surname1, p.surname2,
               nullif(concat_ws(' ', p.given_name, p.surname1, p.surname2), '') AS full_name,
               b.nickname,
               gk.given_norm AS given_name_norm, gk.given_first AS given_first_norm,
               coalesce(gk.given_set, []) AS given_names, gk.given_ph AS given_phonetic,
               k1.surname_norm AS surname1_norm, k1.surname_ph AS surname1_phonetic,
               k2.surname_norm AS surname2_norm, k2.surname_ph AS surname2_phonetic,
               b.email, e.email_norm, coalesce(e.email_corrected, false) AS email_corrected,
               e.email_reason,
               coalesce(ph.phones, []) AS phones, coalesce(ph.mobiles, []) AS mobiles,
               coalesce(ph.landlines, []) AS landlines, ph.phone_reasons,
               make_date(d.year, d.month, d.day) AS birth_date, d.year AS birth_year,
               d.month AS birth_month, d.day AS birth_day,
               CASE WHEN b.birth_date IS NOT NULL THEN d.reason END AS birth_date_reason,
               n.id_value AS national_id, n.id_kind AS national_id_kind,
               coalesce(n.id_valid, false) AS national_id_valid, b.loyalty_id,
               nullif(concat_ws(', ', b.street, b.street2), '') AS street,
               st.street_type, st.street_name, st.street_number, st.floor_door,
               pc.pc AS postcode, ct.city_display AS city, ct.city_norm, b.region, b.country,
               {consent_sql("b.email_opt_in", "b.email_opt_out")} AS email_consent,
               {consent_sql("b.sms_opt_in")} AS sms_consent,
               {_per_source(config, amount, "NULL")} AS total_spent,
               CASE source {currency_cases} END AS currency,
               TRY_CAST(b.orders AS INTEGER) AS orders,
               TRY_CAST(b.first_seen AS DATE) AS first_seen,
               TRY_CAST(b.last_seen AS DATE) AS last_seen,
               b.company,
               {is_company_sql("concat_ws(' ', b.given_name, b.surname, b.full_name)")}
                   AS is_company
        FROM {WORK}.nc_base b
        LEFT JOIN {WORK}.nm_parts p USING (record_id)
        LEFT JOIN {WORK}.nm_given_keys gk ON gk.display = p.given_name
        LEFT JOIN {WORK}.nm_surname_keys k1 ON k1.display = p.surname1
        LEFT JOIN {WORK}.nm_surname_keys k2 ON k2.display = p.surname2
        LEFT JOIN {WORK}.nc_email e ON e.email = b.email
        LEFT JOIN {WORK}.nc_phones ph USING (record_id)
        LEFT JOIN {WORK}.nc_dob d ON d.raw = b.birth_date AND d.formats = b.birth_formats
        LEFT JOIN {WORK}.nc_nid n ON n.raw = b.national_id AND n.country = coalesce(b.country, '')
        LEFT JOIN {WORK}.nc_pc pc ON pc.raw = b.postcode AND pc.country = b.region_key
        LEFT JOIN {WORK}.nc_city ct ON ct.raw = b.city
        LEFT JOIN {WORK}.nc_street st ON st.raw = concat_ws(', ', b.street, b.street2)
    """


#: the lookups built from ``nc_base`` (independent of each other): name, builder, and
#: whether their counts are reported as ``distinct_*``. Counts are merged in this order.
LookupStep = Callable[[duckdb.DuckDBPyConnection, Config], dict[str, int]]
LOOKUPS: tuple[tuple[str, LookupStep, bool], ...] = (
    ("names", lambda con, _: build_name_tables(con, _w("nc_base"), prefix=f"{WORK}."), True),
    ("fields", lambda con, _: _map_fields(con), True),
    ("streets", lambda con, _: _streets(con), True),
    ("phones", _phones, False),
    (
        "emails",
        lambda con, _: build_email_lookup(
            con, f"SELECT email FROM {_w('nc_base')}", _w("nc_email")
        ),
        False,
    ),
)
#: lookups built at once, each on its own cursor. The Python mappers hold the GIL while
#: DuckDB releases it, so a Python-heavy lookup (names, fields) overlaps with SQL-heavy
#: ones (phones, emails) on the other core. Started longest first.
PARALLEL_LOOKUPS = 2
LOOKUP_ORDER = ("phones", "names", "streets", "fields", "emails")


def _build_lookups(
    con: duckdb.DuckDBPyConnection, config: Config, timings: dict[str, float]
) -> dict[str, int]:
    """Run :data:`LOOKUPS` two at a time; return their counts (in :data:`LOOKUPS` order)."""
    steps = {name: (fn, prefixed) for name, fn, prefixed in LOOKUPS}

    def one(name: str) -> tuple[dict[str, int], float]:
        started = time.perf_counter()
        cursor = con.cursor()
        try:
            return steps[name][0](cursor, config), time.perf_counter() - started
        finally:
            cursor.close()

    results: dict[str, dict[str, int]] = {}
    with ThreadPoolExecutor(PARALLEL_LOOKUPS) as pool:
        futures = {name: pool.submit(one, name) for name in LOOKUP_ORDER}
        try:
            for name, future in futures.items():
                results[name], seconds = future.result()
                timings[f"normalize.{name}"] = round(seconds, 3)
        finally:
            for future in futures.values():  # a failed lookup stops the ones not yet started
                future.cancel()
    counts: dict[str, int] = {}
    for name, (_, prefixed) in steps.items():
        counts.update({f"distinct_{k}" if prefixed else k: v for k, v in results[name].items()})
    return counts


def normalize(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    *,
    records: str,
    out: str,
    shared_out: str,
    profile_out: str | None = None,
    timings: dict[str, float] | None = None,
) -> dict[str, int]:
    """Build the run's canonical table ``out`` from the active rows of ``records``.

    Working tables live in the in-memory database :data:`WORK`, attached for the call."""
    timings = timings if timings is not None else {}
    counts: dict[str, int] = {}

    def step(name: str, started: float) -> None:
        timings[f"normalize.{name}"] = round(time.perf_counter() - started, 3)

    with scratch_database(con, WORK):
        t = time.perf_counter()
        counts["distinct_countries"] = build_base(con, config, records, _w("nc_base"))
        step("base", t)
        t = time.perf_counter()
        counts.update(_build_lookups(con, config, timings))
        step("lookups", t)
        t = time.perf_counter()
        counts["shared_values"] = _find_shared_values(con, config, shared_out)
        step("shared_values", t)
        t = time.perf_counter()
        _write_canonical(con, config, out, shared_out)
        step("assemble_and_write", t)
        if profile_out is not None:
            t = time.perf_counter()
            build_profile(con, base=_w("nc_base"), canonical=out, out=profile_out)
            step("profile", t)
    counts["records"] = int(con.sql(f"SELECT count(*) FROM {out}").fetchall()[0][0])
    log.info("normalized %d records", counts["records"])
    return counts


def _find_shared_values(con: duckdb.DuckDBPyConnection, config: Config, shared_out: str) -> int:
    """List emails/phones/ids carried by more than k records with conflicting names."""
    con.execute(f"""
        {create_sql(_w("nc_who"))} AS
        SELECT p.record_id, k1.surname_norm || '|' || gk.given_first AS who
        FROM {WORK}.nm_parts p
        LEFT JOIN {WORK}.nm_given_keys gk ON gk.display = p.given_name
        LEFT JOIN {WORK}.nm_surname_keys k1 ON k1.display = p.surname1
    """)
    con.execute(
        f"""
        CREATE TABLE {shared_out} AS
        WITH vals AS (
            SELECT 'email' AS field, e.email_norm AS value, b.record_id
            FROM {WORK}.nc_base b JOIN {WORK}.nc_email e ON e.email = b.email
            WHERE e.email_norm IS NOT NULL
            UNION ALL
            SELECT 'phone', unnest(phones), record_id FROM {WORK}.nc_phones
            UNION ALL
            SELECT 'national_id', n.id_value, b.record_id
            FROM {WORK}.nc_base b JOIN {WORK}.nc_nid n
            ON n.raw = b.national_id AND n.country = coalesce(b.country, '')
            WHERE n.id_value IS NOT NULL
        ),
        candidates AS (  -- cheap count first; names only for frequent values
            SELECT field, value FROM vals GROUP BY field, value HAVING count(*) > $k
        )
        SELECT v.field, v.value, count(DISTINCT v.record_id) AS records,
               count(DISTINCT w.who) AS distinct_names
        FROM vals v SEMI JOIN candidates USING (field, value)
        JOIN {WORK}.nc_who w USING (record_id)
        GROUP BY v.field, v.value
        HAVING count(DISTINCT v.record_id) > $k AND count(DISTINCT w.who) > 1
        ORDER BY v.field, v.value
    """,
        {"k": config.normalize.shared_value_max_records},
    )
    return int(con.sql(f"SELECT count(*) FROM {shared_out}").fetchall()[0][0])


#: canonical columns whose values are nearly all distinct: stored plain (see
#: :data:`omnimdm.store.UNCOMPRESSED`): at 1M records the table's write takes 2.1 s
#: instead of 3.2 s, and 296 MB instead of 160 MB
UNCOMPRESSED_COLUMNS = frozenset(
    {
        "source_record_id",
        "full_name",
        "email",
        "email_norm",
        "email_match",
        "street",
        "phones",
        "mobiles",
        "mobiles_match",
        "landlines",
        "landlines_match",
    }
)


def _write_canonical(
    con: duckdb.DuckDBPyConnection, config: Config, out: str, shared_out: str
) -> None:
    """Assemble the canonical rows and write them once, with ``*_match`` columns that
    leave the shared values out."""
    shared: dict[str, list[str]] = {"email": [], "phone": [], "national_id": []}
    for field, value in con.sql(f"SELECT field, value FROM {shared_out}").fetchall():
        shared[field].append(value)
    query = (
        "SELECT *, "
        "CASE WHEN list_contains($emails, email_norm) THEN NULL ELSE email_norm END "
        "AS email_match, "
        "list_filter(mobiles, lambda x: NOT list_contains($phones, x)) AS mobiles_match, "
        "list_filter(landlines, lambda x: NOT list_contains($phones, x)) AS landlines_match, "
        "CASE WHEN national_id_valid AND NOT list_contains($ids, national_id) "
        f"THEN national_id END AS national_id_match FROM ({_assemble_sql(config)})"
    )
    params = {"emails": shared["email"], "phones": shared["phone"], "ids": shared["national_id"]}
    columns = con.sql(f"DESCRIBE {query}", params=params).fetchall()
    con.execute(f"CREATE TABLE {out} ({column_ddl(columns, UNCOMPRESSED_COLUMNS)})")
    con.execute(f"INSERT INTO {out} {query}", params)

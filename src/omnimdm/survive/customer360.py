"""Customer 360: channels and sources seen, first and last seen, record count, orders, and
spend summed per currency (a cross-currency total only with a configured rate table).

Set-like aggregates are bit masks while grouping (``bit_or`` is cheap); the few distinct
masks become lists once, when the golden table is written.
"""

from __future__ import annotations

from typing import get_args

from omnimdm.config import Config, SourceKind

#: channel kinds, in the order golden ``channels`` lists them
SOURCE_KINDS = tuple(sorted(get_args(SourceKind)))
_SEEN = "first_seen::TIMESTAMP, last_seen::TIMESTAMP, source_updated_at"
_SPEND = "struct_pack(c := coalesce(currency, 'XXX'), a := total_spent, o := orders)"


def _sources(config: Config) -> list[str]:
    return sorted(s.name for s in config.sources)


def _bits_sql(column: str, names: list[str]) -> str:
    """A one-bit mask of ``column``'s position in ``names``."""
    whens = " ".join(f"WHEN '{n}' THEN {1 << i}" for i, n in enumerate(names))
    return f"(CASE {column} {whens} ELSE 0 END)::BIGINT"


def _mask_list_sql(mask: str, names: list[str]) -> str:
    listed = ", ".join(f"'{n}'" for n in names)
    return f"list_filter([{listed}], lambda x, i: ({mask} >> (i - 1)) & 1 = 1)"


def aggregates(config: Config) -> list[str]:
    """Aggregate expressions over the member records of a cluster."""
    return [
        "count(*) AS source_records",
        "bit_xor(record_id) AS member_sig",
        f"bit_or({_bits_sql('source_kind', list(SOURCE_KINDS))}) AS kind_mask",
        f"bit_or({_bits_sql('source', _sources(config))}) AS source_mask",
        f"min(least({_SEEN})) AS first_seen",
        f"max(greatest({_SEEN})) AS last_seen",
        "sum(orders)::BIGINT AS orders",
        f"list({_SPEND}) FILTER (total_spent IS NOT NULL) AS spend_raw",
    ]


def of_one_record(config: Config) -> list[str]:
    """The same values for a cluster of one record, without grouping."""
    return [
        "1::BIGINT AS source_records",
        "record_id AS member_sig",
        f"{_bits_sql('source_kind', list(SOURCE_KINDS))} AS kind_mask",
        f"{_bits_sql('source', _sources(config))} AS source_mask",
        f"least({_SEEN}) AS first_seen",
        f"greatest({_SEEN}) AS last_seen",
        "orders::BIGINT AS orders",
        f"CASE WHEN total_spent IS NOT NULL THEN [{_SPEND}] END AS spend_raw",
    ]


def of_two_records(a: str = "a", b: str = "b") -> list[str]:
    """The same values for a cluster of two records, from their :func:`of_one_record`
    columns (aliases ``a`` and ``b``)."""
    return [
        "2::BIGINT AS source_records",
        f"xor({a}.member_sig, {b}.member_sig) AS member_sig",
        f"{a}.kind_mask | {b}.kind_mask AS kind_mask",
        f"{a}.source_mask | {b}.source_mask AS source_mask",
        f"least({a}.first_seen, {b}.first_seen) AS first_seen",
        f"greatest({a}.last_seen, {b}.last_seen) AS last_seen",
        f"CASE WHEN {a}.orders IS NULL AND {b}.orders IS NULL THEN NULL "
        f"ELSE coalesce({a}.orders, 0) + coalesce({b}.orders, 0) END AS orders",
        f"CASE WHEN {a}.spend_raw IS NULL THEN {b}.spend_raw WHEN {b}.spend_raw IS NULL "
        f"THEN {a}.spend_raw ELSE list_concat({a}.spend_raw, {b}.spend_raw) END AS spend_raw",
    ]


def mask_lists_sql(config: Config, table: str) -> str:
    """CTEs ``kinds`` (kind_mask -> channels) and ``srcs`` (source_mask -> sources)."""
    return f"""
        kinds AS (
            SELECT kind_mask, {_mask_list_sql("kind_mask", list(SOURCE_KINDS))} AS channels
            FROM (SELECT DISTINCT kind_mask FROM {table})
        ),
        srcs AS (
            SELECT source_mask, {_mask_list_sql("source_mask", _sources(config))} AS sources
            FROM (SELECT DISTINCT source_mask FROM {table})
        )
    """


def spend_sql(config: Config) -> tuple[str, str, str]:
    """SQL over ``spend_raw`` for spend per currency (summed amount and orders), the
    cross-currency total and its currency (both NULL without a rate table, and the total
    NULL when a currency has no rate). Amounts of unknown currency count under ``XXX``."""
    one = (
        "[struct_pack(currency := spend_raw[1].c, amount := spend_raw[1].a::DECIMAL(38, 2), "
        "orders := spend_raw[1].o::BIGINT)]"
    )
    per_currency = (
        f"CASE WHEN len(spend_raw) = 1 THEN {one} ELSE "
        "list_transform(list_sort(list_distinct(list_transform(spend_raw, lambda x: x.c))), "
        "lambda cur: struct_pack(currency := cur, "
        "amount := list_sum(list_transform(list_filter(spend_raw, lambda x: x.c = cur), "
        "lambda x: x.a)), "
        "orders := list_sum(list_transform(list_filter(spend_raw, lambda x: x.c = cur), "
        "lambda x: x.o))::BIGINT)) END"
    )
    rates = config.survivorship.currency_rates
    if rates is None:
        return per_currency, "NULL::DECIMAL(18, 2)", "NULL::VARCHAR"
    table = {**rates.rates, rates.base: 1.0}
    whens = " ".join(f"WHEN '{code}' THEN {float(rate)!r}" for code, rate in table.items())
    rate = f"(CASE x.c {whens} END)"
    total = (
        f"CASE WHEN list_bool_or(list_transform(spend_raw, lambda x: {rate} IS NULL)) "
        f"THEN NULL ELSE round(list_sum(list_transform(spend_raw, lambda x: x.a * {rate})), 2)"
        "::DECIMAL(18, 2) END"
    )
    return per_currency, total, f"'{rates.base}'"

"""Customer 360: channels, first and last seen, record count, spend per currency."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from tests.survive.canonical import config, record, run, ts


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


RECORDS = [
    record("crm:1", "G1", updated=ts("2021-03-01")),
    record("shop:1", "G1", total_spent=Decimal("100.50"), currency="EUR", orders=3),
    record("shop:2", "G1", total_spent=Decimal("20.00"), currency="EUR", orders=1),
    record(
        "pos:1",
        "G1",
        total_spent=Decimal("999.00"),
        currency="MXN",
        orders=7,
        first_seen=dt.date(2019, 5, 1),
        last_seen=dt.date(2024, 2, 1),
    ),
    record("calls:9", "G2", updated=ts("2023-01-01")),
]


def test_channels_seen_counts_and_dates(con: duckdb.DuckDBPyConnection) -> None:
    golden = run(con, config(), RECORDS)["golden"]
    one = golden["G1"]
    assert one["channels"] == ["crm", "ecommerce", "pos"]
    assert one["sources"] == ["crm", "pos", "shop"]
    assert one["source_records"] == 4
    assert one["first_seen"] == dt.datetime(2019, 5, 1)
    assert one["last_seen"] == dt.datetime(2024, 2, 1)
    assert one["orders"] == 11
    assert golden["G2"]["channels"] == ["callcenter"] and golden["G2"]["spend"] is None


def test_spend_and_orders_are_summed_per_currency_without_a_total(
    con: duckdb.DuckDBPyConnection,
) -> None:
    one = run(con, config(), RECORDS)["golden"]["G1"]
    assert one["spend"] == [
        {"currency": "EUR", "amount": Decimal("120.50"), "orders": 4},
        {"currency": "MXN", "amount": Decimal("999.00"), "orders": 7},
    ]
    assert one["spend_total"] is None and one["spend_total_currency"] is None


def test_a_rate_table_gives_a_total(con: duckdb.DuckDBPyConnection) -> None:
    cfg = config(currency_rates={"base": "EUR", "rates": {"MXN": 0.05}})
    one = run(con, cfg, RECORDS)["golden"]["G1"]
    assert one["spend_total"] == Decimal("170.45")  # 120.50 + 999 * 0.05
    assert one["spend_total_currency"] == "EUR"


def test_a_currency_without_a_rate_gives_no_total(con: duckdb.DuckDBPyConnection) -> None:
    cfg = config(currency_rates={"base": "EUR", "rates": {"USD": 0.9}})
    assert run(con, cfg, RECORDS)["golden"]["G1"]["spend_total"] is None

"""Each survivorship rule, the rule chain, names in display form, the address as a unit."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from tests.survive.canonical import config, record, run, ts


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def _pick(result: dict, field: str, golden: str = "G1") -> tuple[object, str, str]:
    """(golden value, SOURCE:ID named by lineage, rule) of ``field``."""
    (row,) = result["lineage"][(golden, field)]
    value = result["golden"][golden].get(field, row["value"])  # units: the lineage text
    return value, f"{row['source']}:{row['source_record_id']}", row["rule"]


def test_source_priority_uses_trust(con: duckdb.DuckDBPyConnection) -> None:
    cfg = config({"crm": 0.9, "pos": 0.4}, default_rule="source_priority")
    recs = [
        record("pos:1", "G1", surname1="Gomez", updated=ts("2024-06-01")),
        record("crm:1", "G1", surname1="Gómez Ruiz", updated=ts("2020-01-01")),
    ]
    assert _pick(run(con, cfg, recs), "surname1") == ("Gómez Ruiz", "crm:1", "source_priority")


def test_most_recent_and_undated_records_rank_last(con: duckdb.DuckDBPyConnection) -> None:
    cfg = config(default_rule="most_recent")
    recs = [
        record("crm:1", "G1", company="Old SL", updated=ts("2020-01-01")),
        record("shop:1", "G1", company="Undated SA"),
        record("pos:1", "G1", company="New SL", updated=ts("2024-01-01")),
    ]
    assert _pick(run(con, cfg, recs), "company") == ("New SL", "pos:1", "most_recent")


def test_most_frequent_counts_names_accent_and_case_blind(con: duckdb.DuckDBPyConnection) -> None:
    cfg = config(fields={"given_name": ["most_frequent", "most_recent"]})
    recs = [
        record("crm:1", "G1", given_name="Josefa", updated=ts("2021-01-01")),
        record("shop:1", "G1", given_name="JOSEFA", updated=ts("2021-02-01")),
        record("pos:1", "G1", given_name="Pepa", updated=ts("2024-01-01")),
    ]
    value, _, rule = _pick(run(con, cfg, recs), "given_name")
    assert value in ("Josefa", "JOSEFA") and rule.startswith("most_frequent")


def test_most_complete_address(con: duckdb.DuckDBPyConnection) -> None:
    cfg = config(fields={"address": ["most_complete", "most_recent"]})
    recs = [
        record(
            "crm:1",
            "G1",
            street="Calle Mayor 12",
            street_number="12",
            postcode="28013",
            city="Madrid",
            country="ES",
            updated=ts("2020-01-01"),
        ),
        record("pos:1", "G1", postcode="28013", updated=ts("2024-01-01")),
    ]
    result = run(con, cfg, recs)
    golden = result["golden"]["G1"]
    assert (golden["street"], golden["city"]) == ("Calle Mayor 12", "Madrid")
    assert _pick(result, "address")[1:] == ("crm:1", "most_complete")


def test_longest(con: duckdb.DuckDBPyConnection) -> None:
    cfg = config(fields={"given_name": ["longest"]})
    recs = [
        record("crm:1", "G1", given_name="María", updated=ts("2024-01-01")),
        record("pos:1", "G1", given_name="María José"),
    ]
    assert _pick(run(con, cfg, recs), "given_name") == ("María José", "pos:1", "longest")


def test_valid_first_prefers_a_mobile_over_a_newer_landline(
    con: duckdb.DuckDBPyConnection,
) -> None:
    cfg = config(fields={"phone": ["valid_first", "most_recent"]})
    recs = [
        record("crm:1", "G1", phones=["+34612345678"], updated=ts("2020-01-01")),
        record("pos:1", "G1", phones=["+34915551234"], updated=ts("2024-01-01")),
    ]
    assert _pick(run(con, cfg, recs), "phone") == ("+34612345678", "crm:1", "valid_first")


def test_valid_first_puts_shared_emails_last(con: duckdb.DuckDBPyConnection) -> None:
    cfg = config(fields={"email": ["valid_first", "most_recent"]})
    recs = [
        # the shop's own address, typed for walk-ins: kept out of matching (email_match)
        record(
            "pos:1", "G1", email_norm="tienda@shop.es", email_match=None, updated=ts("2024-01-01")
        ),
        record("crm:1", "G1", email_norm="ana@mail.es", updated=ts("2020-01-01")),
    ]
    assert _pick(run(con, cfg, recs), "email") == ("ana@mail.es", "crm:1", "valid_first")


def test_collect_keeps_every_value_with_the_primary_first(
    con: duckdb.DuckDBPyConnection,
) -> None:
    cfg = config(fields={"email": ["collect", "most_recent"], "phone": ["collect", "valid_first"]})
    recs = [
        record(
            "crm:1",
            "G1",
            email_norm="b@mail.es",
            phones=["+34915551234", "+34612345678"],
            updated=ts("2020-01-01"),
        ),
        record("shop:1", "G1", email_norm="a@mail.es", updated=ts("2024-01-01")),
        record("pos:1", "G1", email_norm="b@mail.es", phones=["+34699887766"]),
    ]
    result = run(con, cfg, recs)
    golden = result["golden"]["G1"]
    assert golden["email"] == "a@mail.es"
    assert golden["emails"] == ["a@mail.es", "b@mail.es"]
    assert golden["phones"][0] == golden["phone"]
    assert sorted(golden["phones"]) == ["+34612345678", "+34699887766", "+34915551234"]
    # lineage: the primary has its email / phone row; the other values their collect rows
    assert [(r["value"], r["rule"]) for r in result["lineage"][("G1", "emails")]] == [
        ("b@mail.es", "collect")
    ]
    assert len(result["lineage"][("G1", "phones")]) == 2


def test_without_collect_there_is_no_list(con: duckdb.DuckDBPyConnection) -> None:
    recs = [record("crm:1", "G1", email_norm="a@mail.es")]
    assert run(con, config(), recs)["golden"]["G1"]["emails"] is None


def test_a_full_tie_ends_deterministically(con: duckdb.DuckDBPyConnection) -> None:
    cfg = config(default_rule="source_priority")
    recs = [record("crm:2", "G1", loyalty_id="L2"), record("crm:1", "G1", loyalty_id="L1")]
    first = _pick(run(con, cfg, recs), "loyalty_id")
    again = _pick(run(con, cfg, list(reversed(recs))), "loyalty_id")
    assert first == again and first[2] == "tie"


def test_members_with_the_winning_value_credit_the_smallest_record_id(
    con: duckdb.DuckDBPyConnection,
) -> None:
    from omnimdm.store import record_id

    recs = [record(f"crm:{i}", "G1", loyalty_id="L1") for i in range(5)]
    result = run(con, config(default_rule="source_priority"), recs)
    value, named, rule = _pick(result, "loyalty_id")
    smallest = min(range(5), key=lambda i: record_id("crm", str(i)))
    assert (value, named, rule) == ("L1", f"crm:{smallest}", "agreed")


def test_a_lone_candidate_is_named_so(con: duckdb.DuckDBPyConnection) -> None:
    recs = [record("crm:1", "G1", national_id="12345678Z", national_id_kind="DNI")]
    result = run(con, config(), recs)
    assert _pick(result, "national_id") == ("12345678Z", "crm:1", "only_candidate")
    assert result["golden"]["G1"]["national_id_kind"] == "DNI"


def test_names_take_the_accented_display_form(con: duckdb.DuckDBPyConnection) -> None:
    cfg = config(default_rule="most_recent")
    recs = [
        record("pos:1", "G1", surname1="Garcia", updated=ts("2024-01-01")),
        record("crm:1", "G1", surname1="García", updated=ts("2020-01-01")),
        record("shop:1", "G1", surname1="GARCIA", updated=ts("2022-01-01")),
    ]
    value, named, rule = _pick(run(con, cfg, recs), "surname1")
    assert (value, named, rule) == ("García", "crm:1", "agreed+display_form")


def test_address_survives_as_a_unit(con: duckdb.DuckDBPyConnection) -> None:
    """The newest record has only a city: the golden address is that record's, never its
    city glued to another record's street."""
    cfg = config(fields={"address": ["most_recent"]})
    recs = [
        record(
            "crm:1",
            "G1",
            street="Calle Mayor 12",
            street_number="12",
            postcode="28013",
            city="Madrid",
            region="Madrid",
            country="ES",
            updated=ts("2020-01-01"),
        ),
        record("pos:1", "G1", city="Sevilla", updated=ts("2024-01-01")),
    ]
    result = run(con, cfg, recs)
    golden = result["golden"]["G1"]
    assert golden["city"] == "Sevilla"
    assert golden["street"] is None and golden["postcode"] is None
    (row,) = result["lineage"][("G1", "address")]
    assert (row["source"], row["source_record_id"], row["value"]) == ("pos", "1", "Sevilla")


def test_birth_date_valid_first(con: duckdb.DuckDBPyConnection) -> None:
    cfg = config(fields={"birth_date": ["valid_first", "most_recent"]})
    recs = [
        record(
            "pos:1",
            "G1",
            birth_date=dt.date(1900, 1, 1),
            birth_date_reason="placeholder",
            updated=ts("2024-01-01"),
        ),
        record("crm:1", "G1", birth_date=dt.date(1984, 3, 14), updated=ts("2020-01-01")),
    ]
    assert _pick(run(con, cfg, recs), "birth_date") == (
        dt.date(1984, 3, 14),
        "crm:1",
        "valid_first",
    )

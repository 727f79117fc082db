"""Consent per channel and contact point: latest event wins, undated opt-outs win, unknown
never becomes yes, and only strongly matched records can opt a person in."""

from __future__ import annotations

import duckdb
import pytest

from tests.survive.canonical import config, record, run, ts

STRONG = 0.999  # an edge this sure counts as a strong match (default threshold 0.99)


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def _consent(result: dict, channel: str, point: str) -> dict:
    (row,) = [
        r for r in result["consent"] if (r["channel"], r["contact_point"]) == (channel, point)
    ]
    return row


def test_undated_pos_opt_out_beats_a_dated_shop_opt_in(con: duckdb.DuckDBPyConnection) -> None:
    recs = [
        record("pos:1", "G1", email_norm="ana@mail.es", email_consent="no"),  # no date
        record(
            "shop:1", "G1", email_norm="ana@mail.es", email_consent="yes", updated=ts("2024-05-01")
        ),
    ]
    result = run(con, config(), recs, {("pos:1", "shop:1"): STRONG})
    assert result["golden"]["G1"]["email_consent"] == "no"
    row = _consent(result, "email", "ana@mail.es")
    assert (row["source"], row["source_record_id"], row["rule"]) == ("pos", "1", "undated_opt_out")
    (lineage,) = result["lineage"][("G1", "email_consent")]
    assert (lineage["value"], lineage["source"], lineage["rule"]) == (
        "no",
        "pos",
        "undated_opt_out",
    )


def test_opt_in_on_another_email_does_not_cover_this_one(con: duckdb.DuckDBPyConnection) -> None:
    cfg = config(fields={"email": ["collect", "most_recent"]})
    recs = [
        record(
            "shop:1", "G1", email_norm="old@mail.es", email_consent="yes", updated=ts("2020-01-01")
        ),
        record("crm:1", "G1", email_norm="new@mail.es", updated=ts("2024-01-01")),
    ]
    result = run(con, cfg, recs, {("shop:1", "crm:1"): STRONG})
    golden = result["golden"]["G1"]
    assert golden["email"] == "new@mail.es"
    assert golden["email_consent"] is None  # unknown, never yes
    assert _consent(result, "email", "old@mail.es")["consent"] == "yes"
    assert ("G1", "email_consent") not in result["lineage"]


def test_latest_dated_event_wins(con: duckdb.DuckDBPyConnection) -> None:
    recs = [
        record(
            "crm:1", "G1", email_norm="ana@mail.es", email_consent="no", updated=ts("2022-01-01")
        ),
        record(
            "shop:1", "G1", email_norm="ana@mail.es", email_consent="yes", updated=ts("2024-01-01")
        ),
    ]
    result = run(con, config(), recs, {("crm:1", "shop:1"): STRONG})
    row = _consent(result, "email", "ana@mail.es")
    assert (row["consent"], row["rule"], row["source"]) == ("yes", "latest_dated_event", "shop")
    assert row["event_at"] == ts("2024-01-01")


def test_undated_opt_in_is_older_than_any_dated_event(con: duckdb.DuckDBPyConnection) -> None:
    recs = [
        record(
            "crm:1", "G1", email_norm="ana@mail.es", email_consent="no", updated=ts("2019-01-01")
        ),
        record("shop:1", "G1", email_norm="ana@mail.es", email_consent="yes"),
    ]
    result = run(con, config(), recs, {("crm:1", "shop:1"): STRONG})
    assert _consent(result, "email", "ana@mail.es")["consent"] == "no"


def test_a_doubtful_match_cannot_opt_a_person_in(con: duckdb.DuckDBPyConnection) -> None:
    recs = [
        record("crm:1", "G1", email_norm="ana@mail.es"),
        record(
            "shop:1", "G1", email_norm="ana@mail.es", email_consent="yes", updated=ts("2024-01-01")
        ),
    ]
    weak = run(con, config(), recs, {("crm:1", "shop:1"): 0.96})
    assert weak["golden"]["G1"]["email_consent"] is None
    row = _consent(weak, "email", "ana@mail.es")
    assert (row["consent"], row["opt_ins_ignored"], row["rule"]) == (
        None,
        1,
        "opt_in_ignored_weak_match",
    )
    strong = run(con, config(), recs, {("crm:1", "shop:1"): STRONG})
    assert strong["golden"]["G1"]["email_consent"] == "yes"


def test_a_weakly_matched_opt_out_still_counts(con: duckdb.DuckDBPyConnection) -> None:
    recs = [
        record(
            "crm:1", "G1", email_norm="ana@mail.es", email_consent="yes", updated=ts("2020-01-01")
        ),
        record(
            "shop:1", "G1", email_norm="ana@mail.es", email_consent="no", updated=ts("2024-01-01")
        ),
    ]
    result = run(con, config(), recs, {("crm:1", "shop:1"): 0.96})
    assert result["golden"]["G1"]["email_consent"] == "no"


def test_a_lone_record_opts_in_for_itself(con: duckdb.DuckDBPyConnection) -> None:
    recs = [record("shop:1", "G1", email_norm="ana@mail.es", email_consent="yes")]
    assert run(con, config(), recs)["golden"]["G1"]["email_consent"] == "yes"


def test_no_event_is_unknown(con: duckdb.DuckDBPyConnection) -> None:
    recs = [record("crm:1", "G1", email_norm="ana@mail.es", phones=["+34612345678"])]
    result = run(con, config(), recs)
    golden = result["golden"]["G1"]
    assert golden["email_consent"] is None and golden["sms_consent"] is None
    assert result["consent"] == []


def test_sms_consent_is_per_mobile_number(con: duckdb.DuckDBPyConnection) -> None:
    cfg = config(fields={"phone": ["collect", "valid_first", "most_recent"]})
    recs = [
        # the shop's SMS opt-in covers its record's mobile, not the CRM's other mobile
        record(
            "shop:1", "G1", phones=["+34611111111"], sms_consent="yes", updated=ts("2021-01-01")
        ),
        record(
            "crm:1",
            "G1",
            phones=["+34622222222", "+34915551234"],
            sms_consent="no",
            updated=ts("2024-01-01"),
        ),
    ]
    result = run(con, cfg, recs, {("shop:1", "crm:1"): STRONG})
    assert _consent(result, "sms", "+34611111111")["consent"] == "yes"
    assert _consent(result, "sms", "+34622222222")["consent"] == "no"
    # a landline next to a mobile gets no SMS consent of its own
    assert not [r for r in result["consent"] if r["contact_point"] == "+34915551234"]
    assert result["golden"]["G1"]["phone"] == "+34622222222"
    assert result["golden"]["G1"]["sms_consent"] == "no"

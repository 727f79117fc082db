"""The SQL fast path for phones agrees with phonenumbers on every number it settles."""

from __future__ import annotations

import random

import duckdb
import phonenumbers

from omnimdm.normalize.phone_rules import PhoneResult, parse_phone
from omnimdm.normalize.phone_sql import fast_path_sql, invalid_length_sql, strip_phone_sql

TYPES = {
    phonenumbers.PhoneNumberType.FIXED_LINE: "fixed",
    phonenumbers.PhoneNumberType.MOBILE: "mobile",
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: "either",
}


def _reference(digits: str, region: str) -> tuple[str | None, str | None]:
    try:
        num = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return None, None
    if not phonenumbers.is_valid_number(num):
        return None, None
    kind = TYPES.get(phonenumbers.number_type(num), "unknown")
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164), kind


def _numbers(n: int) -> list[tuple[str, str]]:
    rng = random.Random(5)
    out = []
    for _ in range(n):
        k = rng.random()
        if k < 0.3:
            out.append(
                (
                    f"+34 6{rng.randrange(100):02d} {rng.randrange(1000):03d} "
                    f"{rng.randrange(1000):03d}",
                    "ES",
                )
            )
        elif k < 0.55:
            out.append((f"{rng.randrange(10**9):09d}", "ES"))
        elif k < 0.8:
            out.append((f"{rng.randrange(10**10):010d}", "MX"))
        elif k < 0.9:
            out.append((f"0034 {rng.randrange(10**9):09d}", "MX"))
        else:
            out.append((f"+33 {rng.randrange(10**9):09d}", "ES"))
    return out


def test_fast_path_agrees_with_phonenumbers() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE r (raw VARCHAR, region VARCHAR)")
    con.executemany("INSERT INTO r VALUES (?, ?)", _numbers(20_000))
    con.execute(
        f"CREATE TABLE d AS SELECT DISTINCT {strip_phone_sql('raw')} AS digits, region FROM r"
    )
    rows = con.sql(fast_path_sql("d", ["ES", "MX"])).fetchall()
    settled = [(d, r, e, t) for d, r, e, t in rows if e is not None]
    assert len(settled) > 8_000
    for digits, region, e164, kind in settled:
        assert _reference(digits, region) == (e164, kind), digits


def test_mexican_legacy_prefixes_and_formatting() -> None:
    con = duckdb.connect()
    cases = [
        ("+52 1 55 1234 5678", "MX", "+525512345678"),
        ("044 55 1234 5678", "MX", "+525512345678"),
        ("045 33 1234 5678", "MX", "+523312345678"),
        ("01 55 1234 5678", "MX", "+525512345678"),
        ("55-1234-5678", "MX", "+525512345678"),
        ("0034 612 34 56 78", "MX", "+34612345678"),
        ("612-345-678", "ES", "+34612345678"),
        ("+34 (91) 555 12 34", "MX", "+34915551234"),
    ]
    con.execute("CREATE TABLE r (raw VARCHAR, region VARCHAR, expected VARCHAR)")
    con.executemany("INSERT INTO r VALUES (?, ?, ?)", cases)
    con.execute(
        f"CREATE TABLE d AS SELECT DISTINCT {strip_phone_sql('raw')} AS digits, region FROM r"
    )
    got = con.sql(
        f"SELECT r.raw, f.e164, r.expected FROM r JOIN ({fast_path_sql('d', ['ES', 'MX'])}) f "
        f"ON f.digits = {strip_phone_sql('r.raw')} AND f.region = r.region"
    ).fetchall()
    assert len(got) == len(cases)
    for raw, e164, expected in got:
        assert e164 == expected, raw


def _digit_values(n: int) -> list[tuple[str, str]]:
    """Digits, spaces and hyphens of every length, with the prefixes that change parsing."""
    rng = random.Random(11)
    out = []
    for _ in range(n):
        length = rng.randrange(1, 16)
        head = rng.choice(["", "", "", "0", "00", "34", "351", "52", "521", "044", "6", "9"])
        digits = (head + "".join(str(rng.randrange(10)) for _ in range(length)))[:18]
        seps = rng.choice(["", " ", "-"])
        text = seps.join(digits[i : i + 3] for i in range(0, len(digits), 3))
        out.append((text, rng.choice(["ES", "PT", "MX", "FR", "US"])))
    return out


def test_invalid_lengths_agree_with_parse_phone() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE r (raw VARCHAR, region VARCHAR)")
    con.executemany(
        "INSERT INTO r VALUES (?, ?)",
        _digit_values(20_000) + [("55 1234 5678", "ES"), ("612.345.678", "ES")],
    )
    con.execute(
        f"CREATE TABLE d AS SELECT DISTINCT raw, region, {strip_phone_sql('raw')} AS digits FROM r"
    )
    settled = con.sql(invalid_length_sql("d", ["ES", "PT", "MX", "FR", "US"])).fetchall()
    assert len(settled) > 5_000
    assert ("55 1234 5678", "ES") in settled and ("612.345.678", "ES") not in settled
    assert {region for _, region in settled} == {"ES", "PT"}
    invalid = PhoneResult(None, "unknown", "invalid")
    for raw, region in settled:
        assert parse_phone.__wrapped__(raw, region, region) == invalid, (raw, region)

"""The SQL DNI/NIE path agrees with normalize_national_id on every value."""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnimdm.normalize.identifier_sql import build_national_id_lookup
from omnimdm.normalize.identifiers import normalize_national_id

LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
CASES = Path(__file__).parent.parent / "cases" / "normalize" / "identifiers.tsv"


def _dni(n: int, *, good: bool = True) -> str:
    letter = LETTERS[n % 23] if good else LETTERS[(n + 1) % 23]
    return f"{n:08d}{letter}"


def _curp(rng: random.Random) -> str:
    """A CURP-shaped value, usually valid; sometimes with one part broken."""
    alphabet = "0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ"
    upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    word = rng.choice(["BOXW", "GAXM", "PUTO", "XEXX", "".join(rng.choices(upper, k=4))])
    date = rng.choice(["310820", "000229", "010229", "991231", "851332", "850015", "000000"])
    if rng.random() < 0.5:
        date = f"{rng.randrange(100):02d}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
    gender = rng.choice("HHMMX")
    state = rng.choice(["NE", "DF", "JC", "MN", "ZZ", "XX"])
    rest = "".join(rng.choices(upper, k=3)) + rng.choice(upper + "0123456789")
    body = word + date + gender + state + rest
    if rng.random() < 0.05:
        body = "XEXX010101HNEXXX" + rng.choice("A0")
    if rng.random() < 0.05:
        body = "AAAA111111HDFRRR1"
    check = sum(alphabet.index(c) * (18 - i) for i, c in enumerate(body))
    digit = str((10 - check % 10) % 10) if rng.random() < 0.8 else str(rng.randrange(10))
    value = body + digit
    if rng.random() < 0.1:
        value = value.lower()
    if rng.random() < 0.1:
        value = value[:4] + "-" + value[4:10] + " " + value[10:]
    return value


def _values() -> list[tuple[str, str]]:
    rng = random.Random(11)
    raw: set[str] = {
        "12345678Z", "87654321X", "00000000T", "11111111H", "X1111111G", "X-01234567-L",
        "X0123456L", "Y0123456Z", "Z7654321A", "x1234567l", "1234567L", "12345678",
        "12.345.678-Z", "12 345 678 z", "  12345678Z ", "12345678Z&", "１２３４５６７８Z",
        "12345678ZZ", "A12345678", "B12345674", "TEBM430713MBCLTR03", "XAXX010101000",
        "123456789", "12345678\tZ", "12345678  Z", "-", "12345678-", "W0123456L",
    }  # fmt: skip
    for _ in range(400):
        n = rng.randrange(100_000_000)
        raw.add(_dni(n, good=rng.random() < 0.8))
        m = rng.randrange(10_000_000)
        prefix = rng.choice("XYZ")
        letter = LETTERS[int(str("XYZ".index(prefix)) + f"{m:07d}") % 23]
        raw.add(f"{prefix}{m:07d}{letter if rng.random() < 0.8 else 'A'}")
    for _ in range(1500):
        raw.add(_curp(rng))
    for line in CASES.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            raw.add(line.split("\t")[0])
    return [(r, c) for r in sorted(raw) for c in ("", "ES", "MX", "US")]


def _lookup(values: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[object, ...]]:
    con = duckdb.connect()
    con.execute("CREATE TABLE s (raw VARCHAR, country VARCHAR)")
    con.executemany("INSERT INTO s VALUES (?, ?)", values)
    counts = build_national_id_lookup(con, "SELECT raw, country FROM s", "lk")
    assert counts["national_ids"] == len(set(values))
    rows = con.sql("SELECT * FROM lk").fetchall()
    assert len(rows) == len(set(values))
    return {(r[0], r[1]): tuple(r[2:]) for r in rows}


def _expected(raw: str, country: str) -> tuple[object, ...]:
    r = normalize_national_id(raw, country or None)
    return (r.value, r.kind, r.valid)


def test_sql_and_python_agree() -> None:
    values = _values()
    got = _lookup(values)
    for raw, country in values:
        assert got[(raw, country)] == _expected(raw, country), (raw, country)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.text(alphabet="0123456789XYZABTLxyz .-/_,:", min_size=1, max_size=14),
            st.sampled_from(["", "ES", "MX"]),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_agreement_on_generated_values(values: list[tuple[str, str]]) -> None:
    got = _lookup(values)
    assert got == {v: _expected(*v) for v in values}

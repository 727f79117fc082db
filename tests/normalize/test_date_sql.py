"""The SQL birth-date path agrees with parse_date (through mappers.birth_date) on every
value."""

from __future__ import annotations

import random
from datetime import date, timedelta

import duckdb

from omnimdm.normalize import mappers
from omnimdm.normalize.date_sql import build_birth_date_lookup

FORMATS = ("%Y-%m-%d|%d/%m/%Y", "%d/%m/%Y|%Y-%m-%d", "%m/%d/%Y", "", "%Y-%m-%dT%H|%d/%m/%Y")


def _values() -> list[tuple[str, str]]:
    rng = random.Random(3)
    today = date.today()
    days = [today - timedelta(days=k) for k in range(-3, 5)]
    days += [date(1900, 1, 1), date(1901, 1, 1), date(1902, 1, 1), date(1970, 1, 1)]
    days += [date(2000, 2, 29), date(1999, 12, 31), date(1899, 12, 31)]
    raw: set[tuple[str, str]] = set()
    for _ in range(6000):
        y, m, d = rng.randrange(1850, today.year + 3), rng.randrange(1, 13), rng.randrange(1, 29)
        if rng.random() < 0.2:  # impossible and partial days
            m, d = rng.randrange(0, 14), rng.randrange(0, 33)
        if rng.random() < 0.3:
            when = rng.choice(days)
            y, m, d = when.year, when.month, when.day
        iso, dmy = f"{y:04d}-{m:02d}-{d:02d}", f"{d:02d}/{m:02d}/{y:04d}"
        raw |= {(iso, FORMATS[0]), (dmy, FORMATS[1])}  # the sources' own shapes
        text = rng.choice([iso, dmy, f"{d}/{m}/{y}", f"{y}{m:02d}{d:02d}", f" {iso}"])
        raw.add((text, rng.choice(FORMATS)))
    raw |= {("0000-00-00", FORMATS[0]), ("9999-12-31", FORMATS[0]), ("31/02/1984", FORMATS[1])}
    return sorted(raw)


def test_sql_and_python_agree() -> None:
    values = _values()
    con = duckdb.connect()
    con.execute("CREATE TABLE s (raw VARCHAR, formats VARCHAR)")
    con.executemany("INSERT INTO s VALUES (?, ?)", values)
    counts = build_birth_date_lookup(con, "SELECT raw, formats FROM s", "lk")
    assert counts["birth_dates"] == len(values)
    assert counts["birth_dates_by_python"] < len(values) * 0.6  # many settle in SQL
    rows = con.sql("SELECT * FROM lk").fetchall()
    assert len(rows) == len(values)
    got = {(r[0], r[1]): tuple(r[2:]) for r in rows}
    for raw, formats in values:
        assert got[(raw, formats)] == mappers.birth_date(raw, formats), (raw, formats)

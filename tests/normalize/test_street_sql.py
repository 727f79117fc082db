"""The set-based street path (head templates + tails) agrees with parse_street line for line."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnimdm.normalize.address_rules import parse_street
from omnimdm.normalize.street_sql import build_street_lookup

REPO = Path(__file__).parent.parent.parent
SAMPLE = REPO / "data" / "synthetic"
CASES = Path(__file__).parent.parent / "cases" / "normalize" / "streets.tsv"

#: shapes real exports have that the generator does not: each must give parse_street's answer
HAND_MADE = [
    "Calle Mayor 12",
    "Calle Mayor 12B, 3º B",
    "Calle Mayor 12-14, Bajo Izda",
    "Calle Mayor 12 bis",
    "Calle Mayor 12bis, 2º",
    "Calle Mayor 12-B",
    "C/ de la Paz 7, Col. Centro",
    "C/ de la Paz 7, Col. A",
    "Av. Insurgentes Sur 1234, Col. Del Valle, C.P. 03100",
    "Calle 5 de Mayo 12",
    "Calle Mayor, 12, 3º B",
    "Ctra. de Madrid km 12",
    "Calle Mayor s/n, Local 2",
    "Calle Mayor 123456",
    "Calle Mayor nº 17, 4º Dcha",
    "Calle Mayor nº17",
    "Hidalgo #370, Obrera",
    "Hidalgo # 370",
    "Calle Mayor 12 , 3º",
    "Calle Mayor  12, 3º",
    "Calle Mayor 12,  3º  B",
    "Calle Mayor 12,",
    "Calle Mayor 12, 99999 Madrid",
    "Calle Mayor 12, CP 28001",
    "Calle Mayor 12, Código Postal 28001",
    "Calle Mayor 12, Esc. 2, 3º 1ª",
    "Calle Colón 4",
    "Calle Colón 4, Colonia Roma",
    "Plaza de España 1, Atico",
    "Avda. de los Reyes Católicos 70, Edif. Sol",
    "CALLE MAYOR 12, 3ºB",
    "calle mayor 12, 3°B",
    "GarcÃ­a Lorca 3, 1º",
    "Calle Mayor 12, GarcÃ­a",
    "Calle\u00a0Mayor 12, 3º",
    "Calle Mayor 12, 3\u200bº",
    "Calle Mayor \u0663, 1º",
    "0",
    "12",
    "12, 3º",
    "Calle 12",
    "Calle Mayor 0012",
    "Calle Mayor 12, Bajo, 12",
    "Calle Mayor 12, Col. Centro, bis",
    "Calle Mayor 12\n, 3º",
    "Paseo Nueva 10, 9º B",
    "Cno. Lope de Vega 48",
    "DR. LUCIO 219 INT. 26, COL. LOS ANGELES",
    "Calle Mayor 12, de la Paz",
    "Calle Mayor 12, bis",
    "Calle Mayor 12, nº 3",
    "Calle Mayor 12, #3",
    "Arturo Soria, 16, 3B",
    "Arturo Soria,16",
    "Arturo Soria, Bajo 16",
    "Calle Moctezuma 147 Int. 27, Col. Moderna",
    "CALLE SAUCE #310 INT 16, HACIENDA REAL",
    "Calle Mayor cp 28001",
    "Calle Mayor c.p. 28001, 3º",
    "Calle Mayor 12 de la Paz",
    "Calle Mayor 12 Bis, 3º",
    "Calle Mayor 12-",
    "Calle Mayor 12 - 3º",
    "nº 5 de Mayo",
    "Calle Juárez 842\nCol. Azcapotzalco Centro",
    "Calle Mayor 12\u00a0Int 3",
    "Calle Mayor 12#3",
    "Calle Mayor 12, Col. Centro 3",
    "Calle Mayor 12 Col. Centro, B",
    "Calle Mayor, s/n, 12",
    "Calle Mayor 1234567, 3º",
]


def _sample_lines() -> set[str]:
    lines: set[str] = set(HAND_MADE)
    for name, cols in (  # the line the pipeline parses: street and street2 joined
        ("crm_salesforce_contacts.csv", ("MailingStreet",)),
        (
            "ecommerce_shopify_customers.csv",
            ("Default Address Address1", "Default Address Address2"),
        ),
        ("pos_square_customers.csv", ("Street Address 1", "Street Address 2")),
    ):
        with (SAMPLE / name).open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                line = ", ".join(row[c].strip() for c in cols if (row.get(c) or "").strip())
                if line:
                    lines.add(line)
    for line in CASES.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            lines.add(line.split("\t")[0])
    return lines


def _lookup(lines: list[str]) -> dict[str, tuple[object, ...]]:
    con = duckdb.connect()
    con.execute("CREATE TABLE s (raw VARCHAR)")
    con.executemany("INSERT INTO s VALUES (?)", [(v,) for v in lines])
    counts = build_street_lookup(con, "SELECT raw FROM s", "lk")
    assert counts["distinct_streets"] == len(set(lines))
    rows = con.sql("SELECT * FROM lk").fetchall()
    assert len(rows) == len(set(lines))  # every line exactly once
    return {r[0]: tuple(r[1:]) for r in rows}


def _expected(line: str) -> tuple[object, ...]:
    p = parse_street(line)
    return (p.street_type, p.street_name, p.number, p.floor_door)


def test_sql_path_agrees_with_parse_street_and_settles_most_lines() -> None:
    lines = sorted(_sample_lines())
    assert len(lines) > 300
    con = duckdb.connect()
    con.execute("CREATE TABLE s (raw VARCHAR)")
    con.executemany("INSERT INTO s VALUES (?)", [(v,) for v in lines])
    counts = build_street_lookup(con, "SELECT raw FROM s", "lk")
    assert counts["streets_by_python"] < len(lines) / 2  # most lines settle set-based
    for raw, *parts in con.sql("SELECT * FROM lk").fetchall():
        assert tuple(parts) == _expected(raw), raw


_WORDS = st.sampled_from(
    [
        "Calle", "C/", "C.", "Avda.", "Av", "Pº", "Plaza", "Ctra.", "Cll.", "de", "del", "la",
        "Mayor", "Colón", "Col.", "Colonia", "km", "s/n", "nº", "#", "bis", "ter", "Bajo",
        "Izda", "3º", "1ª", "B", "cp", "C.P.", "28001", "12", "12B", "12-14", "7-b", "0",
        "123456", "Int.", "Esc.", "GarcÃ­a", "Núñez", "\u00a0", "°", "Local", ",",
    ]
)  # fmt: skip


_LINE = st.lists(st.lists(_WORDS, min_size=1, max_size=6), min_size=1, max_size=4).map(
    lambda parts: ", ".join(" ".join(words) for words in parts)
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_LINE, min_size=1, max_size=40))
def test_agreement_on_generated_lines(lines: list[str]) -> None:
    assert _lookup(lines) == {line: _expected(line) for line in lines}

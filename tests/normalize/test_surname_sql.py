"""The word-by-word last-name path agrees with split_surnames + display_name value for value."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnimdm.normalize.mappers import surnames_display
from omnimdm.normalize.names import build_surname_lookup

REPO = Path(__file__).parent.parent.parent
SAMPLE = REPO / "data" / "synthetic"
CASES = Path(__file__).parent.parent / "cases" / "normalize" / "names_surnames.tsv"

HAND_MADE = [
    "García López",
    "GARCIA LOPEZ",
    "garcia lopez",
    "GARCÍA lópez",
    "García LOPEZ",
    "de la Fuente Martín",
    "DE LA FUENTE",
    "del Río",
    "Ortega y Gasset",
    "ORTEGA Y GASSET",
    "San Martín",
    "García-López",
    "GARCÍA-LÓPEZ Pérez",
    "O'Brien",
    "D'ANGELO ruiz",
    "y López",
    "López y",
    "López -",
    "- López",
    "López  Pérez",
    " López",
    "López Pérez Gómez",
    "Ñúñez Ÿ",
    "MªJosé",
    "GarcÃ­a López",
    "A B",
    "a",
    "Dé la",
    "Mac Donald",
    "Van Dyke",
    "VON trapp",
]


def _sample_values() -> set[str]:
    values = set(HAND_MADE)
    for name, col in (
        ("crm_salesforce_contacts.csv", "LastName"),
        ("ecommerce_shopify_customers.csv", "Last Name"),
        ("pos_square_customers.csv", "Family Name"),
    ):
        with (SAMPLE / name).open(encoding="utf-8") as fh:
            values |= {r[col] for r in csv.DictReader(fh) if r.get(col)}
    users = json.loads((SAMPLE / "callcenter_zendesk_users.json").read_text(encoding="utf-8"))
    values |= {" ".join(u["name"].split()[1:]) for u in users if u.get("name")}
    for line in CASES.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            values.add(line.split("\t")[0])
    return {v for v in values if v}


def _lookup(values: list[str]) -> dict[str, tuple[object, ...]]:
    con = duckdb.connect()
    con.execute("CREATE TABLE s (raw VARCHAR)")
    con.executemany("INSERT INTO s VALUES (?)", [(v,) for v in values])
    assert build_surname_lookup(con, "SELECT raw FROM s", "lk") == len(set(values))
    rows = con.sql("SELECT * FROM lk").fetchall()
    assert len(rows) == len(set(values))  # every value exactly once
    return {r[0]: tuple(r[1:]) for r in rows}


def test_word_path_agrees_with_split_surnames() -> None:
    values = sorted(_sample_values())
    assert len(values) > 200
    got = _lookup(values)
    for value in values:
        assert got[value] == surnames_display(value), value


_WORDS = st.sampled_from(
    ["García", "GARCÍA", "lópez", "de", "DE", "la", "y", "Y", "San", "O'Brien", "-", "'",
     "Mª", "GarcÃ­a", "Ñ", "a", "VON", "del", "x-y", "Núñez", "PÉREZ", "i", "\u00a0", ""]
)  # fmt: skip
_VALUE = st.lists(_WORDS, min_size=1, max_size=4).map(" ".join).filter(bool)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_VALUE, min_size=1, max_size=40))
def test_agreement_on_generated_values(values: list[str]) -> None:
    assert _lookup(values) == {v: surnames_display(v) for v in values}

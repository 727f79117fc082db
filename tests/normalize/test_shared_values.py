"""Shared junk values found from the data: the shop's own phone typed for walk-ins."""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import yaml

from omnimdm import load_config, run

GIVEN = [
    "Ana",
    "Luis",
    "Marta",
    "Jorge",
    "Lucía",
    "Pablo",
    "Elena",
    "Raúl",
    "Sara",
    "Iván",
    "Nuria",
    "Óscar",
    "Irene",
    "Hugo",
    "Alba",
    "Diego",
    "Rocío",
    "Víctor",
    "Eva",
    "Marco",
]
SURNAMES = [
    "Alonso",
    "Benítez",
    "Cano",
    "Delgado",
    "Esteban",
    "Fuentes",
    "Gallego",
    "Herrero",
    "Iglesias",
    "Lozano",
    "Marín",
    "Nieto",
    "Ortega",
    "Prieto",
    "Quintana",
    "Rubio",
    "Sáez",
    "Tomás",
    "Vidal",
    "Zamora",
]
SHOP_PHONE = "910 000 123"
HEADER = "Square Customer ID,First Name,Last Name,Email Address,Phone Number,Birthday,Last Visit\n"


def _pos_file(path: Path, rows: int, walk_ins: int, shop_phone: bool = True) -> None:
    rng = random.Random(11)
    lines = [HEADER]
    for i in range(rows):
        own = f"6{rng.randrange(10**8):08d}"
        phone = SHOP_PHONE if i < walk_ins and shop_phone else own
        g, s = rng.choice(GIVEN), rng.choice(SURNAMES)
        dob = f"19{rng.randrange(40, 99)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        lines.append(f"SQ{i:06d},{g},{s},,{phone},{dob},2024-0{rng.randrange(1, 9)}-01\n")
    path.write_text("".join(lines), encoding="utf-8")


def _run(tmp_path: Path, shop_phone: bool) -> tuple[Path, int, int]:
    rows, walk_ins = 600, 30  # 5% of POS rows carry the shop's phone
    tmp_path.mkdir(parents=True, exist_ok=True)
    _pos_file(tmp_path / "pos.csv", rows, walk_ins, shop_phone)
    config_path = tmp_path / "c.yaml"
    config_path.write_text(
        yaml.safe_dump(
            {
                "sources": [
                    {"name": "pos", "kind": "pos", "preset": "square_customers", "path": "pos.csv"}
                ],
                "store": {"path": str(tmp_path / "s.duckdb")},
            }
        )
    )
    result = run(load_config(config_path))
    return tmp_path / "s.duckdb", walk_ins, int(result.counts["match"]["pairs_scored_kept"])


def test_shop_phone_neither_blows_up_pairs_nor_merges(tmp_path: Path) -> None:
    store, walk_ins, pairs = _run(tmp_path / "shop", shop_phone=True)
    _, _, pairs_without = _run(tmp_path / "own", shop_phone=False)
    # the shared phone adds no candidate pairs (30 walk-ins sharing it would add 435)
    assert pairs <= pairs_without + 5
    con = duckdb.connect(str(store), read_only=True)
    shared = con.sql("SELECT field, value, records FROM shared_values").fetchall()
    assert ("phone", "+34910000123", walk_ins) in shared
    merged = con.sql(
        "SELECT count(*) FROM (SELECT golden_id FROM crosswalk WHERE source_record_id < $w "
        "GROUP BY golden_id HAVING count(*) > 1)",
        params={"w": f"SQ{walk_ins:06d}"},
    ).fetchall()[0][0]
    profile = con.sql("SELECT shared FROM quality_profile WHERE field = 'phone'").fetchall()
    con.close()
    assert merged == 0
    assert profile == [(walk_ins,)]

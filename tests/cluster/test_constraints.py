"""Constraints keep apart what the rules say are different people."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import duckdb
import pytest
import yaml

from omnimdm import load_config, run
from omnimdm.cluster.constrained import Edge, constrained_components
from omnimdm.cluster.constraints import Identity, dates_conflict

D = dt.date


@pytest.mark.parametrize(
    ("a", "b", "conflict"),
    [
        (D(1984, 3, 14), D(1984, 3, 14), False),
        (D(1984, 3, 4), D(1984, 4, 3), False),  # day/month swapped
        (D(1984, 3, 14), D(1984, 3, 15), False),  # one digit slip
        (D(1984, 3, 14), D(1948, 3, 14), False),  # two adjacent digits transposed
        (D(1984, 3, 14), D(1957, 3, 14), True),  # decades apart
        (D(1984, 3, 14), D(1984, 5, 19), False),  # two digits within a year: noise
        (D(1984, 3, 14), D(1986, 7, 30), True),  # a sibling: five digits differ
        (D(1970, 6, 2), D(2001, 6, 2), True),  # parent and child
    ],
)
def test_dates_conflict(a: dt.date, b: dt.date, conflict: bool) -> None:
    assert dates_conflict(a, b) is conflict
    assert dates_conflict(b, a) is conflict


def _nodes() -> dict[int, Identity]:
    return {
        1: Identity.of(D(2001, 6, 2), None, None),  # son
        2: Identity.of(None, None, None),  # POS record: name and landline only
        3: Identity.of(D(1970, 6, 2), None, None),  # father
        4: Identity.of(D(1970, 6, 2), "DNI", "12345678Z"),
    }


def test_weakest_link_between_conflicting_sides_is_cut() -> None:
    edges = [Edge(1, 2, 12.0), Edge(2, 3, 5.0), Edge(3, 4, 20.0)]
    for seed in range(5):  # independent of input order
        shuffled = edges[:]
        random.Random(seed).shuffle(shuffled)
        keys, cut = constrained_components(_nodes(), shuffled)
        assert keys == {1: 1, 2: 1, 3: 3, 4: 3}
        assert cut == 1


def test_different_valid_ids_of_one_kind_conflict() -> None:
    nodes = {
        1: Identity.of(None, "DNI", "12345678Z"),
        2: Identity.of(None, "DNI", "87654321X"),
        3: Identity.of(None, "CURP", "X"),
    }
    keys, cut = constrained_components(nodes, [Edge(1, 2, 30.0), Edge(2, 3, 10.0)])
    assert keys[1] != keys[2] and keys[2] == keys[3] and cut == 1


def test_must_link_and_cannot_link() -> None:
    nodes = {n: Identity() for n in (1, 2, 3)}
    keys, _ = constrained_components(
        nodes, [Edge(1, 2, 20.0), Edge(2, 3, 20.0)], cannot_link={(1, 3)}
    )
    assert keys[1] == keys[2] != keys[3]
    keys, _ = constrained_components(
        {1: Identity.of(D(2001, 6, 2), None, None), 2: Identity.of(D(1970, 6, 2), None, None)},
        [Edge(1, 2, -5.0, must_link=True)],
    )
    assert keys[1] == keys[2]  # a steward's must-link outranks the automatic rule


def test_father_and_son_with_the_same_name_stay_apart(tmp_path: Path) -> None:
    header = (
        "Id,FirstName,LastName,Email,Phone,MobilePhone,Birthdate,MailingStreet,"
        "MailingCity,MailingPostalCode,MailingCountry,LastModifiedDate\n"
    )
    rows = [
        "0030000000000001AA,José,García López,jose.garcia@gmail.com,915551234,612345678,"
        "1970-06-02,Calle Mayor 12,Madrid,28013,ES,2024-01-01T00:00:00.000Z",
        "0030000000000002AA,José,García López,josegl2001@hotmail.com,915551234,699111222,"
        "2001-06-02,Calle Mayor 12,Madrid,28013,ES,2024-01-01T00:00:00.000Z",
        "0030000000000003AA,Jose,Garcia Lopez,jose.garcia@gmail.com,915551234,612345678,"
        "1970-06-02,Calle Mayor 12,Madrid,28013,ES,2024-02-01T00:00:00.000Z",
    ]
    (tmp_path / "crm.csv").write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "sources": [
                    {
                        "name": "crm",
                        "kind": "crm",
                        "preset": "salesforce_contacts",
                        "path": "crm.csv",
                    }
                ],
                "store": {"path": str(tmp_path / "s.duckdb")},
                "matching": {"threshold_match_probability": 0.5},
            }
        )
    )
    run(load_config(cfg))
    con = duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True)
    groups = con.sql(
        "SELECT list(source_record_id ORDER BY source_record_id) FROM crosswalk "
        "GROUP BY golden_id ORDER BY 1"
    ).fetchall()
    con.close()
    assert [g[0] for g in groups] == [
        ["0030000000000001AA", "0030000000000003AA"],
        ["0030000000000002AA"],
    ]

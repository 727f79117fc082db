"""Stable golden ids: overlap matching, the persistent sequence and the event log."""

from __future__ import annotations

import random

import duckdb
import pytest

from omnimdm.cluster.golden_ids import PreviousIds, assign_golden_ids, format_golden_id
from omnimdm.store import record_id


class Runs:
    """Successive clusterings of records named ``SOURCE:ID`` through the real id stage."""

    def __init__(self) -> None:
        self.con = duckdb.connect()
        self.run_id = 0

    def cluster(self, groups: list[list[str]], *, key_seed: int = 0) -> dict[str, str]:
        """Assign ids to ``groups``; return ``SOURCE:ID`` -> golden id. ``key_seed``
        relabels the cluster keys and reorders the rows (what Splink may do)."""
        self.run_id += 1
        run, prev = self.run_id, self.run_id - 1
        rng = random.Random(key_seed)
        rows = [
            (key, rng.randrange(1 << 40) if key_seed else i)
            for i, group in enumerate(groups)
            for key in group
        ]
        labels = {i: rng.randrange(1 << 40) for i in range(len(groups))}
        rng.shuffle(rows)
        self.con.execute(f"CREATE TABLE clusters_{run} (record_id BIGINT, cluster_key BIGINT)")
        self.con.execute(
            "CREATE OR REPLACE TABLE norm (record_id BIGINT, source VARCHAR, "
            "source_record_id VARCHAR)"
        )
        group_of = {key: i for i, group in enumerate(groups) for key in group}
        for key, _ in rows:
            source, sid = key.split(":", 1)
            rid = record_id(source, sid)
            self.con.execute(
                f"INSERT INTO clusters_{run} VALUES (?, ?)", [rid, labels[group_of[key]]]
            )
            self.con.execute("INSERT INTO norm VALUES (?, ?, ?)", [rid, source, sid])
        previous = (
            PreviousIds(members=f"members_{prev}", registry=f"ids_{prev}", sequence=f"seq_{prev}")
            if prev
            else PreviousIds()
        )
        assign_golden_ids(
            self.con,
            run_id=run,
            clusters=f"clusters_{run}",
            norm="norm",
            previous=previous,
            out=f"members_{run}",
            registry_out=f"ids_{run}",
            sequence_out=f"seq_{run}",
            events_out=f"events_{run}",
        )
        return {
            f"{s}:{i}": g
            for s, i, g in self.con.sql(
                f"SELECT source, source_record_id, golden_id FROM members_{run}"
            ).fetchall()
        }

    def events(self) -> set[tuple[str, str, str | None, str | None]]:
        """This run's events as (event, golden id, related id, SOURCE:ID or None)."""
        rows = self.con.sql(
            "SELECT event, golden_id, related_golden_id, source, source_record_id "
            f"FROM events_{self.run_id}"
        ).fetchall()
        return {(e, g, r, f"{s}:{i}" if s else None) for e, g, r, s, i in rows}

    def registry(self) -> dict[str, tuple[int | None, int | None, str | None]]:
        rows = self.con.sql(
            f"SELECT golden_id, created_run, retired_run, successor FROM ids_{self.run_id}"
        ).fetchall()
        return {g: (c, r, s) for g, c, r, s in rows}

    def sequence(self) -> int:
        return int(self.con.sql(f"SELECT last_value FROM seq_{self.run_id}").fetchall()[0][0])


G = format_golden_id


@pytest.fixture
def runs() -> Runs:
    return Runs()


def test_first_run_numbers_clusters_by_their_smallest_member(runs: Runs) -> None:
    ids = runs.cluster([["pos:9", "crm:5"], ["crm:1"], ["shop:1", "calls:7"]])
    # (calls, 7) < (crm, 1) < (crm, 5)
    assert ids == {"calls:7": G(1), "shop:1": G(1), "crm:1": G(2), "crm:5": G(3), "pos:9": G(3)}
    assert runs.events() == {("CREATED", G(i), None, None) for i in (1, 2, 3)}
    assert runs.sequence() == 3


def test_same_clusters_again_keep_their_ids_and_make_no_events(runs: Runs) -> None:
    groups = [["crm:1", "pos:1"], ["crm:2"]]
    first = runs.cluster(groups)
    assert runs.cluster(groups) == first
    assert runs.events() == set()
    assert runs.sequence() == 2


def test_ids_ignore_row_order_and_cluster_labels(runs: Runs) -> None:
    groups = [["crm:1", "pos:1"], ["crm:2", "shop:4"], ["calls:3"]]
    first = runs.cluster(groups)
    other = Runs()
    assert other.cluster(groups, key_seed=7) == first
    assert runs.cluster(groups, key_seed=11) == first


def test_records_added_join_or_create(runs: Runs) -> None:
    runs.cluster([["crm:1"], ["crm:2"]])
    ids = runs.cluster([["crm:1", "pos:1"], ["crm:2"], ["shop:1"]])
    assert ids == {"crm:1": G(1), "pos:1": G(1), "crm:2": G(2), "shop:1": G(3)}
    assert runs.events() == {("CREATED", G(3), None, None)}


def test_merge_keeps_the_bigger_id_and_points_the_other_to_it(runs: Runs) -> None:
    runs.cluster([["crm:1", "pos:1"], ["shop:1"]])
    ids = runs.cluster([["crm:1", "pos:1", "shop:1"]])
    assert set(ids.values()) == {G(1)}
    assert runs.events() == {
        ("MERGED_INTO", G(2), G(1), None),
        ("RECORD_MOVED", G(1), G(2), "shop:1"),
    }
    assert runs.registry()[G(2)] == (1, 2, G(1))


def test_equal_size_merge_keeps_the_older_id(runs: Runs) -> None:
    runs.cluster([["shop:1"]])  # G1, run 1
    runs.cluster([["shop:1"], ["crm:1"]])  # crm:1 gets G2 in run 2 (smaller key, newer id)
    ids = runs.cluster([["crm:1", "shop:1"]])
    assert set(ids.values()) == {G(1)}
    assert ("MERGED_INTO", G(2), G(1), None) in runs.events()


def test_equal_size_merge_of_ids_of_one_run_keeps_the_smallest_member(runs: Runs) -> None:
    runs.cluster([["shop:1"], ["crm:1"]])  # crm:1 -> G1, shop:1 -> G2
    ids = runs.cluster([["crm:1", "shop:1"]])
    assert set(ids.values()) == {G(1)}


def test_split_keeps_the_id_on_the_bigger_part(runs: Runs) -> None:
    runs.cluster([["crm:1", "pos:1", "shop:1"]])
    ids = runs.cluster([["crm:1", "pos:1"], ["shop:1"]])
    assert ids == {"crm:1": G(1), "pos:1": G(1), "shop:1": G(2)}
    assert runs.events() == {
        ("CREATED", G(2), None, None),
        ("SPLIT_FROM", G(2), G(1), None),
        ("RECORD_MOVED", G(2), G(1), "shop:1"),
    }


def test_one_plus_one_split_keeps_the_id_on_the_smallest_member(runs: Runs) -> None:
    runs.cluster([["pos:1", "crm:1"]])
    ids = runs.cluster([["pos:1"], ["crm:1"]])
    assert ids == {"crm:1": G(1), "pos:1": G(2)}
    assert ("SPLIT_FROM", G(2), G(1), None) in runs.events()


def test_regroup_of_two_clusters_into_two_others(runs: Runs) -> None:
    runs.cluster([["crm:1", "crm:2", "pos:1"], ["pos:2", "pos:3", "crm:3"]])
    ids = runs.cluster([["crm:1", "crm:2", "crm:3"], ["pos:1", "pos:2", "pos:3"]])
    assert ids["crm:1"] == ids["crm:3"] == G(1)
    assert ids["pos:1"] == ids["pos:3"] == G(2)
    assert runs.events() == {
        ("RECORD_MOVED", G(1), G(2), "crm:3"),
        ("RECORD_MOVED", G(2), G(1), "pos:1"),
    }


def test_retired_ids_are_never_reused(runs: Runs) -> None:
    runs.cluster([["crm:1"], ["crm:2"], ["crm:3"]])
    runs.cluster([["crm:1"]])  # G2 and G3 retire: their records left the sources
    assert runs.events() == {("RETIRED", G(2), None, None), ("RETIRED", G(3), None, None)}
    ids = runs.cluster([["crm:1"], ["crm:2"], ["crm:3"]])  # the same records come back
    assert ids == {"crm:1": G(1), "crm:2": G(4), "crm:3": G(5)}
    registry = runs.registry()
    assert registry[G(2)][1] == 2 and registry[G(4)] == (3, None, None)
    assert runs.sequence() == 5


def test_greedy_matching_gives_each_old_id_to_one_cluster(runs: Runs) -> None:
    runs.cluster([["a:1", "a:2", "a:3", "b:1", "b:2"]])
    ids = runs.cluster([["a:1", "a:2", "a:3"], ["b:1", "b:2"]])
    assert ids["a:1"] == G(1) and ids["b:1"] == G(2)
    ids = runs.cluster([["a:1", "b:1"], ["a:2", "b:2"], ["a:3"]])
    assert len(set(ids.values())) == 3
    assert sorted(set(ids.values()) & {G(1), G(2)}) == [G(1), G(2)]

"""Store.rewrite_file: deleted rows' bytes stay in a DuckDB file until it is rewritten."""

from __future__ import annotations

from pathlib import Path

import pytest

from omnimdm import Store, StoreError
from tests.erase.traces import byte_hits

GONE, KEPT = "erased.person@example.org", "control.person@example.org"


def test_rewrite_file_leaves_no_deleted_bytes_and_no_leftovers(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.duckdb")
    with store.writer("test") as con:
        con.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, email VARCHAR)")
        con.execute("INSERT INTO people VALUES (1, ?), (2, ?)", [GONE, KEPT])
        con.execute("CHECKPOINT")
        con.execute("DELETE FROM people WHERE id = 1")
        con.execute("CHECKPOINT")
        con.execute("VACUUM")
    # what the issue says of DuckDB: DELETE, CHECKPOINT and VACUUM leave the bytes
    assert byte_hits(store.path, [GONE, KEPT]) == [GONE, KEPT]
    leftovers = [
        tmp_path / "s.duckdb.rewrite-999",
        tmp_path / f"{store.snapshot_path.name}.tmp-999",
    ]
    for leftover in leftovers:
        leftover.write_text(GONE)

    with pytest.raises(StoreError, match="writer lock"):
        store.rewrite_file()
    with store.locked("test"):
        store.rewrite_file()

    assert byte_hits(store.path, [GONE, KEPT]) == [KEPT]
    assert not any(p.exists() for p in leftovers)
    with store.writer("test") as con:
        assert con.sql("SELECT * FROM people").fetchall() == [(2, KEPT)]
        with pytest.raises(Exception, match="[Cc]onstraint"):  # the primary key came along
            con.execute("INSERT INTO people VALUES (2, 'x')")

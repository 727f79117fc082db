"""Erasure end to end: `omnimdm forget` by each selector on a real published store.

Two levels of proof: a SQL search of every column of every table and view (raw JSON
included) of the store and its snapshot finds none of the person's values, also after a
rerun on the same export files; and a byte search of the rewritten files finds a control
value that must remain but not the erased ones.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import duckdb

from omnimdm.store import Store
from tests.conftest import write_config
from tests.erase.conftest import ErasureEnv
from tests.erase.traces import byte_hits, sql_hits, table_count

#: María José García (crm, ecommerce, pos, callcenter): raw and normalized forms
MARIA = (
    "mj.garcia@gmail.com",
    "mjgarcia@gmail.com",
    "garcia+shop",
    "+34 612 34 56 78",
    "612-345-678",
    "0034612345678",
    "+34612345678",
    "612345678",
    "12345678z",
    "0035g00000abcdeaav",
    "7012345678901",
    "k1abcdefghjkmnpqrstvwxyz01",
    "1234567890123",
    "loy-0001",
    "calle mayor",
    "garcia",
    "maria jose",
    "majo",
)
#: another person's values that must survive every erasure (byte search control)
CONTROL = ("lola.sanchez@yahoo.es", "0035g00000QrStUAAV")
MARIA_CRM = ("crm", "0035g00000AbCdEAAV")


def _no_trace(env: ErasureEnv, needles: tuple[str, ...], raw: tuple[str, ...]) -> None:
    for db in (env.store, env.snapshot):
        assert sql_hits(db, needles) == [], db.name
        assert byte_hits(db, raw) == [], db.name
        assert byte_hits(db, CONTROL) == list(CONTROL), db.name


def _rerun(env: ErasureEnv) -> tuple[str, dict[str, dict[str, int]]]:
    """Run again on the same export files; return the output and the per-source counts,
    checked to reconcile (read = accepted + rejected + suppressed)."""
    output = env.ok("run")
    counts = json.loads(
        str(env.query("SELECT counts FROM runs ORDER BY run_id DESC LIMIT 1")[0][0])
    )
    for name, c in counts["sources"].items():
        assert c["read"] == c["accepted"] + c["rejected"] + c["suppressed"], name
    return output, counts["sources"]


def test_forget_golden_id_erases_every_trace_also_after_a_rerun(env: ErasureEnv) -> None:
    golden_id = env.golden_of(":".join(MARIA_CRM))
    raw = ("mj.garcia@gmail.com", "0035g00000AbCdEAAV", "Calle Mayor", "12345678Z")
    assert sql_hits(env.store, MARIA) and byte_hits(env.store, raw) == list(raw)  # sanity
    tables = table_count(env.store)

    refused = env.cli("forget", "--golden-id", golden_id)
    assert refused.exit_code == 2 and "--dry-run" in refused.output

    dry = env.ok("forget", "--golden-id", golden_id, "--dry-run")
    members = [line.strip() for line in dry.splitlines() if re.fullmatch(r"  [a-z]+:\S+", line)]
    assert "would be erased" in dry
    assert sorted(members) == [
        "callcenter:1234567890123",
        "crm:0035g00000AbCdEAAV",
        "ecommerce:7012345678901",
        "pos:K1ABCDEFGHJKMNPQRSTVWXYZ01",
    ]
    assert "arcia" not in dry and "612" not in dry  # ids only, no personal data
    assert env.query("SELECT count(*) FROM erasure_audit") == [(0,)]
    assert table_count(env.store) == tables and not env.key.exists()

    # what a killed run leaves behind: its staging tables and a half-written snapshot
    con = duckdb.connect(str(env.store))
    con.execute("CREATE TABLE stg_r99_src_records AS SELECT * FROM src_records")
    con.close()
    stale_snapshot = env.folder / "t.snapshot.duckdb.tmp-99"
    stale_snapshot.write_bytes(env.snapshot.read_bytes())

    out = env.ok("forget", "--golden-id", golden_id, "--yes", "--reference", "DSAR-17")
    assert not stale_snapshot.exists()
    assert "4 record(s) removed" in out and "golden record erased" in out
    assert oct(env.key.stat().st_mode & 0o777) == "0o600"
    _no_trace(env, MARIA, raw)
    events = env.query(
        "SELECT event FROM golden_events WHERE golden_id = ? ORDER BY 1", [golden_id]
    )
    assert ("ERASED",) in events and ("RETIRED",) in events
    audit = env.query("SELECT reference, records_removed, golden_ids_affected FROM erasure_audit")
    assert audit == [("DSAR-17", 4, [golden_id])]

    rerun, sources = _rerun(env)
    assert "suppressed" in rerun
    assert {s: c["suppressed"] for s, c in sources.items()} == {
        "crm": 1,
        "ecommerce": 1,
        "pos": 1,
        "callcenter": 1,
    }
    _no_trace(env, MARIA, raw)


def test_forget_email_finds_every_spelling_and_keeps_the_rest(env: ErasureEnv) -> None:
    golden_id = env.golden_of(":".join(MARIA_CRM))
    out = env.ok("forget", "--email", "MJ.Garcia+x@GMAIL.com")
    assert "3 record(s) removed" in out and "rebuilt from 1 remaining" in out
    # the POS record (no e-mail) keeps the golden id; its golden record is rebuilt
    assert env.golden_of("pos:K1ABCDEFGHJKMNPQRSTVWXYZ01") == golden_id
    assert env.query(
        "SELECT email, given_name FROM golden_customers WHERE golden_id = ?", [golden_id]
    ) == [(None, "Majo")]
    assert env.query(
        "SELECT count(*) FROM golden_events WHERE golden_id = ? AND event = 'ERASED'", [golden_id]
    ) == [(1,)]
    emails = ("mj.garcia", "mjgarcia", "garcia+shop", "0035g00000abcdeaav", "1234567890123")
    for db in (env.store, env.snapshot):
        assert sql_hits(db, emails) == [], db.name
        assert byte_hits(db, ("mj.garcia@gmail.com", "MJ.Garcia+shop")) == []
    # tombstones: the e-mail and the three records' keys, as HMACs only
    kinds = env.query("SELECT kind, count(*) FROM erasure_tombstones GROUP BY 1 ORDER BY 1")
    assert kinds == [("email", 1), ("record", 3)]


def test_forget_phone_and_record_with_rejected_rows_then_rerun(env: ErasureEnv) -> None:
    carlos, pedro = (
        env.golden_of("ecommerce:7012345678903"),
        env.golden_of("callcenter:1234567890125"),
    )
    assert env.query("SELECT count(*) FROM rejects WHERE source = 'ecommerce'") == [(2,)]
    out = env.ok(
        "forget", "--phone", "+34 677 12 34 56", "--source", "ecommerce", "--id", "7012345678903"
    )
    assert "2 record(s) removed" in out and "2 rejected row(s)" in out
    needles = (
        "carlos.ruiz",
        "carlosruiz",
        "655443322",
        "7012345678903",
        "pedro.martin",
        "677123456",
        "677 12 34 56",
        "martin gil",
    )
    _no_trace(env, needles, ("carlos.ruiz@gmail.com", "pedro.martin@telefonica.net"))
    assert env.query("SELECT reason FROM rejects ORDER BY 1") == [("missing_source_record_id",)]
    for golden_id in (carlos, pedro):
        events = env.query("SELECT event FROM golden_events WHERE golden_id = ?", [golden_id])
        assert sorted(e[0] for e in events) == ["CREATED", "ERASED", "RETIRED"]

    _, sources = _rerun(env)
    # both Carlos rows (one a duplicate), his malformed line and Pedro's user
    assert sources["ecommerce"]["suppressed"] == 3
    assert sources["callcenter"]["suppressed"] == 1
    assert sources["crm"]["suppressed"] == 0
    _no_trace(env, needles, ("carlos.ruiz@gmail.com", "pedro.martin@telefonica.net"))


def test_missing_or_wrong_key_with_tombstones_is_a_clear_error(env: ErasureEnv) -> None:
    env.ok("forget", "--source", "crm", "--id", "0035g00000XyZwQAAV")
    saved = env.key.read_bytes()
    env.key.unlink()
    for args in (("run",), ("forget", "--email", "lola.sanchez@yahoo.es")):
        result = env.cli(*args)
        assert result.exit_code == 1, result.output
        assert "erasure key file" in result.output and "missing" in result.output
        assert "Traceback" not in result.output
    env.key.write_text(os.urandom(32).hex() + "\n")
    result = env.cli("run")
    assert result.exit_code == 1 and "not the key" in result.output
    env.key.write_bytes(saved)
    env.ok("run")


def test_forget_fails_at_once_when_the_store_is_held(env: ErasureEnv) -> None:
    holder = Store(env.store).lock
    holder.acquire("run")
    try:
        result = env.cli("forget", "--email", "lola.sanchez@yahoo.es")
    finally:
        holder.release()
    assert result.exit_code == 1 and "locked by pid" in result.output


def test_requests_that_are_refused(env: ErasureEnv) -> None:
    cases = {
        ("forget",): "name what to forget",
        ("forget", "--email", "noemail@noemail.com"): "placeholder",
        ("forget", "--golden-id", "G999999999", "--dry-run"): "not a golden id",
        ("forget", "--email", "lola.sanchez@yahoo.es", "--reference", "lola.sanchez@yahoo.es"): (
            "reference"
        ),
    }
    for args, message in cases.items():
        result = env.cli(*args)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output and "Traceback" not in result.output
    assert env.cli("forget", "--source", "crm").exit_code == 2  # --id missing
    assert env.query("SELECT count(*) FROM erasure_audit") == [(0,)]


def test_forget_before_the_first_run_keeps_the_person_out(tmp_path: Path, mini_dir: Path) -> None:
    env = ErasureEnv(tmp_path, write_config(tmp_path, mini_dir))
    out = env.ok("forget", "--email", "LOLA.SANCHEZ@yahoo.es", "--phone", "+34 622 33 44 55")
    assert "0 record(s) removed" in out and "2 tombstone(s) added" in out
    assert env.query("SELECT command, status FROM runs") == [("forget", "erasure")]
    _, sources = _rerun(env)
    # Dolores's CRM contact (e-mail and mobile) and her POS record (the mobile) never land
    assert sources["crm"]["suppressed"] == 1
    assert sources["pos"]["suppressed"] == 1
    assert sql_hits(env.store, ("lola.sanchez", "622334455", "622 33 44 55", "sanchez")) == []


def test_forget_removes_decisions_and_events_naming_the_record(env: ErasureEnv) -> None:
    maria, majo = "crm:0035g00000AbCdEAAV", "pos:K1ABCDEFGHJKMNPQRSTVWXYZ01"
    env.ok("review", "decide", maria, majo, "--different", "--note", "two people")
    env.ok("run")  # the cannot-link splits the golden record: a record moves
    moved = env.query(
        "SELECT source, source_record_id FROM golden_events WHERE event = 'RECORD_MOVED'"
    )
    assert len(moved) == 1
    source, source_record_id = (str(v) for v in moved[0])
    out = env.ok("forget", "--source", source, "--id", source_record_id)
    assert "1 golden-id event(s) and 1 steward decision(s) were removed" in out
    assert env.query("SELECT count(*) FROM review_decisions") == [(0,)]
    for db in (env.store, env.snapshot):
        assert sql_hits(db, [source_record_id]) == [], db.name

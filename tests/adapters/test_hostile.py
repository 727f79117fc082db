"""Hostile input, one case a line: SQL in names and values, junk bytes, odd encodings,
broken quoting, huge lines, deep JSON. Each gets a clear outcome, either rows accepted or
rejected with a reason, or a config / file-level error (exit 1, the file and a fix named)
before anything is published, and the previously published golden records and snapshot
stay as they were. Cases covered elsewhere (0-byte file, truncated gzip, ragged rows,
fields over 4 KiB, NUL bytes, JSON Lines too deep) live in ``test_bad_input.py`` and
``test_presets.py``."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from click.testing import CliRunner

from omnimdm import ConfigError, SourceError, load_config, run
from omnimdm.cli import cli

EVIL = 'x"; DROP TABLE golden_customers; --'
EVIL_SQ = "x'); DROP TABLE golden_customers; --"
HEADER = "Square Customer ID,First Name,Last Name,Email Address,Phone Number\n"
GOOD = "H1,Ana,Garcia,ana@x.es,611111111\nH2,Bea,Ruiz,bea@x.es,622222222\n"
JUNK = random.Random(7).randbytes(4000)


def _csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _zendesk(*users: dict[str, Any]) -> bytes:
    return json.dumps(list(users)).encode()


@dataclass(frozen=True)
class Case:
    id: str
    body: bytes = (HEADER + GOOD).encode()
    file: str = "pos.csv"
    source: dict[str, Any] = field(default_factory=dict)  # overrides; None removes a key
    error: type[Exception] | None = None
    message: str = ""
    accepted: int | None = None
    rejected: dict[str, int] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)  # source_record_id -> given_name


CASES = [
    # names in configs and file headers
    Case("source name with SQL", source={"name": EVIL}, error=ConfigError,
         message="lower-case letters"),
    Case("preset name with SQL", source={"preset": EVIL}, error=ConfigError,
         message="unknown preset"),
    Case("mapping field with SQL", source={"preset": None, "mapping": {"columns": {
         "source_record_id": "Square Customer ID", EVIL: "First Name"}}},
         error=ConfigError, message="unknown"),
    Case("mapped column named with SQL",
         body=f"id,{_csv_cell(EVIL)},{_csv_cell(EVIL_SQ)}\nM1,Ana,Gil\n".encode(),
         source={"preset": None, "mapping": {"columns": {
             "source_record_id": "id", "given_name": EVIL, "surname": EVIL_SQ}}},
         accepted=1, values={"M1": "Ana"}),
    Case("file headers with SQL",
         body=(HEADER.strip() + f",{_csv_cell(EVIL)},{_csv_cell(EVIL_SQ)},\n"
               + GOOD.replace("\n", ",a,b,c\n")).encode(),
         accepted=2, values={"H1": "Ana"}),
    Case("JSON keys and values with SQL", file="users.json",
         body=_zendesk({"id": 1, "name": EVIL_SQ, EVIL: EVIL, "email": "j@x.es"}),
         source={"preset": "zendesk_users"}, accepted=1),
    Case("date formats with SQL",
         source={"date_formats": {"updated_at": [EVIL_SQ], "birth_date": [EVIL_SQ]}},
         accepted=2),
    # values
    Case("values with quotes and SQL",
         body=(HEADER + f"Q1,{_csv_cell(EVIL_SQ)},{_csv_cell(EVIL)},q@x.es,\n"
               + "Q2,O'Brien,\"D'Angelo \"\"Bobby\"\"\",,\n").encode(),
         accepted=2, values={"Q1": EVIL_SQ, "Q2": "O'Brien"}),
    Case("JSON nested deeper than 32", file="users.json",
         body=_zendesk({"id": 1, "name": "Ana Gil", "x": json.loads("[" * 40 + "]" * 40)},
                       {"id": 2, "name": "Bea Ruiz"}),
         source={"preset": "zendesk_users"}, accepted=1, rejected={"json_too_deep": 1}),
    Case("JSON document that is not an object", file="users.json", body=b'"hello"',
         source={"preset": "zendesk_users"}, accepted=0,
         rejected={"missing_source_record_id": 1}),
    # files
    Case("binary junk as CSV", body=JUNK, error=SourceError, message="not text"),
    Case("binary junk as JSON", body=JUNK, file="users.json",
         source={"preset": "zendesk_users"}, error=SourceError, message="not text"),
    Case("a few junk bytes in a text file",
         body=(HEADER + GOOD + "H3,Eva\x01\x02,Sanz,,\n").encode(), accepted=3),
    Case("binary junk as Parquet", body=JUNK, file="p.parquet",
         source={"preset": None, "mapping": {"columns": {"source_record_id": "id"}}},
         error=SourceError, message="cannot be read as parquet"),
    Case("junk named .gz", body=JUNK, file="pos.csv.gz", error=SourceError,
         message="damaged or truncated"),
    Case("UTF-16 file", body=(HEADER + GOOD).encode("utf-16"), error=SourceError,
         message="UTF-16"),
    Case("JSON array cut short", file="users.json", body=b'[{"id": 1, "name": "A"}, {"id": 2',
         source={"preset": "zendesk_users"}, error=SourceError,
         message="cannot be read as json"),
    Case("line over 2 MB", body=(HEADER + GOOD + "H3," + "x" * 2_100_000 + ",G,,\n").encode(),
         error=SourceError, message="longer than"),
    Case("unbalanced quote", body=(HEADER + GOOD + 'H3,"Ana,Gil,a@x.es,6\n').encode(),
         error=SourceError, message="unbalanced double quote"),
    Case("NUL byte in a header", body=(HEADER.strip() + ",Bad\x00Name\n" + GOOD).encode(),
         error=SourceError, message="NUL byte"),
    Case("CR-only line ends", body=(HEADER + GOOD).replace("\n", "\r").encode(), accepted=2),
]  # fmt: skip


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with one published run of a small, clean point-of-sale export."""
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "pos.csv").write_text(HEADER + GOOD, encoding="utf-8")
    run(load_config(_write_config(folder, folder / "pos.csv", {})))
    return folder


def _write_config(folder: Path, file: Path, overrides: dict[str, Any]) -> Path:
    src: dict[str, Any] = {
        "name": "pos",
        "kind": "pos",
        "preset": "square_customers",
        "path": str(file),
    }
    for key, value in overrides.items():
        if value is None:
            src.pop(key, None)
        else:
            src[key] = value
    path = folder / "c.yaml"
    path.write_text(yaml.safe_dump({"sources": [src], "store": {"path": str(folder / "s.duckdb")}}))
    return path


def _digest(path: Path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.sql("SELECT * FROM golden_customers ORDER BY ALL").fetchall()
        runs = con.sql("SELECT run_id FROM runs WHERE status = 'published'").fetchall()
        return hashlib.sha256(repr((rows, runs)).encode()).hexdigest()
    finally:
        con.close()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_has_a_clear_outcome(published: Path, tmp_path: Path, case: Case) -> None:
    for name in ("s.duckdb", "s.snapshot.duckdb"):
        shutil.copy(published / name, tmp_path / name)
    before = (_digest(tmp_path / "s.duckdb"), _digest(tmp_path / "s.snapshot.duckdb"))
    file = tmp_path / case.file
    file.write_bytes(case.body)
    config_path = _write_config(tmp_path, file, case.source)
    if case.error is not None:
        with pytest.raises(case.error, match=case.message):
            run(load_config(config_path))
        result = CliRunner().invoke(cli, ["-c", str(config_path), "run"])
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output and case.message in result.output
        if case.error is SourceError:
            assert str(file) in result.output and "Fix:" in result.output
        # nothing was published: the last golden records and the snapshot are as they were
        assert (_digest(tmp_path / "s.duckdb"), _digest(tmp_path / "s.snapshot.duckdb")) == before
        return
    counts = run(load_config(config_path)).sources["pos"]
    assert counts["read"] == counts["accepted"] + counts["rejected"]
    assert counts["accepted"] == case.accepted
    assert counts["rejected_by_reason"] == case.rejected
    con = duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True)
    try:
        tables = {r[0] for r in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert {"golden_customers", "runs", "src_records", "review_decisions"} <= tables
        for sid, given in case.values.items():
            stored = con.sql(
                "SELECT given_name FROM src_records WHERE source_record_id = $i AND "
                "retired_run IS NULL",
                params={"i": sid},
            ).fetchall()
            assert stored == [(given,)], sid
    finally:
        con.close()

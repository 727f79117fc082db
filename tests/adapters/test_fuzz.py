"""Fuzzing the adapters and the normalize stage (hypothesis).

Whatever a file holds (random bytes, CSV text with stray quotes, delimiters and line ends,
random JSON documents, cut-off JSON, junk JSON Lines), ingesting it either loads rows with
``read = accepted + rejected`` or raises :class:`SourceError`: never another exception.
Whatever text the accepted fields hold, the normalize stage never raises. Examples are
derandomized (the same every run, so CI failures reproduce); ``OMNIMDM_FUZZ=explore``
draws fresh ones.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from omnimdm import SourceError, load_config
from omnimdm.adapters.ingest import create_ingest_tables, finish_records, ingest_source
from omnimdm.adapters.presets import INPUT_FIELDS
from omnimdm.config import Config
from omnimdm.normalize.canonical import normalize

EXPLORE = os.environ.get("OMNIMDM_FUZZ") == "explore"


def fuzz(n: int) -> settings:
    return settings(
        max_examples=n,
        deadline=None,
        derandomize=not EXPLORE,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


SQUARE = ["Square Customer ID", "First Name", "Last Name", "Email Address", "Phone Number"]
#: characters that break CSV and SQL, plus the letters real exports are made of
_CELL_CHARS = st.sampled_from([*",;\"'\r\n\t\\\x00|{}[]@+-=%_", *"aAñÑé0123456789 ", "€", "😀"])
CELL = st.one_of(
    st.text(max_size=12),
    st.lists(_CELL_CHARS, max_size=16).map("".join),
    st.sampled_from(["", "NULL", "null", "'; DROP TABLE golden_customers; --", "x" * 5000]),
)


@dataclass
class Harness:
    """One config per format and one connection reused by every example."""

    folder: Path
    con: duckdb.DuckDBPyConnection
    configs: dict[str, Config]

    def ingest(self, kind: str, content: bytes) -> None:
        config = self.configs[kind]
        source = config.sources[0]
        config.source_path(source).write_bytes(content)
        for table in ("fz_records", "fz_rejects"):
            self.con.execute(f"DROP TABLE IF EXISTS {table}")
        create_ingest_tables(self.con, "fz_records", "fz_rejects")
        try:
            counts = ingest_source(
                self.con,
                config,
                source,
                records="fz_records",
                rejects="fz_rejects",
                run_id=1,
                has_previous=False,
            )
        except SourceError:
            return
        assert counts.read == counts.accepted + counts.rejected


def _source(kind: str, path: Path) -> dict[str, Any]:
    if kind == "csv":
        return {"name": "pos", "kind": "pos", "preset": "square_customers", "path": str(path)}
    if kind == "mapped":
        columns = {f: f for f in INPUT_FIELDS}
        return {"name": "any", "kind": "other", "path": str(path), "mapping": {"columns": columns}}
    fmt = {"format": "jsonl"} if kind == "jsonl" else {}
    return {"name": "zd", "kind": "callcenter", "preset": "zendesk_users", "path": str(path), **fmt}


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    folder = tmp_path_factory.mktemp("fuzz")
    configs = {}
    for kind, name in (("csv", "in.csv"), ("json", "in.json"), ("jsonl", "in.jsonl"),
                       ("mapped", "mapped.csv")):  # fmt: skip
        path = folder / f"{kind}.yaml"
        path.write_text(
            yaml.safe_dump(
                {"sources": [_source(kind, folder / name)], "store": {"path": str(folder / "s")}}
            )
        )
        configs[kind] = load_config(path)
    con = duckdb.connect(config={"autoinstall_known_extensions": "false"})
    yield Harness(folder, con, configs)
    con.close()


@fuzz(150)
@given(
    header=st.one_of(
        st.just(SQUARE),
        st.lists(CELL, max_size=3).map(lambda extra: SQUARE + extra),
        st.lists(st.one_of(st.sampled_from(SQUARE), CELL), min_size=1, max_size=7),
    ),
    rows=st.lists(st.lists(CELL, max_size=8), max_size=8),
    quoted=st.booleans(),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
)
@example(header=SQUARE, rows=[["A1", '"Ana', "Gil"], ["A2"]], quoted=False, newline="\n")
@example(header=[*SQUARE, "\x00"], rows=[], quoted=False, newline="\n")  # found by this test
def test_csv_text_never_crashes(
    harness: Harness, header: list[str], rows: list[list[str]], quoted: bool, newline: str
) -> None:
    """Random CSV text: properly quoted (every value survives) or raw (stray quotes, ragged
    rows, delimiters inside values)."""
    if quoted:
        buf = io.StringIO()
        csv.writer(buf, lineterminator=newline).writerows([header, *rows])
        text = buf.getvalue()
    else:
        text = newline.join(",".join(r) for r in [header, *rows])
    harness.ingest("csv", text.encode("utf-8", errors="surrogatepass"))


@fuzz(100)
@given(prefix=st.sampled_from([b"", (",".join(SQUARE) + "\n").encode()]), data=st.binary())
def test_random_bytes_never_crash(harness: Harness, prefix: bytes, data: bytes) -> None:
    harness.ingest("csv", prefix + data)
    harness.ingest("json", prefix + data)


JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | CELL,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(CELL, inner, max_size=4),
    max_leaves=20,
)
USER = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.integers(), CELL, st.none(), JSON_VALUE),
        "name": st.one_of(CELL, JSON_VALUE),
        "email": CELL,
        "user_fields": st.one_of(
            st.dictionaries(st.sampled_from(["fecha_nacimiento", "codigo_postal"]), CELL),
            JSON_VALUE,
        ),
    },
).flatmap(lambda d: st.dictionaries(CELL, JSON_VALUE, max_size=3).map(lambda x: {**x, **d}))


@fuzz(100)
@given(
    doc=st.one_of(st.lists(USER, max_size=6), st.builds(lambda u: {"users": u}, st.lists(USER))),
    cut=st.one_of(st.none(), st.integers(min_value=0, max_value=400)),
)
def test_json_documents_never_crash(harness: Harness, doc: Any, cut: int | None) -> None:
    """Random users as a JSON array or API page, sometimes cut off at a random byte."""
    text = json.dumps(doc, ensure_ascii=False)
    harness.ingest("json", text[:cut].encode() if cut is not None else text.encode())


@fuzz(60)
@given(lines=st.lists(st.one_of(USER.map(json.dumps), CELL), max_size=8))
def test_json_lines_never_crash(harness: Harness, lines: list[str]) -> None:
    harness.ingest("jsonl", "\n".join(lines).encode("utf-8", errors="surrogatepass"))


#: field values for the normalize stage: realistic fragments plus anything at all
FIELD = st.one_of(
    CELL,
    st.sampled_from(["+34 612 345 678", "0034612345678", "044 55 1234 5678", "12/31/2024",
                     "0000-03-14", "31/02/1990", "ana.gil+x@gmial.con", "12345678Z", "28013",
                     "C/ Mayor 5, 3º B", "1.234,56 €", "yes", "Sí", "MX", "España", "es-MX"]),
)  # fmt: skip


@fuzz(20)
@given(records=st.lists(st.fixed_dictionaries({f: FIELD for f in INPUT_FIELDS}), max_size=8))
def test_normalize_stage_never_raises(harness: Harness, records: list[dict[str, str]]) -> None:
    """Random values in every input field go through the whole normalize stage (its SQL and
    Python paths); the stage never raises and keeps one canonical row per record."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(INPUT_FIELDS), lineterminator="\n")
    writer.writeheader()
    for i, record in enumerate(records):
        writer.writerow({**record, "source_record_id": f"R{i}"})
    harness.ingest("mapped", buf.getvalue().encode("utf-8", errors="surrogatepass"))
    con = harness.con
    finish_records(con, run_id=1, records="fz_records", snapshot_sources=[], has_previous=False)
    for table in ("fz_norm", "fz_shared", "fz_profile"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    counts = normalize(
        con,
        harness.configs["mapped"],
        timings={},
        records="fz_records",
        out="fz_norm",
        shared_out="fz_shared",
        profile_out="fz_profile",
    )
    accepted = con.sql("SELECT count(*) FROM fz_records").fetchall()[0][0]
    assert counts["records"] == accepted

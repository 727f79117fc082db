"""Bad input: row-level problems reject the row and carry on; file-level problems stop."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from click.testing import CliRunner

from omnimdm import SourceError, load_config, run
from omnimdm.cli import cli
from omnimdm.config import Config

HEADER = "Square Customer ID,First Name,Last Name,Email Address,Phone Number\n"


def _config(tmp_path: Path, file: Path, **extra: Any) -> Path:
    path = tmp_path / "c.yaml"
    src = {"name": "pos", "kind": "pos", "preset": "square_customers", "path": str(file), **extra}
    path.write_text(
        yaml.safe_dump({"sources": [src], "store": {"path": str(tmp_path / "s.duckdb")}})
    )
    return path


def _run(
    tmp_path: Path, content: bytes, name: str = "pos.csv", **extra: Any
) -> tuple[Config, dict[str, Any]]:
    file = tmp_path / name
    file.write_bytes(content)
    config = load_config(_config(tmp_path, file, **extra))
    return config, run(config).sources["pos"]


def _rejects(config: Config) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(config.store.path), read_only=True)
    try:
        return con.sql("SELECT row_ordinal, reason FROM rejects ORDER BY row_ordinal").fetchall()
    finally:
        con.close()


def _truncated_gzip() -> bytes:
    rows = "".join(f"T{i},Ana{i},Gil{i * 7},,\n" for i in range(5000))
    data = gzip.compress((HEADER + rows).encode())
    return data[: len(data) // 2]


def test_ragged_rows_and_bad_bytes_are_rejected_rest_loads(tmp_path: Path) -> None:
    body = (
        "A1,Ana,Garcia,ana@x.es,611111111\n"
        "A2,Bea,Ruiz,bea@x.es,622222222,EXTRA\n"  # too many columns
        "A3,Carla\n"  # missing columns
        "A4,D\xe9bora,Gil,debora@x.es,633333333\n"  # Latin-1 byte in a UTF-8 file
        "A5,Eva,Sanz,eva@x.es,644444444\n"
    )
    config, c = _run(tmp_path, HEADER.encode() + body.encode("latin-1"))
    assert (c["read"], c["accepted"], c["rejected"]) == (5, 2, 3)
    assert _rejects(config) == [
        (2, "too_many_columns"),
        (3, "missing_columns"),
        (4, "invalid_encoding"),
    ]
    con = duckdb.connect(str(config.store.path), read_only=True)
    ordinals = con.sql(
        "SELECT source_record_id, row_ordinal FROM src_records ORDER BY 1"
    ).fetchall()
    con.close()
    assert ordinals == [("A1", 1), ("A5", 5)]  # data-row ordinals survive the rejects


def test_field_over_4kib_and_nul_bytes(tmp_path: Path) -> None:
    long_name = "x" * 5000
    body = f"B1,{long_name},Gil,b1@x.es,\nB2,Nu\x00ria,Gil,b2@x.es,\nB3,Ok,Gil,,\n"
    config, c = _run(tmp_path, HEADER.encode() + body.encode())
    assert c["rejected_by_reason"] == {"field_too_long": 1}
    assert c["accepted"] == 2  # a NUL byte does not lose the row


def test_windows_1252_transcoded_and_undefined_bytes_rejected(tmp_path: Path) -> None:
    body = "C1;José;Núñez;jose@x.es;600000000\nC2;Bad\x81Byte;Gil;;\n"
    content = HEADER.replace(",", ";").encode("cp1252") + body.encode("latin-1")
    config, c = _run(tmp_path, content, encoding="windows-1252", delimiter=";")
    assert (c["accepted"], c["rejected_by_reason"]) == (1, {"invalid_encoding": 1})
    con = duckdb.connect(str(config.store.path), read_only=True)
    assert con.sql("SELECT given_name, surname1 FROM norm_customers").fetchall() == [
        ("José", "Núñez")
    ]
    con.close()


def test_header_only_file_loads_nothing(tmp_path: Path) -> None:
    _, c = _run(tmp_path, HEADER.encode())
    assert (c["read"], c["accepted"], c["rejected"]) == (0, 0, 0)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("pos.csv", b"", "empty"),
        ("pos.csv.gz", _truncated_gzip(), "truncated"),
    ],
)
def test_file_level_problems_stop_before_publish(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    file = tmp_path / name
    file.write_bytes(content)
    config_path = _config(tmp_path, file)
    with pytest.raises(SourceError, match=message):
        run(load_config(config_path))
    result = CliRunner().invoke(cli, ["-c", str(config_path), "run"])
    assert result.exit_code == 1
    assert str(file) in result.output and "Traceback" not in result.output
    assert not (tmp_path / "s.snapshot.duckdb").exists()


def test_gzip_csv_is_read(tmp_path: Path) -> None:
    content = gzip.compress((HEADER + "G1,Ana,Gil,ana@x.es,611111111\n").encode())
    _, c = _run(tmp_path, content, name="pos.csv.gz")
    assert c["accepted"] == 1

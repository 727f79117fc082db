"""The erasure key, the HMAC in SQL, and identifiers normalized as the pipeline does."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import duckdb
import pytest

from omnimdm import ErasureError, load_config
from omnimdm.erase.identifiers import request_email, request_phone, text_identifiers
from omnimdm.erase.keys import KEY_ENV, create_key, hmac_sql, key_path, load_key
from tests.conftest import write_config


def test_hmac_in_sql_is_rfc2104_hmac_sha256(tmp_path: Path) -> None:
    key = create_key(tmp_path / "k")
    values = ["mjgarcia@gmail.com", "crm\x1f0035g00000AbCdEAAV", "+34612345678", "Núñez ñ €"]
    con = duckdb.connect()
    con.execute("CREATE TABLE v (kind VARCHAR, value VARCHAR)")
    con.executemany("INSERT INTO v VALUES ('email', ?)", [[v] for v in values])
    rows = con.execute(
        f"SELECT value, {hmac_sql('kind', 'value')} FROM v", key.sql_params()
    ).fetchall()
    for value, digest in rows:
        expected = hmac.new(key.secret, f"email\x1f{value}".encode(), hashlib.sha256).hexdigest()
        assert digest == expected == key.digest("email", value)


def test_key_file_is_private_and_never_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(write_config(tmp_path, tmp_path))
    assert key_path(config) == tmp_path / "t.duckdb.erasure.key"
    monkeypatch.setenv(KEY_ENV, str(tmp_path / "elsewhere" / "k"))
    path = key_path(config)
    assert path == tmp_path / "elsewhere" / "k" and load_key(path) is None
    key = create_key(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_key(path) == key and len(key.key_id) == 16
    with pytest.raises(ErasureError, match="appeared meanwhile"):
        create_key(path)
    path.write_text("not hex\n")
    with pytest.raises(ErasureError, match="damaged"):
        load_key(path)


def test_requested_values_are_normalized_like_the_pipeline() -> None:
    assert request_email(" Maria.Garcia+x@GMAIL.com ") == "mariagarcia@gmail.com"
    assert request_email("ana@hotmial.com") == "ana@hotmail.com"  # domain typo fixed
    with pytest.raises(ErasureError, match="placeholder"):
        request_email("noemail@noemail.com")
    assert request_phone("612 34 56 78", ["ES"]) == "+34612345678"
    assert request_phone("0034 612-345-678", ["ES", "MX"]) == "+34612345678"
    assert request_phone("55 1234 5678", ["ES", "MX"]) == "+525512345678"  # valid in MX only
    with pytest.raises(ErasureError, match="international form"):
        request_phone("55 1234 5678", ["MX", "US"])  # a valid number in both
    with pytest.raises(ErasureError, match="not usable"):
        request_phone("12", ["ES"])


def test_identifiers_of_a_rejected_row() -> None:
    csv_line = "'7012345678903,Carlos,Ruiz,Carlos.Ruiz@gmail.com,no,,'+34 655 44 33 22,EXTRA"
    found = text_identifiers(csv_line, "ecommerce", "ES")
    assert ("record", "ecommerce\x1f7012345678903") in found
    assert ("email", "carlosruiz@gmail.com") in found
    assert ("phone", "+34655443322") in found
    json_row = '{"id": 1234567890125, "email": "pedro.martin@telefonica.net", "tags": []}'
    found = text_identifiers(json_row, "callcenter", "ES")
    assert ("record", "callcenter\x1f1234567890125") in found
    assert ("email", "pedro.martin@telefonica.net") in found

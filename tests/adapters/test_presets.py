"""Every preset and the generic mapping ingest real-format vendor fixtures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from omnimdm import load_config, run
from omnimdm.config import Config
from tests.conftest import FIXTURES

VENDORS = FIXTURES / "vendors"


def _config(tmp_path: Path, sources: list[dict[str, Any]]) -> Config:
    path = tmp_path / "c.yaml"
    data = {"sources": sources, "store": {"path": str(tmp_path / "s.duckdb")}}
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return load_config(path)


def _rows(config: Config, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(config.store.path), read_only=True)
    try:
        return con.sql(sql).fetchall()
    finally:
        con.close()


def _src(name: str, preset: str, file: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "kind": "other", "preset": preset, "path": str(VENDORS / file), **extra}


def test_vendor_presets_ingest(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        [
            _src("hubspot", "hubspot_contacts", "hubspot_contacts.csv"),
            _src("shop_old", "shopify_customers", "shopify_customers_old.csv"),
            _src(
                "sf_es",
                "salesforce_contacts",
                "salesforce_report_es_cp1252.csv",
                encoding="windows-1252",
                delimiter=";",
            ),
            _src("zd_page", "zendesk_users", "zendesk_users_page.json"),
        ],
    )
    result = run(config)
    counts = {k: (v["read"], v["accepted"], v["rejected"]) for k, v in result.sources.items()}
    assert counts == {
        "hubspot": (3, 3, 0),
        "shop_old": (2, 2, 0),
        "sf_es": (3, 3, 0),
        "zd_page": (2, 2, 0),
    }
    names = dict(
        _rows(
            config,
            "SELECT source || ':' || source_record_id, given_name || ' ' "
            "|| surname1 FROM norm_customers",
        )
    )
    assert names["hubspot:51"] == "Francisco Javier Martín"
    # the old Shopify export has no Customer ID: the email is the id
    assert names["shop_old:maria.perez@gmail.com"] == "María Pérez"
    # Windows-1252 bytes transcoded, report-label headers, ';' delimiter
    assert names["sf_es:0035g00000ReP0RtAA1"] == "José Luis Núñez"
    assert names["sf_es:0035g00000ReP0RtAA2"] == "Begoña Muñoz"
    # API page {"users": [...]} unnested; "surnames, given" full names split
    assert names["zd_page:9000000000001"] == "Verónica Ramírez"
    dob = _rows(
        config,
        "SELECT birth_date::VARCHAR FROM norm_customers "
        "WHERE source_record_id = '0035g00000ReP0RtAA1'",
    )
    assert dob == [("1961-03-14",)]  # DD/MM/YYYY from a Spanish report
    pc = _rows(
        config,
        "SELECT postcode FROM norm_customers WHERE source = 'sf_es' "
        "AND source_record_id LIKE '%AA2'",
    )
    assert pc == [("08007",)]


def test_jsonl_rejects_bad_rows_and_loads_the_rest(tmp_path: Path) -> None:
    config = _config(tmp_path, [_src("zd", "zendesk_users", "zendesk_users.jsonl", format="jsonl")])
    result = run(config)
    c = result.sources["zd"]
    assert (c["read"], c["accepted"], c["rejected"]) == (4, 2, 2)
    assert c["rejected_by_reason"] == {"json_too_deep": 1, "malformed_json": 1}
    rejects = _rows(config, "SELECT row_ordinal, reason FROM rejects ORDER BY row_ordinal")
    assert rejects == [(2, "malformed_json"), (4, "json_too_deep")]


def test_generic_mapping_with_arbitrary_columns(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        [
            {
                "name": "loyalty",
                "kind": "other",
                "path": str(VENDORS / "loyalty_app_export.csv"),
                "delimiter": ";",
                "decimal_separator": ",",
                "currency": "EUR",
                "country": "ES",
                "date_formats": {"birth_date": ["%d/%m/%Y"], "updated_at": ["%d/%m/%Y"]},
                "mapping": {
                    "columns": {
                        "source_record_id": "socio",
                        "full_name": "nombre_completo",
                        "email": "correo",
                        "mobile": "movil",
                        "birth_date": "nacimiento",
                        "postcode": "cp",
                        "total_spent": "gasto_total",
                        "updated_at": "ultima_actualizacion",
                    }
                },
            }
        ],
    )
    result = run(config)
    assert result.sources["loyalty"]["accepted"] == 2
    rows = _rows(
        config,
        "SELECT source_record_id, given_name, surname1, surname2, "
        "birth_date::VARCHAR, phones, source_updated_at::DATE::VARCHAR "
        "FROM norm_customers ORDER BY 1",
    )
    assert rows[0][:5] == ("L-0001", "Maria Jose", "Garcia", "Lopez", "1984-03-14")
    assert rows[0][5] == ["+34612345678"]
    assert rows[0][6] == "2024-01-02"


@pytest.mark.parametrize("bad_field", ["colour", "given_nam"])
def test_mapping_to_unknown_field_is_a_config_error(tmp_path: Path, bad_field: str) -> None:
    from omnimdm import ConfigError

    with pytest.raises(ConfigError, match=bad_field):
        _config(
            tmp_path,
            [
                {
                    "name": "x",
                    "kind": "other",
                    "path": "x.csv",
                    "mapping": {"columns": {"source_record_id": "id", bad_field: "c"}},
                }
            ],
        )

"""Records without a country: a national number invalid in the source's default region is
tried in the fallback regions and kept only when valid in exactly one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import yaml

from omnimdm import load_config, run

POS_HEADER = "Square Customer ID,First Name,Last Name,Phone Number\n"
POS_ROWS = [
    ("SQ1", "Ana", "Alonso", "612 345 678"),  # Spanish mobile: valid in the default region
    ("SQ2", "Luis", "Benítez", "656 123 4567"),  # Ciudad Juárez: valid only in MX
    ("SQ3", "Marta", "Cano", "551 234 5678"),  # valid in MX and in the US: ambiguous
    ("SQ4", "Jorge", "Delgado", "123"),  # valid nowhere
]


def _write(tmp_path: Path, normalize: dict[str, Any], crm_country: str | None) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "pos.csv").write_text(
        POS_HEADER + "".join(",".join(r) + "\n" for r in POS_ROWS), encoding="utf-8"
    )
    crm = ["id,name,phone,country"] + [
        f"C{i},Persona {i},+34 91{i:07d},{crm_country or ''}" for i in range(40)
    ]
    (tmp_path / "crm.csv").write_text("\n".join(crm) + "\n", encoding="utf-8")
    mapping = {"source_record_id": "id", "full_name": "name", "phone": "phone"}
    if crm_country:
        mapping["country"] = "country"
    config = {
        "sources": [
            {"name": "pos", "kind": "pos", "preset": "square_customers", "path": "pos.csv"},
            {"name": "crm", "kind": "crm", "path": "crm.csv", "mapping": {"columns": mapping}},
        ],
        "normalize": normalize,
        "store": {"path": str(tmp_path / "s.duckdb")},
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _phones(tmp_path: Path, normalize: dict[str, Any], crm_country: str | None) -> dict:
    run(load_config(_write(tmp_path, normalize, crm_country)))
    con = duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True)
    rows = con.sql(
        "SELECT source_record_id, phones, phone_reasons FROM norm_customers WHERE source = 'pos'"
    ).fetchall()
    con.close()
    return {r[0]: (r[1], r[2]) for r in rows}


def test_configured_fallback_region_rescues_unambiguous_numbers(tmp_path: Path) -> None:
    phones = _phones(tmp_path, {"phone_fallback_regions": ["MX", "US"]}, None)
    assert phones["SQ1"] == (["+34612345678"], None)
    assert phones["SQ2"] == (["+526561234567"], None)
    assert phones["SQ3"] == ([], ["invalid"])  # MX or US: no guess
    assert phones["SQ4"] == ([], ["invalid"])


def test_default_fallback_regions_come_from_the_data(tmp_path: Path) -> None:
    # no record names a country: no fallback, the Mexican number stays invalid
    assert _phones(tmp_path / "none", {}, None)["SQ2"] == ([], ["invalid"])
    # the CRM's records are Mexican (well over 5%): MX becomes a fallback region
    phones = _phones(tmp_path / "mx", {}, "MX")
    assert phones["SQ2"] == (["+526561234567"], None)
    assert phones["SQ3"] == (["+525512345678"], None)  # only MX is a candidate here
    assert phones["SQ1"] == (["+34612345678"], None)


def test_forget_by_phone_reads_numbers_as_the_pipeline_does(tmp_path: Path) -> None:
    """A POS record without a country holds a Mexican national number: `forget --phone`
    with its E.164 form finds it, and a later export row with the same number is kept out."""
    from omnimdm import ForgetRequest, forget

    normalize = {"phone_fallback_regions": ["MX", "US"]}
    config = load_config(_write(tmp_path, normalize, None))
    run(config)
    result = forget(config, ForgetRequest(phones=("+52 656 123 4567",)))
    assert result.records == ("pos:SQ2",)
    pos = tmp_path / "pos.csv"
    with pos.open("a", encoding="utf-8") as fh:
        fh.write("SQ5,Luis,Benitez,6561234567\n")  # a new record, the same number
    rerun = run(config)
    assert rerun.sources["pos"]["suppressed"] == 2  # SQ2 (its key) and SQ5 (the number)
    con = duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True)
    ids = con.sql("SELECT source_record_id FROM src_records WHERE source = 'pos'").fetchall()
    con.close()
    assert sorted(r[0] for r in ids) == ["SQ1", "SQ3", "SQ4"]

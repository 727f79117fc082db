"""The data-quality profile is published and printed (counts only)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from omnimdm.cli import cli
from tests.conftest import write_config


def test_profile_json_and_table(tmp_path: Path, mini_dir: Path) -> None:
    config = write_config(tmp_path, mini_dir)
    assert CliRunner().invoke(cli, ["-c", str(config), "run"]).exit_code == 0
    result = CliRunner().invoke(cli, ["-c", str(config), "profile", "--json"])
    assert result.exit_code == 0, result.output
    profile = json.loads(result.output)
    rows = {(f["source"], f["field"]): f for f in profile["fields"]}
    assert len(rows) == 4 * 10
    crm_email = rows[("crm", "email")]
    assert (crm_email["records"], crm_email["filled"], crm_email["valid"]) == (4, 4, 4)
    assert rows[("pos", "birth_date")]["filled"] == 2  # one has no year: filled, not valid
    assert rows[("pos", "birth_date")]["valid"] == 1
    assert profile["rejects"]["pos"] == {"missing_source_record_id": 1}
    for f in profile["fields"]:
        assert 0 <= f["fill_rate"] <= 1 and 0 <= f["validity_rate"] <= 1
    table = CliRunner().invoke(cli, ["-c", str(config), "profile"])
    assert table.exit_code == 0 and "rejected:" in table.output
    assert "mj.garcia" not in table.output  # no personal data in the profile

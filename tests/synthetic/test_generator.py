"""The synthetic generator on small populations, reading back the real files it writes."""

from __future__ import annotations

import collections
import json
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from omnimdm.errors import ConfigError
from omnimdm.synthetic import SOURCE_FILES, SynthResult, generate, load_noise_profile
from omnimdm.synthetic.lexicon import load_lexicon
from omnimdm.synthetic.population import build_population

PERSONS = 2000

CRM_HEADER = [
    "Id", "FirstName", "LastName", "Email", "Phone", "MobilePhone", "Birthdate",
    "MailingStreet", "MailingCity", "MailingState", "MailingPostalCode", "MailingCountry",
    "DNI__c", "HasOptedOutOfEmail", "CreatedDate", "LastModifiedDate",
]  # fmt: skip
SHOPIFY_HEADER = [
    "Customer ID", "First Name", "Last Name", "Email", "Accepts Email Marketing",
    "Default Address Company", "Default Address Address1", "Default Address Address2",
    "Default Address City", "Default Address Province Code", "Default Address Country Code",
    "Default Address Zip", "Default Address Phone", "Phone", "Accepts SMS Marketing",
    "Total Spent", "Total Orders", "Note", "Tax Exempt", "Tags",
]  # fmt: skip
SQUARE_HEADER = [
    "Reference ID", "First Name", "Last Name", "Email Address", "Phone Number", "Nickname",
    "Company Name", "Street Address 1", "Street Address 2", "City", "State", "Postal Code",
    "Birthday", "Memo", "Square Customer ID", "Creation Source", "First Visit", "Last Visit",
    "Transaction Count", "Lifetime Spend", "Email Subscription Status",
]  # fmt: skip


def _csv(path: Path) -> tuple[list[str], list[dict[str, str | None]]]:
    con = duckdb.connect()
    try:
        rel = con.sql(f"SELECT * FROM read_csv('{path}', all_varchar=true, header=true)")
        header = list(rel.columns)
        rows = [dict(zip(header, r, strict=True)) for r in rel.fetchall()]
    finally:
        con.close()
    return header, rows


def _truth(result: SynthResult) -> list[dict[str, str | None]]:
    return _csv(result.files["truth"])[1]


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> SynthResult:
    return generate(PERSONS, tmp_path_factory.mktemp("synth"), seed=11)


@pytest.fixture(scope="module")
def zendesk(result: SynthResult) -> list[dict[str, object]]:
    with result.files["callcenter"].open(encoding="utf-8") as fh:
        users = json.load(fh)
    assert isinstance(users, list)
    return users


def test_result_describes_the_files(result: SynthResult) -> None:
    assert result.persons == PERSONS
    assert set(result.files) == {"crm", "ecommerce", "pos", "callcenter", "truth"}
    for source, name in SOURCE_FILES.items():
        assert result.files[source].name == name
        assert result.files[source].is_file()
    assert result.records == sum(result.per_source.values()) == len(_truth(result))
    assert 1.7 < result.records / PERSONS < 2.3
    assert result.seconds > 0


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    a = generate(300, tmp_path / "a", seed=42)
    b = generate(300, tmp_path / "b", seed=42)
    c = generate(300, tmp_path / "c", seed=43)
    for key in a.files:
        assert a.files[key].read_bytes() == b.files[key].read_bytes(), key
    assert a.files["crm"].read_bytes() != c.files["crm"].read_bytes()


def test_truth_covers_every_record_exactly_once(
    result: SynthResult, zendesk: list[dict[str, object]]
) -> None:
    truth = _truth(result)
    keys = [(str(t["source"]), str(t["source_record_id"])) for t in truth]
    assert len(keys) == len(set(keys))
    exported: dict[str, list[str]] = {
        "crm": [str(r["Id"]) for r in _csv(result.files["crm"])[1]],
        "ecommerce": [
            str(r["Customer ID"]).lstrip("'") for r in _csv(result.files["ecommerce"])[1]
        ],
        "pos": [str(r["Square Customer ID"]) for r in _csv(result.files["pos"])[1]],
        "callcenter": [str(u["id"]) for u in zendesk],
    }
    for source, ids in exported.items():
        assert len(ids) == len(set(ids)) == result.per_source[source]
        assert sorted(ids) == sorted(k[1] for k in keys if k[0] == source), source
    assert all(re.fullmatch(r"P\d{8}", str(t["person_id"])) for t in truth)
    assert all(re.fullmatch(r"H\d{8}", str(t["household_id"])) for t in truth)
    assert len({t["person_id"] for t in truth}) == PERSONS


def test_csv_exports_parse_with_vendor_headers(result: SynthResult) -> None:
    crm_header, crm = _csv(result.files["crm"])
    assert crm_header == CRM_HEADER
    assert _csv(result.files["ecommerce"])[0] == SHOPIFY_HEADER
    pos_header, pos = _csv(result.files["pos"])
    assert pos_header == SQUARE_HEADER
    for row in crm:
        assert re.fullmatch(r"003[0-9A-Za-z]{15}", str(row["Id"]))
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z", str(row["CreatedDate"]))
        assert str(row["LastModifiedDate"]) >= str(row["CreatedDate"])
        assert row["HasOptedOutOfEmail"] in ("true", "false")
        assert row["Birthdate"] is None or re.fullmatch(r"\d{4}-\d\d-\d\d", row["Birthdate"])
    assert any("\n" in str(r["MailingStreet"]) for r in crm)  # multi-line street, quoted
    for row in pos:
        assert re.fullmatch(r"[0-9A-Z]{26}", str(row["Square Customer ID"]))
        assert row["Birthday"] is None or re.fullmatch(r"\d{4}-\d\d-\d\d", row["Birthday"])
    assert any(str(r["Birthday"]).startswith("0000-") for r in pos)


def test_zendesk_users_look_like_the_api(
    result: SynthResult, zendesk: list[dict[str, object]]
) -> None:
    assert len(zendesk) == result.per_source["callcenter"]
    for user in zendesk:
        assert isinstance(user["id"], int) and len(str(user["id"])) == 13
        assert user["role"] == "end-user" and user["shared_phone_number"] is False
        assert user["url"] == f"https://omnitienda.zendesk.com/api/v2/users/{user['id']}.json"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", str(user["created_at"]))
        assert user["locale"] in ("es", "es-MX")
        assert isinstance(user["tags"], list)
        fields = user["user_fields"]
        assert isinstance(fields, dict)
        assert set(fields) == {"fecha_nacimiento", "codigo_postal"}
        born = fields["fecha_nacimiento"]
        assert born is None or re.fullmatch(r"\d\d/\d\d/\d{4}", str(born))
    crm_ids = {r["Id"] for r in _csv(result.files["crm"])[1]}
    external = [u["external_id"] for u in zendesk if u["external_id"] is not None]
    assert external and set(external) <= crm_ids
    assert any(", " in str(u["name"]) for u in zendesk)  # "García López, María"


def test_shopify_apostrophes_in_csv_not_in_truth(result: SynthResult) -> None:
    rows = _csv(result.files["ecommerce"])[1]
    assert all(re.fullmatch(r"'\d{13}", str(r["Customer ID"])) for r in rows)
    zips = [r["Default Address Zip"] for r in rows if r["Default Address Zip"]]
    assert zips and all(re.fullmatch(r"'\d{4,5}", str(z)) for z in zips)
    phones = [r["Phone"] for r in rows if r["Phone"]]
    assert phones and all(re.fullmatch(r"'\+(34|52)\d{9,10}", str(p)) for p in phones)
    truth = [t["source_record_id"] for t in _truth(result) if t["source"] == "ecommerce"]
    assert all(re.fullmatch(r"\d{13}", str(t)) for t in truth)
    real = [r["Email"] for r in rows if r["Email"] and "tienda" not in r["Email"]]
    assert len({str(e).lower() for e in real}) >= len(real) - 20  # unique per store but junk


def test_within_source_duplicates_exist(result: SynthResult) -> None:
    counts = collections.Counter((t["source"], t["person_id"]) for t in _truth(result))
    per_source = collections.Counter(src for (src, _), k in counts.items() if k > 1)
    for source in SOURCE_FILES:
        assert per_source[source] >= 10, source


def test_shop_phone_shared_by_unrelated_walk_ins(result: SynthResult) -> None:
    truth = {t["source_record_id"]: t["person_id"] for t in _truth(result) if t["source"] == "pos"}
    persons_by_phone: dict[str, set[str | None]] = collections.defaultdict(set)
    for row in _csv(result.files["pos"])[1]:
        if row["Phone Number"]:
            digits = re.sub(r"\D", "", str(row["Phone Number"]))[-9:]
            persons_by_phone[digits].add(truth[str(row["Square Customer ID"])])
    assert max(len(p) for p in persons_by_phone.values()) >= 5


def test_household_hard_negatives_in_population() -> None:
    lex = load_lexicon()
    settings = load_noise_profile("default").population
    pop = build_population(np.random.default_rng(3), 20000, settings, lex)
    sons = np.flatnonzero(pop.same_name_as_father)
    assert len(sons) > 20
    for son in sons.tolist():
        home = pop.household == pop.household[son]
        father = np.flatnonzero(home & (pop.role == 0))[0]
        assert father != son
        assert pop.given[son] == pop.given[father]
        assert pop.surname1[son] == pop.surname1[father]
        assert pop.surname2[son] == pop.surname2[father]
        assert pop.birth[son] != pop.birth[father]
        assert pop.address[son] == pop.address[father]
        assert pop.contacts.mobile[son] != pop.contacts.mobile[father]
        assert pop.contacts.landline[son] == pop.contacts.landline[father]
    # siblings: same address, landline and both surnames, different given names
    children = np.flatnonzero(pop.role == 2)
    by_home = collections.defaultdict(list)
    for c in children.tolist():
        by_home[int(pop.household[c])].append(c)
    siblings = [v for v in by_home.values() if len(v) >= 2]
    assert len(siblings) > 100
    for group in siblings:
        assert len({int(pop.surname1[c]) for c in group}) == 1
        assert len({int(pop.surname2[c]) for c in group}) == 1
    assert len(set(pop.contacts.mobile.tolist())) == pop.n


def test_common_names_collide_across_strangers() -> None:
    lex = load_lexicon()
    pop = build_population(np.random.default_rng(5), 50000, load_noise_profile().population, lex)
    full = collections.Counter(
        zip(pop.given.tolist(), pop.surname1.tolist(), pop.surname2.tolist(), strict=True)
    )
    ((_, top),) = full.most_common(1)
    assert top >= 3
    surnames = lex.surnames.table.names[pop.surname1]
    share = collections.Counter(surnames.tolist())
    assert share["García"] / pop.n > 0.015
    assert len(share) > 2000  # long tail


def _sf_suffix(ident: str) -> str:
    out = ""
    for chunk in (ident[0:5], ident[5:10], ident[10:15]):
        value = sum(1 << i for i, ch in enumerate(chunk) if "A" <= ch <= "Z")
        out += "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[value]
    return out


def _curp_ok(curp: str) -> bool:
    alphabet = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ"
    total = sum(alphabet.index(ch) * (18 - i) for i, ch in enumerate(curp[:17]))
    return str((10 - total % 10) % 10) == curp[17]


def test_vendor_and_national_ids_are_valid(result: SynthResult) -> None:
    crm = _csv(result.files["crm"])[1]
    for row in crm:
        ident = str(row["Id"])
        assert ident[15:] == _sf_suffix(ident)
    lex = load_lexicon()
    pop = build_population(np.random.default_rng(1), 3000, load_noise_profile().population, lex)
    letters = "TRWAGMYFPDXBNJZSQVHLCKE"
    for nid, mx in zip(pop.contacts.national_id.tolist(), pop.is_mx.tolist(), strict=True):
        if mx:
            assert re.fullmatch(r"[A-Z]{4}\d{6}[HM][A-Z]{5}[0-9A]\d", nid) and _curp_ok(nid)
        else:
            digits = nid[:8] if nid[0].isdigit() else str("XYZ".index(nid[0])) + nid[1:8]
            assert nid[-1] == letters[int(digits) % 23]


def test_high_noise_is_noisier(tmp_path: Path) -> None:
    default = load_noise_profile("default")
    high = load_noise_profile("high_noise")
    for source in SOURCE_FILES:
        d, h = default.source(source), high.source(source)
        assert h.duplicates > d.duplicates
        assert h.name.typo > d.name.typo
        assert h.email.missing > d.email.missing
        assert h.address.old_address > d.address.old_address
    res = generate(1500, tmp_path, seed=2, profile="high_noise")
    counts = collections.Counter((t["source"], t["person_id"]) for t in _truth(res))
    assert sum(1 for k in counts.values() if k > 1) > 100


def test_profile_errors(tmp_path: Path) -> None:
    bad_key = tmp_path / "bad.yaml"
    bad_key.write_text("base: default\nsources:\n  pos:\n    typo_rate: 0.1\n")
    with pytest.raises(ConfigError, match="typo_rate"):
        load_noise_profile(bad_key)
    out_of_range = tmp_path / "range.yaml"
    out_of_range.write_text("base: default\ncoverage: {crm: 1.5}\n")
    with pytest.raises(ConfigError, match="coverage.crm"):
        load_noise_profile(out_of_range)
    broken = tmp_path / "broken.yaml"
    broken.write_text("sources: [unclosed\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_noise_profile(broken)
    with pytest.raises(ConfigError, match="unknown noise profile"):
        load_noise_profile("very_noisy")
    with pytest.raises(ConfigError):
        generate(0, tmp_path / "x")
    with pytest.raises(ConfigError):
        generate(10, tmp_path / "x", profile="very_noisy")


def test_partial_profile_inherits_its_base(tmp_path: Path) -> None:
    path = tmp_path / "custom.yaml"
    path.write_text("base: default\nsources:\n  pos:\n    phone: {store_phone: 0.5}\n")
    profile = load_noise_profile(path)
    assert profile.name == "custom"
    assert profile.source("pos").phone.store_phone == 0.5
    assert profile.source("pos").phone.missing == load_noise_profile().source("pos").phone.missing


def test_personal_emails_are_unique_per_mailbox() -> None:
    """Gmail ignores dots and +tags: jose.garcia@ and josegarcia@gmail.com are one mailbox,
    which two people can never own (name-built addresses collide often at 1M persons)."""
    from omnimdm.synthetic.contacts import mailbox_keys

    keys = mailbox_keys(
        np.array(
            [
                "Jose.Garcia@gmail.com",
                "josegarcia+shop@googlemail.com",
                "jose.garcia@yahoo.es",
                None,
            ],
            dtype=object,
        )
    )
    assert keys.tolist()[:3] == [
        "josegarcia@gmail.com",
        "josegarcia@gmail.com",
        "jose.garcia@yahoo.es",
    ]
    settings = load_noise_profile("default").population
    pop = build_population(np.random.default_rng(3), 40_000, settings, load_lexicon())
    emails = pop.contacts.email[~pd.isna(pop.contacts.email)]
    assert not mailbox_keys(emails).duplicated().any()

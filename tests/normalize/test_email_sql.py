"""The SQL fast path for e-mails agrees with normalize_email on every value."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb

from omnimdm.normalize.email_rules import normalize_email
from omnimdm.normalize.email_sql import build_email_lookup

REPO = Path(__file__).parent.parent.parent
SAMPLE = REPO / "data" / "synthetic"
CASES = Path(__file__).parent.parent / "cases" / "normalize" / "emails.tsv"


def _values() -> set[str]:
    values: set[str] = set()
    for name, col in (
        ("crm_salesforce_contacts.csv", "Email"),
        ("ecommerce_shopify_customers.csv", "Email"),
        ("pos_square_customers.csv", "Email Address"),
    ):
        with (SAMPLE / name).open(encoding="utf-8") as fh:
            values |= {r[col] for r in csv.DictReader(fh) if r[col]}
    users = json.loads((SAMPLE / "callcenter_zendesk_users.json").read_text(encoding="utf-8"))
    values |= {u["email"] for u in users if u.get("email")}
    for line in CASES.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            values.add(line.split("\t")[0])
    values |= {
        "+tag@gmail.com",
        "A.B+x@GoogleMail.com",
        "aa@aa.com",
        "juan+x@yahoo.es",
        "x@gmial.com",
        "p..x@gmail.com",
        "  Pepe@Empresa.ES ",
    }
    return values


def test_sql_and_python_agree() -> None:
    values = sorted(_values())
    con = duckdb.connect()
    con.execute("CREATE TABLE e (email VARCHAR)")
    con.executemany("INSERT INTO e VALUES (?)", [(v,) for v in values])
    counts = build_email_lookup(con, "SELECT email FROM e", "lk")
    assert counts["distinct_emails"] == len(values)
    assert counts["emails_by_python"] < len(values) / 2  # most settle in SQL
    for email, norm, corrected, reason in con.sql("SELECT * FROM lk").fetchall():
        expected = normalize_email(email)
        assert (norm, corrected, reason) == (
            expected.normalized,
            expected.domain_corrected,
            expected.reason,
        ), email

"""E-mails, set-based: the common shape settled in SQL, the rest by ``normalize_email``.

Nearly every e-mail is distinct, so even 9 microseconds of Python per value is seconds at
a million records. Plain addresses (``local@domain.tld`` in lower case after trimming)
are settled in SQL with the same rules as :func:`normalize_email`: the domain is
corrected once per distinct domain in Python, provider folding (``+tag``, Gmail dots) and
placeholder checks run in SQL. Anything unusual goes to Python. A test checks that both
paths agree value for value.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from omnimdm.normalize.distinct_map import create_sql
from omnimdm.normalize.email_rules import (
    correct_domain,
    known_domains,
    normalize_email,
    placeholder_lists,
)

#: the plain shape the SQL path accepts (a strict subset of what Python accepts)
_PLAIN = r"[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
_LOCAL_OK = r"[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*"


def _domain_rows(domains: list[str]) -> pa.Table:
    canon, corrected, plus, dots = [], [], [], []
    known = known_domains()
    for d in domains:
        c, fixed = correct_domain(d)
        flags = known.get(c, frozenset())
        canon.append(c)
        corrected.append(fixed)
        plus.append("plus" in flags)
        dots.append("dots" in flags)
    return pa.table(
        {"domain": domains, "canon": canon, "corrected": corrected, "plus": plus, "dots": dots}
    )


def _python_rows(values: list[str]) -> pa.Table:
    results = [normalize_email(v) for v in values]
    return pa.table(
        {
            "email": values,
            "email_norm": [r.normalized for r in results],
            "email_corrected": [r.domain_corrected for r in results],
            "email_reason": [r.reason for r in results],
        }
    )


def build_email_lookup(con: duckdb.DuckDBPyConnection, values_sql: str, out: str) -> dict[str, int]:
    """Lookup table ``out`` (email, email_norm, email_corrected, email_reason) for every
    distinct non-null value of ``values_sql`` (one column named ``email``)."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE email_distinct AS SELECT DISTINCT email, "
        f"lower(trim(email)) AS low FROM ({values_sql}) WHERE email IS NOT NULL"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE email_plain AS SELECT email, split_part(low, '@', 1) "
        "AS local, split_part(low, '@', 2) AS domain FROM email_distinct WHERE "
        f"regexp_full_match(low, '{_PLAIN}') AND length(split_part(low, '@', 1)) <= 64 "
        "AND length(low) <= 300"
    )
    domains = [r[0] for r in con.sql("SELECT DISTINCT domain FROM email_plain").fetchall()]
    con.register("email_domains_arrow", _domain_rows(domains))
    ph = placeholder_lists()
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE email_fast AS
        WITH folded AS (
            SELECT p.email, d.canon AS domain, d.corrected,
                   CASE WHEN d.dots THEN replace(CASE WHEN d.plus THEN split_part(p.local, '+', 1)
                        ELSE p.local END, '.', '')
                        ELSE CASE WHEN d.plus THEN split_part(p.local, '+', 1) ELSE p.local END
                   END AS local
            FROM email_plain p JOIN email_domains_arrow d USING (domain)
        )
        SELECT email, local, domain, corrected,
               regexp_replace(local, '[^a-z0-9]', '', 'g') AS key
        FROM folded WHERE regexp_full_match(local, '{_LOCAL_OK}')"""
    )
    con.unregister("email_domains_arrow")
    con.execute(
        f"""{create_sql(out)} AS
        SELECT email,
               CASE WHEN placeholder THEN NULL ELSE local || '@' || domain END AS email_norm,
               CASE WHEN placeholder THEN false ELSE corrected END AS email_corrected,
               CASE WHEN placeholder THEN 'placeholder' END AS email_reason
        FROM (SELECT *, (list_contains($locals, key) OR list_contains($domains, domain)
                         OR length(replace(local, left(local, 1), '')) = 0
                         OR (local = split_part(domain, '.', 1)
                             AND (length(local) <= 3 OR list_contains($locals, key))))
                        AS placeholder
              FROM email_fast)""",
        {"locals": sorted(ph["local"]), "domains": sorted(ph["domain"])},
    )
    slow = [
        r[0]
        for r in con.sql(
            f"SELECT email FROM email_distinct ANTI JOIN {out} USING (email) ORDER BY email"
        ).fetchall()
    ]
    if slow:
        con.register("email_slow_arrow", _python_rows(slow))
        con.execute(f"INSERT INTO {out} SELECT * FROM email_slow_arrow")
        con.unregister("email_slow_arrow")
    for t in ("email_distinct", "email_plain", "email_fast"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    total = int(con.sql(f"SELECT count(*) FROM {out}").fetchall()[0][0])
    return {"distinct_emails": total, "emails_by_python": len(slow)}

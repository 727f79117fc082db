"""National identifiers, set-based: DNI/NIE and CURP checked in SQL, the rest in Python.

Every person has their own identifier, so the distinct values grow with the data (tens of
thousands at a million records). The DNI/NIE check letter is simple arithmetic
(``TRWAGMYFPDXBNJZSQVHLCKE``, digits mod 23; NIE ``X``/``Y``/``Z`` count as 0/1/2), so
plain ASCII values of that shape are settled in SQL with the same rules as
:func:`normalize_national_id` (separators removed, old 8-digit NIEs compacted, filler
values invalid). So are Mexican CURPs (a third of the values at a million records; 0.8
CPU-s of python-stdnum): name word, birth date, gender, state and the check digit, read
from python-stdnum's own tables. Everything else (RFC, CIF, SSN, short DNIs, odd text)
goes through python-stdnum. A test checks that both paths agree value for value.
"""

from __future__ import annotations

import duckdb
from stdnum.mx import curp

from omnimdm.normalize import mappers
from omnimdm.normalize.distinct_map import append_distinct, create_sql

_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
#: plain ASCII text with at least one letter or digit (separators: space . , : / _ -)
_PLAIN = "[0-9A-Za-z .,:/_-]*[0-9A-Za-z][0-9A-Za-z .,:/_-]*"
#: one digit repeated (a filler value when 7 or more digits)
_ONE_DIGIT = "0+|1+|2+|3+|4+|5+|6+|7+|8+|9+"
#: the CURP shape :func:`normalize_national_id` recognises (gender H, M or X)
_CURP = "[A-Z]{4}[0-9]{6}[HMX][A-Z]{5}[0-9A-Z][0-9]"
#: python-stdnum's own CURP tables (its validator reads them), so both paths stay in step
_CURP_BLACKLIST = sorted(curp._name_blacklist)
_CURP_STATES = sorted(curp._valid_states)
_CURP_ALPHABET = curp._alphabet


def _curp_valid_sql(v: str, digits: str) -> str:
    """``stdnum.mx.curp.is_valid`` for a value of the :data:`_CURP` shape, and not a filler
    (the generic foreigner CURP, one repeated digit): name word not blacklisted, a real
    birth date (century from the 17th character), gender H/M, a state code, check digit."""
    words = ", ".join(f"'{w}'" for w in _CURP_BLACKLIST)
    states = ", ".join(f"'{st}'" for st in _CURP_STATES)
    weighted = (
        f"list_sum(list_transform(range(17), lambda i: "
        f"(strpos('{_CURP_ALPHABET}', {v}[i + 1]) - 1) * (18 - i)))"
    )
    century = f"CASE WHEN {v}[17] BETWEEN '0' AND '9' THEN 1900 ELSE 2000 END"
    year = f"({century} + TRY_CAST({v}[5:6] AS INT))"
    return (
        f"NOT list_contains([{words}], {v}[1:4]) "
        f"AND TRY_CAST({year}::VARCHAR || '-' || {v}[7:8] || '-' || {v}[9:10] AS DATE) "
        "IS NOT NULL "
        f"AND {v}[11] IN ('H', 'M') AND list_contains([{states}], {v}[12:13]) "
        f"AND {v}[18] = ((10 - {weighted} % 10) % 10)::VARCHAR "
        f"AND NOT regexp_full_match({v}, 'XEXX010101[HM]NEXXX[A-Z0-9][0-9]') "
        f"AND NOT (length({digits}) >= 7 AND regexp_full_match({digits}, '{_ONE_DIGIT}'))"
    )


def build_national_id_lookup(
    con: duckdb.DuckDBPyConnection, values_sql: str, out: str
) -> dict[str, int]:
    """Lookup ``out`` (raw, country, id_value, id_kind, id_valid) for every distinct
    (raw, country) of ``values_sql`` (columns ``raw`` and ``country``, '' for none)."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE nid_values AS
        WITH d AS (SELECT DISTINCT raw, country FROM ({values_sql}) WHERE raw IS NOT NULL),
        c AS (  -- the compact form, for plain ASCII text only (no repair needed)
            SELECT raw, country,
                   CASE WHEN regexp_full_match(raw, '{_PLAIN}')
                        THEN upper(regexp_replace(raw, '[ .,:/_-]+', '', 'g')) END AS v0
            FROM d
        ),
        v AS (
            SELECT raw, country,
                   CASE WHEN regexp_full_match(v0, '[XYZ]0[0-9]{{7}}[A-Z]')
                        THEN v0[1] || v0[3:] ELSE v0 END AS v
            FROM c
        )
        SELECT raw, country, v,
               CASE WHEN regexp_full_match(v, '[XYZ][0-9]{{7}}[A-Z]') THEN 'NIE'
                    WHEN regexp_full_match(v, '[0-9]{{8}}[A-Z]') THEN 'DNI'
                    WHEN regexp_full_match(v, '{_CURP}') THEN 'CURP' END AS kind
        FROM v"""
    )
    con.execute(
        f"""{create_sql(out)} AS
        SELECT raw, country, v AS id_value, kind AS id_kind,
               CASE WHEN kind = 'CURP' THEN {_curp_valid_sql("v", "digits")}
               ELSE substr('{_LETTERS}', TRY_CAST(CASE kind WHEN 'NIE'
                          THEN CAST(strpos('XYZ', v[1]) - 1 AS VARCHAR) || v[2:8]
                          ELSE v[1:8] END AS BIGINT) % 23 + 1, 1) = v[9]
                    AND v NOT IN ('12345678Z', '87654321X')
                    AND NOT (length(digits) >= 7 AND regexp_full_match(digits, '{_ONE_DIGIT}'))
               END AS id_valid
        FROM (SELECT *, regexp_replace(v, '[^0-9]', '', 'g') AS digits FROM nid_values
              WHERE kind IS NOT NULL)"""
    )
    counts = {
        "national_ids_by_python": append_distinct(
            con,
            distinct_sql="SELECT raw, country FROM nid_values WHERE kind IS NULL ORDER BY ALL",
            fn=mappers.national_id,
            out=out,
            staging="nid_slow",
            in_cols=("raw", "country"),
            out_schema=mappers.NATIONAL_ID,
        )
    }
    (distinct,) = con.sql("SELECT count(*) FROM nid_values").fetchall()[0]
    counts["national_ids"] = int(distinct)
    con.execute("DROP TABLE nid_values")
    return counts

"""National identifiers, set-based: Spanish DNI/NIE checked in SQL, the rest in Python.

Every person has their own identifier, so the distinct values grow with the data (tens of
thousands at a million records). The DNI/NIE check letter is simple arithmetic
(``TRWAGMYFPDXBNJZSQVHLCKE``, digits mod 23; NIE ``X``/``Y``/``Z`` count as 0/1/2), so
plain ASCII values of that shape are settled in SQL with the same rules as
:func:`normalize_national_id` (separators removed, old 8-digit NIEs compacted, filler
values invalid); everything else (CURP, RFC, CIF, SSN, short DNIs, odd text) goes through
python-stdnum. A test checks that both paths agree value for value.
"""

from __future__ import annotations

import duckdb

from omnimdm.normalize import mappers
from omnimdm.normalize.distinct_map import append_distinct, create_sql

_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
#: plain ASCII text with at least one letter or digit (separators: space . , : / _ -)
_PLAIN = "[0-9A-Za-z .,:/_-]*[0-9A-Za-z][0-9A-Za-z .,:/_-]*"
#: one digit repeated (a filler value when 7 or more digits)
_ONE_DIGIT = "0+|1+|2+|3+|4+|5+|6+|7+|8+|9+"


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
                    WHEN regexp_full_match(v, '[0-9]{{8}}[A-Z]') THEN 'DNI' END AS kind
        FROM v"""
    )
    con.execute(
        f"""{create_sql(out)} AS
        SELECT raw, country, v AS id_value, kind AS id_kind,
               substr('{_LETTERS}', CAST(CASE kind WHEN 'NIE'
                          THEN CAST(strpos('XYZ', v[1]) - 1 AS VARCHAR) || v[2:8]
                          ELSE v[1:8] END AS BIGINT) % 23 + 1, 1) = v[9]
               AND v NOT IN ('12345678Z', '87654321X')
               AND NOT (length(digits) >= 7 AND regexp_full_match(digits, '{_ONE_DIGIT}'))
                   AS id_valid
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

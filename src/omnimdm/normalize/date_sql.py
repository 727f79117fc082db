"""Birth dates, set-based: a date in the source's first format settled in SQL, the rest by
``parse_date``.

Birth dates are nearly as many as persons (tens of thousands of distinct values at a
million records) and almost all are complete dates in the source's own format
(``1984-03-14``, ``14/03/1984``). :func:`parse_date` tries the source's ``strptime``
formats first, so a value of the first format's exact shape that is a real calendar day
comes out as that day: the year is checked here against the same bounds (1900 and its
placeholder days excluded by starting at 1902, and no day within two days of today, so
that time zones cannot disagree on "future"). Everything else goes through
:func:`parse_date`. A test checks that both paths agree value for value.
"""

from __future__ import annotations

import duckdb

from omnimdm.normalize import mappers
from omnimdm.normalize.distinct_map import append_distinct, create_sql

#: first source format -> the exact shape of its values settled in SQL
FAST_FORMATS = {
    "%Y-%m-%d": "[0-9]{4}-[0-9]{2}-[0-9]{2}",
    "%d/%m/%Y": "[0-9]{2}/[0-9]{2}/[0-9]{4}",
}


def build_birth_date_lookup(
    con: duckdb.DuckDBPyConnection, values_sql: str, out: str
) -> dict[str, int]:
    """Lookup ``out`` (raw, formats, year, month, day, reason) for every distinct
    (raw, formats) of ``values_sql`` (``formats``: the source's strptime formats joined
    with '|', as :func:`mappers.birth_date` reads them)."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE dob_values AS SELECT DISTINCT raw, formats "
        f"FROM ({values_sql}) WHERE raw IS NOT NULL"
    )
    parsed = " ".join(
        f"WHEN split_part(formats, '|', 1) = '{fmt}' AND regexp_full_match(raw, '{shape}') "
        f"THEN try_strptime(raw, '{fmt}')"
        for fmt, shape in FAST_FORMATS.items()
    )
    con.execute(
        f"""{create_sql(out)} AS
        SELECT raw, formats, year(d)::INTEGER AS year, month(d)::INTEGER AS month,
               day(d)::INTEGER AS day, NULL::VARCHAR AS reason
        FROM (SELECT raw, formats, (CASE {parsed} END)::DATE AS d FROM dob_values)
        WHERE year(d) >= 1902 AND d < current_date - INTERVAL 2 DAY"""
    )
    slow = append_distinct(
        con,
        distinct_sql=f"SELECT raw, formats FROM dob_values ANTI JOIN {out} "
        "USING (raw, formats) ORDER BY ALL",
        fn=mappers.birth_date,
        out=out,
        staging="dob_slow",
        in_cols=("raw", "formats"),
        out_schema=mappers.BIRTH_DATE,
    )
    (distinct,) = con.sql("SELECT count(*) FROM dob_values").fetchall()[0]
    con.execute("DROP TABLE dob_values")
    return {"birth_dates": int(distinct), "birth_dates_by_python": slow}

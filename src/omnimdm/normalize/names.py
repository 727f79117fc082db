"""Names, set-based: parse each distinct given-name, surname and full-name value once.

Display forms (accents and case kept, ALL CAPS properly cased, ``Mª`` expanded) come from
:mod:`name_parsing`; comparison keys (folded, first given token, nickname-resolved set,
Spanish phonetic key) are computed once per distinct display value.
"""

from __future__ import annotations

import duckdb

from omnimdm.normalize import mappers
from omnimdm.normalize.distinct_map import append_distinct, create_sql, map_distinct

#: a last-name value of one or two plain words (letters, apostrophes, hyphens; starting
#: with a letter; single spaces): its split and display forms are those of its words
_PLAIN_LETTERS = "A-Za-zÁÉÍÓÚÜÑáéíóúüñ"
_PLAIN_WORD = f"[{_PLAIN_LETTERS}][{_PLAIN_LETTERS}'-]*"
#: the pattern as a SQL string literal
_PLAIN_SURNAMES = "'" + f"{_PLAIN_WORD}( {_PLAIN_WORD})?".replace("'", "''") + "'"


def build_surname_lookup(con: duckdb.DuckDBPyConnection, values_sql: str, out: str) -> int:
    """Lookup ``out`` (raw, s1_display, s2_display) of :func:`split_surnames` + display for
    every distinct non-null value of ``values_sql`` (one column ``raw``).

    A million records carry a quarter of a million distinct last-name values (surname 1 x
    surname 2) but only tens of thousands of distinct words. A plain value (one or two
    words, no particle) splits into its words and each word's display form is the whole
    value's (proved in the agreement test): words are mapped once each, the rest of the
    values whole. Returns the number of distinct values.
    """
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE surname_values AS
        SELECT raw, regexp_full_match(raw, {_PLAIN_SURNAMES}) AS plain
        FROM (SELECT DISTINCT raw FROM ({values_sql}) WHERE raw IS NOT NULL)"""
    )
    map_distinct(
        con,
        distinct_sql="SELECT DISTINCT w FROM (SELECT unnest(string_split(raw, ' ')) AS w "
        "FROM surname_values WHERE plain) ORDER BY 1",
        fn=mappers.surname_word,
        out="surname_words",
        in_cols=("word",),
        out_schema=mappers.SURNAME_WORD,
    )
    con.execute(
        f"""{create_sql(out)} AS
        SELECT v.raw, w1.display AS s1_display, w2.display AS s2_display
        FROM surname_values v
        JOIN surname_words w1 ON w1.word = split_part(v.raw, ' ', 1)
        LEFT JOIN surname_words w2 ON w2.word = nullif(split_part(v.raw, ' ', 2), '')
        WHERE v.plain AND NOT w1.particle AND NOT coalesce(w2.particle, false)"""
    )
    append_distinct(
        con,
        distinct_sql=f"SELECT raw FROM surname_values ANTI JOIN {out} USING (raw) ORDER BY 1",
        fn=mappers.surnames_display,
        out=out,
        staging="surname_slow",
        in_cols=("raw",),
        out_schema=mappers.SURNAMES_DISPLAY,
    )
    (distinct,) = con.sql("SELECT count(*) FROM surname_values").fetchall()[0]
    for table in ("surname_values", "surname_words"):
        con.execute(f"DROP TABLE {table}")
    return int(distinct)


def build_name_tables(
    con: duckdb.DuckDBPyConnection, base: str, *, prefix: str = ""
) -> dict[str, int]:
    """From ``base`` (given_name, surname, surname1, surname2, full_name raw) build tables
    ``nm_given``, ``nm_surnames``, ``nm_full``, ``nm_given_keys``, ``nm_surname_keys`` and
    ``nm_parts`` (record_id -> display given / surname1 / surname2), their names prefixed
    with ``prefix`` (a database, ``work.``; temp tables without one)."""
    given, surnames, full = f"{prefix}nm_given", f"{prefix}nm_surnames", f"{prefix}nm_full"
    parts = f"{prefix}nm_parts"
    counts = {
        "given": map_distinct(
            con,
            distinct_sql=f"SELECT DISTINCT v FROM (SELECT given_name AS v FROM {base} "
            f"UNION ALL SELECT surname1 FROM {base} UNION ALL SELECT surname2 FROM {base}) "
            "WHERE v IS NOT NULL ORDER BY 1",
            fn=mappers.given_display,
            out=given,
            in_cols=("raw",),
            out_schema=mappers.GIVEN_DISPLAY,
        ),
        "surnames": build_surname_lookup(con, f"SELECT surname AS raw FROM {base}", surnames),
        "full_names": map_distinct(
            con,
            distinct_sql=f"SELECT DISTINCT full_name FROM {base} WHERE full_name IS NOT "
            "NULL AND (given_name IS NULL OR (surname IS NULL AND surname1 IS NULL)) ORDER BY 1",
            fn=mappers.full_name_parts,
            out=full,
            in_cols=("raw",),
            out_schema=mappers.FULL_NAME_PARTS,
        ),
    }
    con.execute(f"""
        {create_sql(parts)} AS
        SELECT b.record_id,
               coalesce(g.given_display, f.f_given) AS given_name,
               coalesce(s1.given_display, s.s1_display, f.f_s1) AS surname1,
               coalesce(s2.given_display,
                        CASE WHEN b.surname IS NOT NULL THEN s.s2_display END,
                        CASE WHEN b.surname IS NULL AND b.surname1 IS NULL THEN f.f_s2 END)
                   AS surname2
        FROM {base} b
        LEFT JOIN {given} g ON g.raw = b.given_name
        LEFT JOIN {surnames} s ON s.raw = b.surname
        LEFT JOIN {full} f ON f.raw = b.full_name
             AND (b.given_name IS NULL OR (b.surname IS NULL AND b.surname1 IS NULL))
        LEFT JOIN {given} s1 ON s1.raw = b.surname1
        LEFT JOIN {given} s2 ON s2.raw = b.surname2
    """)
    # surname1/surname2 given as separate columns share the display mapping of given names
    counts["given_keys"] = map_distinct(
        con,
        distinct_sql=f"SELECT DISTINCT given_name FROM {parts} WHERE given_name IS NOT "
        "NULL ORDER BY 1",
        fn=mappers.given_keys,
        out=f"{prefix}nm_given_keys",
        in_cols=("display",),
        out_schema=mappers.GIVEN_KEYS,
    )
    counts["surname_keys"] = map_distinct(
        con,
        distinct_sql=f"SELECT DISTINCT s FROM (SELECT surname1 AS s FROM {parts} UNION "
        f"SELECT surname2 FROM {parts}) WHERE s IS NOT NULL ORDER BY 1",
        fn=mappers.surname_keys,
        out=f"{prefix}nm_surname_keys",
        in_cols=("display",),
        out_schema=mappers.SURNAME_KEYS,
    )
    return counts

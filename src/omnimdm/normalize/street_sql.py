"""Street lines, set-based: the common shape split in SQL, each part parsed once in Python.

At a million records there are over half a million distinct street lines (street name x
house number x floor/door), and :func:`parse_street` costs ~16 us each. Most lines have
one shape: ``<type> <name>[,] <number> <floor/door, colonia ...>`` where the house number
is the first token holding a digit. For those the parse splits exactly into

* the **head** up to the number, with the number token replaced by :data:`HEAD_NUMBER`
  (``Calle Mayor 0``): type and name, parsed once per distinct template (a few per street
  name, not one per house);
* the **number token**, formatted in SQL exactly as the parser formats it;
* the **tail** after the number: its floor/door, parsed once per distinct tail.

The Python side checks each template and tail and refuses any that the parser would read
differently in the full line (text needing repair, a colonia in the head, a number the
parser did not take as the house number); those lines and every other shape go through
:func:`parse_street` whole. A test checks that both paths agree line for line.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from omnimdm.normalize import mappers
from omnimdm.normalize.address_rules import HEAD_NUMBER, street_head_template, street_tail_floor
from omnimdm.normalize.distinct_map import append_distinct, create_sql, map_distinct

S = pa.string()
#: a line whose first digit starts its house number token (the parser's number regex,
#: ASCII only): 1 = the text before it (no digit), 2-4 = the number's parts, 5 = the rest
_LINE = (
    r"(?is)^([^0-9]*[ #,])?([0-9]{1,5})(?:-([0-9]{1,5}))?-?([a-z]|bis|ter)?"
    r"([\s,#].*)?$"
)
#: the rest's first token (the parser's tokens: ``#``, ``,`` or a run of other non-spaces)
_NEXT = r"^\s*(#|,|[^\s,#]+)"
HEAD_TEMPLATE = pa.schema([("street_type", S), ("street_name", S), ("head_ok", pa.bool_())])
TAIL_FLOOR = pa.schema([("floor_door", S), ("tail_ok", pa.bool_())])


def build_street_lookup(con: duckdb.DuckDBPyConnection, lines_sql: str, out: str) -> dict[str, int]:
    """Lookup table ``out`` (raw, street_type, street_name, street_number, floor_door) for
    every distinct non-null line of ``lines_sql`` (one column named ``raw``)."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE street_split AS
        SELECT raw, regexp_extract(raw, '{_LINE}', ['prefix', 'num', 'num2', 'suffix', 'rest'])
                   AS m
        FROM (SELECT DISTINCT raw FROM ({lines_sql}) WHERE raw IS NOT NULL)"""
    )
    # the parser reads ``5 de Mayo`` as a name and ``12 bis`` as one number: those, and
    # every line without the shape, go to Python whole
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE street_fast_in AS
        SELECT raw, m.rest AS tail, m.prefix || '{HEAD_NUMBER}' AS template,
               m.num || CASE WHEN m.num2 <> '' THEN '-' || m.num2 ELSE '' END
                   || CASE WHEN length(m.suffix) > 1 THEN ' ' || lower(m.suffix)
                           ELSE lower(m.suffix) END AS street_number
        FROM street_split
        WHERE m.num <> ''
          AND lower(regexp_extract(m.rest, '{_NEXT}', 1)) NOT IN ('de', 'del', 'bis', 'ter')"""
    )
    (distinct,) = con.sql("SELECT count(*) FROM street_split").fetchall()[0]
    counts = {"distinct_streets": int(distinct)}
    counts["street_templates"] = map_distinct(
        con,
        distinct_sql="SELECT DISTINCT template FROM street_fast_in ORDER BY 1",
        fn=street_head_template,
        out="street_heads",
        in_cols=("template",),
        out_schema=HEAD_TEMPLATE,
    )
    counts["street_tails"] = map_distinct(
        con,
        distinct_sql="SELECT DISTINCT tail FROM street_fast_in ORDER BY 1",
        fn=street_tail_floor,
        out="street_tails",
        in_cols=("tail",),
        out_schema=TAIL_FLOOR,
    )
    con.execute(
        f"""{create_sql(out)} AS
        SELECT f.raw, h.street_type, h.street_name, f.street_number, t.floor_door
        FROM street_fast_in f JOIN street_heads h USING (template)
        JOIN street_tails t USING (tail)
        WHERE h.head_ok AND t.tail_ok"""
    )
    counts["streets_by_python"] = append_distinct(
        con,
        distinct_sql=f"SELECT raw FROM street_split ANTI JOIN {out} USING (raw) ORDER BY 1",
        fn=mappers.street,
        out=out,
        staging="street_slow",
        in_cols=("raw",),
        out_schema=mappers.STREET,
    )
    for table in ("street_split", "street_fast_in", "street_heads", "street_tails"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return counts

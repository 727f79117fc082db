"""Name normalization as SQL expressions (set-based over the whole table).

Display forms keep accents and case (trimmed, whitespace collapsed); comparison forms are
lower-case, accent-folded and stripped of everything but letters and single spaces.
"""

from __future__ import annotations


def clean_display_sql(expr: str) -> str:
    """Trim and collapse whitespace; keep case and accents for display."""
    return f"nullif(trim(regexp_replace({expr}, '\\s+', ' ', 'g')), '')"


def fold_sql(expr: str) -> str:
    """Comparison form: lower-case, accents removed, only letters and single spaces."""
    folded = f"lower(strip_accents({expr}))"
    letters = f"regexp_replace({folded}, '[^a-z ]+', ' ', 'g')"
    return f"nullif(trim(regexp_replace({letters}, '\\s+', ' ', 'g')), '')"


def split_full_name_sql(full: str) -> dict[str, str]:
    """Split a one-field full name into given name(s), surname 1 and surname 2 (display).

    ``"GARCIA LOPEZ, MARIA JOSE"`` puts surnames first; otherwise the last two tokens are
    the two surnames when there are three or more tokens, the last one when there are two.
    """
    has_comma = f"contains({full}, ',')"
    before = f"trim(split_part({full}, ',', 1))"
    after = f"trim(split_part({full}, ',', 2))"
    toks = f"string_split({full}, ' ')"
    n = f"len({toks})"
    given_nc = (
        f"CASE WHEN {n} <= 2 THEN {toks}[1] WHEN {n} = 3 THEN {toks}[1] "
        f"ELSE array_to_string({toks}[1:{n} - 2], ' ') END"
    )
    s1_nc = f"CASE WHEN {n} = 1 THEN NULL WHEN {n} = 2 THEN {toks}[2] ELSE {toks}[{n} - 1] END"
    s2_nc = f"CASE WHEN {n} >= 3 THEN {toks}[{n}] END"
    btoks = f"string_split({before}, ' ')"
    return {
        "given": f"CASE WHEN {has_comma} THEN {after} ELSE {given_nc} END",
        "surname1": f"CASE WHEN {has_comma} THEN {btoks}[1] ELSE {s1_nc} END",
        "surname2": (
            f"CASE WHEN {has_comma} THEN nullif(array_to_string({btoks}[2:], ' '), '') "
            f"ELSE {s2_nc} END"
        ),
    }


def split_surnames_sql(surname: str) -> dict[str, str]:
    """Split a last-name column holding one or two surnames (``García López``)."""
    toks = f"string_split({surname}, ' ')"
    return {
        "surname1": f"{toks}[1]",
        "surname2": f"nullif(array_to_string({toks}[2:], ' '), '')",
    }

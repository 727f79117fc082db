"""Spanish and Latin-American nicknames (hipocorísticos) for given-name comparison.

The lexicon is ``data/nicknames.tsv`` (``nickname<TAB>canonical|canonical``, folded forms),
written by hand and independent of the synthetic-data generator.
"""

from __future__ import annotations

from functools import cache, lru_cache
from itertools import product

from omnimdm.normalize.name_parsing import fold_name
from omnimdm.normalize.text_repair import read_data_lines

_MAX_COMBINATIONS = 16


@cache
def nickname_table() -> dict[str, tuple[str, ...]]:
    """Folded nickname -> the folded canonical names it may stand for (loaded once)."""
    table: dict[str, tuple[str, ...]] = {}
    for row in read_data_lines("nicknames.tsv"):
        if len(row) >= 2:
            canon = tuple(c.strip() for c in row[1].split("|") if c.strip())
            table[row[0]] = tuple(dict.fromkeys(table.get(row[0], ()) + canon))
    return table


@lru_cache(maxsize=65536)
def _given_name_set(folded: str) -> frozenset[str]:
    """Cached worker of ``given_name_set`` for an already folded value."""
    table = nickname_table()
    out = {folded, *table.get(folded, ())}
    tokens = folded.split(" ")
    if len(tokens) > 1:
        options = [(t, *table.get(t, ())) for t in tokens]
        size = 1
        for opt in options:
            size *= len(opt)
        if size <= _MAX_COMBINATIONS:
            out.update(" ".join(combo) for combo in product(*options))
    return frozenset(out)


def given_name_set(folded_given: str | None) -> frozenset[str]:
    """The folded canonical given names a value may stand for.

    The value itself plus, for a nickname, its canonicals (``dani`` -> {``dani``,
    ``daniel``, ``daniela``}; ``majo`` -> {``majo``, ``maria jose``}).  A compound value is
    looked up whole and, token by token, with each nickname replaced by its canonicals
    (``pepe luis`` -> {``pepe luis``, ``jose luis``}; ``maria jose`` -> {``maria jose``}).
    Input is folded again defensively (``Dani`` works too).  Empty/``None`` -> empty set.
    Two values may be the same person when their sets intersect.
    """
    folded = fold_name(folded_given)
    if folded is None:
        return frozenset()
    return _given_name_set(folded)

"""Person-name normalizers: comparison fold, display casing, full-name and surname parsing.

Decisions (documented contract):

* ``Mª``, ``M.ª``, ``Maª``, ``Mª.`` always mean *María*; so does ``Ma.`` (dotted, very common
  in Mexican exports: ``Ma. Guadalupe``).  Bare ``Ma``/``MA`` means *María* only as the first
  token of a name (or of the part after a comma, ``GARCIA, MA JOSE``) and only when another
  token follows.  ``M.A.`` is left alone (it is usually *Miguel Ángel*).
* Other abbreviations (``Fco.``, ``Gpe.``, ``Glez.``, ``Hdez.`` ...) come from
  ``data/name_abbreviations.tsv``; ``fold_name`` and ``expand_given`` expand them,
  ``display_name`` does not (except the ``ª`` forms, which NFKC would destroy).
* Comparison form: hyphens become spaces (``García-López`` -> ``garcia lopez``), apostrophes
  are removed (``O'Donnell`` -> ``odonnell``), everything that is not ``a-z`` is a space.
* Parsed parts are slices of ``display_name(value)``: in proper-cased output, particles are
  lower-case except at the start of the value (``De la Fuente, Juan``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

from omnimdm.normalize.text_repair import read_data_lines, repair_text

_ORD_MARIA = re.compile(r"\b[Mm](?:[Aa]|\.)?\s?\.?ª\.?")
_MA_DOT = re.compile(r"(?:^|(?<=[\s,;\-]))ma\.")
_MA_SEGMENT = re.compile(r"(^|,)\s*ma\s+(?=[^\s,])")
_APOS = re.compile("['`\u2018\u2019\u02bc\u00b4]")
_NON_AZ = re.compile(r"[^a-z]+")
_LETTER = re.compile(r"[^\W\d_]")
_CAP = re.compile(r"(^|[\-'.\u2019])([^\W\d_])")
_PARENS = re.compile(r"\([^)]*\)?")
_FOLD_EXTRA = {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th"}
_FOLD_EXTRA_RE = re.compile("[" + "".join(_FOLD_EXTRA) + "ı]")
_LOWER_PARTICLES = frozenset({"de", "del", "y", "i", "da", "das", "do", "dos", "van", "von"})
_ARTICLES = frozenset({"la", "las", "los", "le", "der", "den"})
_JOIN_PARTICLES = _LOWER_PARTICLES - {"y", "i"} | _ARTICLES | {"san", "santa"}
_CONJ = frozenset({"y", "i"})
_ARTICLE_HOSTS = frozenset({"de", "da", "do", "van", "von"})
_TITLES = frozenset(
    {
        "sr",
        "sra",
        "srta",
        "don",
        "dona",
        "dna",
        "dr",
        "dra",
        "lic",
        "licda",
        "licdo",
        "ing",
        "arq",
        "mtro",
        "mtra",
        "prof",
        "profa",
        "ldo",
        "lda",
    }
)
_DEVOTIONAL = frozenset(
    {
        "carmen",
        "mar",
        "pilar",
        "rosario",
        "jesus",
        "angeles",
        "luz",
        "mercedes",
        "lourdes",
        "paz",
        "dolores",
        "socorro",
        "consuelo",
        "refugio",
        "guadalupe",
        "fatima",
        "montserrat",
        "begona",
        "nieves",
        "concepcion",
        "asuncion",
        "dios",
        "remedios",
        "gracia",
        "soledad",
        "rocio",
        "cielo",
        "sol",
        "loreto",
        "belen",
        "milagros",
        "esperanza",
        "olvido",
        "valle",
        "salud",
        "natividad",
        "trinidad",
        "encarnacion",
        "candelaria",
        "camino",
        "o",
        "sagrario",
    }
)
_DEVOTIONAL_HOSTS = frozenset({"maria", "ma", "jose", "juan", "ana"})


@dataclass(frozen=True)
class ParsedName:
    """A one-field name split into display parts (``None`` where absent)."""

    given: str | None
    surname1: str | None
    surname2: str | None


_EMPTY = ParsedName(None, None, None)


@cache
def _abbreviations() -> dict[str, tuple[str, str]]:
    """Folded abbreviation -> (folded expansion, display expansion)."""
    return {row[0]: (row[1], row[2]) for row in read_data_lines("name_abbreviations.tsv")}


@cache
def _given_lexicon() -> frozenset[str]:
    """Folded common given names plus nickname keys."""
    names = {row[0] for row in read_data_lines("given_names.txt")}
    names.update(row[0] for row in read_data_lines("nicknames.tsv"))
    return frozenset(names)


@cache
def _surname_lexicon() -> frozenset[str]:
    """Folded common surnames (used to resolve given-name/surname ambiguity)."""
    return frozenset(row[0] for row in read_data_lines("surnames.txt"))


@lru_cache(maxsize=65536)
def basic_fold(s: str) -> str:
    """Lower-case, strip accents (``ñ`` -> ``n``), drop apostrophes, keep only ``a-z`` and
    single spaces.  No abbreviation rules; input is assumed already repaired."""
    t = s.casefold()
    if "'" in t or not t.isascii():
        t = _APOS.sub("", t)
    if not t.isascii():
        if _FOLD_EXTRA_RE.search(t):
            t = _FOLD_EXTRA_RE.sub(lambda m: _FOLD_EXTRA.get(m.group(), "i"), t)
        t = unicodedata.normalize("NFKD", t).encode("ascii", "ignore").decode("ascii")
    return " ".join(_NON_AZ.sub(" ", t).split())


def _prep(s: str | None) -> str | None:
    """Repair text and turn the ``ª`` forms of *María* into the word (before NFKC eats ª)."""
    t = repair_text(s, keep_ordinals=True)
    if t is None:
        return None
    if "ª" in t or "º" in t:
        maria = "MARÍA " if t == t.upper() else "maría " if t == t.lower() else "María "
        t = repair_text(_ORD_MARIA.sub(maria, t).replace("ª", "a").replace("º", "o"))
    return t or None


def fold_name(s: str | None) -> str | None:
    """Comparison form of a name: ``a-z`` words separated by single spaces, or ``None``.

    Repairs text, lower-cases, strips accents, expands *María* abbreviations and the
    abbreviations of ``data/name_abbreviations.tsv``; hyphens -> space, apostrophes removed.
    Idempotent.
    """
    t = _prep(s)
    if t is None:
        return None
    t = t.casefold()
    if "ma" in t:
        t = _MA_SEGMENT.sub(r"\1maria ", _MA_DOT.sub(" maria ", t))
    abbrev = _abbreviations()
    tokens = [abbrev[w][0] if w in abbrev else w for w in basic_fold(t).split()]
    if len(tokens) > 1 and tokens[0] == "ma":
        tokens[0] = "maria"
    return " ".join(tokens) or None


def _cap_word(w: str) -> str:
    """Capitalize each hyphen/apostrophe/dot-separated part of a lower-case word."""
    return _CAP.sub(lambda m: m.group(1) + (m.group(2).upper()[:1] or m.group(2)), w)


def _proper_case(t: str) -> str:
    """Proper-case a uniform-case value; Spanish particles lower-case except at the start."""
    out: list[str] = []
    start, prev = True, ""
    for w in t.lower().split(" "):
        bare = w.rstrip(",")
        particle = bare in _LOWER_PARTICLES or (bare in _ARTICLES and prev in _ARTICLE_HOSTS)
        out.append(w if particle and not start else _cap_word(w))
        start, prev = w.endswith(","), bare
    return " ".join(out)


def display_name(s: str | None) -> str | None:
    """Display form of a name, or ``None`` when blank.

    Repairs text; a value that is all upper-case or all lower-case is proper-cased with
    ``de``, ``del``, ``de la``, ``de los``, ``y``, ``i`` ... lower-case except at the start
    (and after a comma); mixed-case values keep their case.  Accents present are kept (they
    cannot be restored).  Idempotent.  Short values are cached: the parts of full names
    (a surname, a given name) repeat across thousands of distinct names.
    """
    if s is not None and len(s) <= _CACHED_LEN:
        return _display_cached(s)
    return _display(s)


#: values up to this length go through the caches of display_name and _expand
_CACHED_LEN = 64


def _display(s: str | None) -> str | None:
    t = _prep(s)
    for _ in range(3):
        if t is None or not (t == t.upper() or t == t.lower()):
            return t
        cased = _proper_case(t)
        if cased.isascii() and "&" not in cased:
            return cased
        again = _prep(cased)  # a case change can create mojibake (â¡ -> Â¡) or &AMP; -> &amp;
        if again == cased:
            return cased
        t = again
    return t


def expand_given(s: str | None) -> str | None:
    """Display form of a given name with abbreviations expanded.

    ``Mª José`` / ``M.ª José`` / ``Ma. José`` / ``MA JOSE`` -> ``María José``,
    ``Fco. Javier`` -> ``Francisco Javier``, ``Ma. Gpe.`` -> ``María Guadalupe``.
    """
    return _expand(display_name(s))


def _expand(t: str | None) -> str | None:
    """Expand the abbreviations of a given name already in display form."""
    if t is None:
        return None
    return _expand_cached(t) if len(t) <= _CACHED_LEN else _expand_words(t)


def _expand_words(t: str) -> str:
    abbrev = _abbreviations()
    words = t.split(" ")
    out: list[str] = []
    for i, w in enumerate(words):
        key = basic_fold(w)
        if key == "ma" and (w.endswith(".") or (i == 0 and len(words) > 1)):
            out.append("María")
        elif key in abbrev and not w.endswith(",") and "-" not in w:
            out.append(abbrev[key][1])
        else:
            out.append(w)
    return " ".join(out)


_display_cached = lru_cache(maxsize=1 << 17)(_display)
_expand_cached = lru_cache(maxsize=1 << 16)(_expand_words)


def _units(tokens: list[str]) -> list[list[str]]:
    """Group tokens into name units: particles join the next token (``de la Fuente``) and
    ``y``/``i`` join two surnames into one (``Ortega y Gasset``)."""
    units: list[list[str]] = []
    pending: list[str] = []
    conj: str | None = None
    for tok in tokens:
        key = basic_fold(tok)
        if key in _JOIN_PARTICLES:
            pending.append(tok)
            continue
        if key in _CONJ and units and not pending and conj is None:
            conj = tok
            continue
        unit = [*pending, tok]
        pending = []
        if conj is not None:
            units[-1].extend([conj, *unit])
            conj = None
        else:
            units.append(unit)
    trailing = ([conj] if conj else []) + pending
    if trailing:
        if units:
            units[-1].extend(trailing)
        else:
            units.append(trailing)
    return units


_INITIAL = re.compile(r"[^\W\d_]\.?")


def _given_run(folded: list[str], units: list[list[str]]) -> int:
    """How many leading units are known given names (or devotional ``del Carmen`` parts)."""
    given = _given_lexicon()
    k = 0
    for i, (key, unit) in enumerate(zip(folded, units, strict=True)):
        # an initial (``M.``) after a given name, or before one, is part of the given names
        initial = (
            len(unit) == 1
            and _INITIAL.fullmatch(unit[0]) is not None
            and (i > 0 or (i + 1 < len(folded) and folded[i + 1] in given))
        )
        known = len(unit) == 1 and (key in given or initial)
        devotional = (
            i > 0
            and len(unit) > 1
            and folded[i - 1] in _DEVOTIONAL_HOSTS
            and key.split(" ")[0] in {"de", "del"}
            and key.split(" ")[-1] in _DEVOTIONAL
        )
        if not (known or devotional):
            break
        k += 1
    return k


def _given_count(units: list[list[str]]) -> tuple[int, bool]:
    """Number of given-name units and whether the surnames come first (no comma)."""
    n = len(units)
    if n <= 1:
        return n, False
    folded = [basic_fold(" ".join(u)) for u in units]
    given, surnames = _given_lexicon(), _surname_lexicon()
    k_lex = _given_run(folded, units)
    if k_lex == 0 and folded[0] in surnames:
        tail = 0
        for key in reversed(folded[1:]):
            if key not in given or key in surnames:
                break
            tail += 1
        if tail:
            return tail, True
    if k_lex >= n - 1:
        # n-1 given names and one surname, unless the last candidate is a common surname
        # too (``José Martín López``) and not part of a known compound (``José Antonio``)
        last = 1 if n == 2 else n - 2
        if n == 2 and k_lex < 2:
            return 1, False
        ambiguous = len(units[last]) == 1 and folded[last] in surnames
        if ambiguous and f"{folded[last - 1]} {folded[last]}" not in given:
            return max(last, 1), False
        return (2 if n == 2 else n - 1), False
    return max(n - 2, 1), False


def _strip_titles(tokens: list[str]) -> list[str]:
    """Drop leading honorifics (``Sr.``, ``Dña.``, ``Lic.``, ``Ing.``, ``D.``) when a name
    of at least two tokens remains."""
    while len(tokens) > 2:
        head = tokens[0]
        key = basic_fold(head)
        if key in _TITLES or (key in {"d", "c"} and head.endswith(".")):
            tokens = tokens[1:]
        else:
            break
    return tokens


def _surnames(units: list[list[str]]) -> tuple[str | None, str | None]:
    """First unit is surname 1, the rest (joined) surname 2."""
    if not units:
        return None, None
    rest = " ".join(" ".join(u) for u in units[1:])
    return " ".join(units[0]), rest or None


def is_name_particle(word: str) -> bool:
    """Whether a word joins its neighbours into one name unit (``de``, ``la``, ``san``,
    ``y`` ...), as :func:`split_surnames` and :func:`parse_full_name` group words."""
    key = basic_fold(word)
    return key in _JOIN_PARTICLES or key in _CONJ


def _tokens(t: str) -> list[str]:
    """Whitespace tokens that contain at least one letter."""
    return [w for w in t.split() if _LETTER.search(w)]


def parse_full_name(s: str | None) -> ParsedName:
    """Split a one-field name into given name(s), surname 1 and surname 2 (display forms).

    ``GARCIA LOPEZ, MARIA JOSE`` (surnames, comma, given); ``María José García López``;
    ``Juan Carlos de la Fuente Martín`` (particles stay with their surname); ``José Ortega
    y Gasset`` (``y``-joined surname); ``HERNANDEZ LOPEZ JUAN CARLOS`` (surnames first,
    recognised through the surname and given-name lexicons).  The number of given names is
    decided with a lexicon of common given names; two surnames are assumed otherwise.
    Leading titles are dropped; the given part is passed through ``expand_given``.
    """
    t = display_name(_PARENS.sub(" ", s)) if s else None
    if t is None:
        return _EMPTY
    left, comma, right = t.partition(",")
    if comma and _tokens(left) and _tokens(right.replace(",", " ")):
        s1, s2 = _surnames(_units(_tokens(left)))
        return ParsedName(_expand(" ".join(_tokens(right.replace(",", " ")))), s1, s2)
    units = _units(_strip_titles(_tokens(t.replace(",", " "))))
    if not units:
        return _EMPTY
    k, surnames_first = _given_count(units)
    if surnames_first:
        given_units, surname_units = units[len(units) - k :], units[: len(units) - k]
    else:
        given_units, surname_units = units[:k], units[k:]
    given = " ".join(" ".join(u) for u in given_units)
    s1, s2 = _surnames(surname_units)
    return ParsedName(_expand(given) if given else None, s1, s2)


def split_surnames(s: str | None) -> tuple[str | None, str | None]:
    """Split a last-name column into (surname 1, surname 2), display forms.

    ``García López`` -> (García, López); ``de la Fuente Martín`` -> (de la Fuente, Martín);
    ``García-López`` -> (García-López, None); ``Ortega y Gasset`` -> (Ortega y Gasset, None).
    More than two units: everything after the first goes to surname 2.
    """
    t = display_name(s)
    if t is None:
        return None, None
    return _surnames(_units(_tokens(t.replace(",", " "))))

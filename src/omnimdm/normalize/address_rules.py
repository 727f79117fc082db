"""Address normalizers: country, postcode, city and Spanish/Mexican street lines.

Decisions:

* ``country_iso2`` looks the value up by a key of letters only (``EE.UU.`` = ``eeuu``) in
  ``data/countries.tsv``; ``NO`` is not Norway (it means "no data" in these exports).
* Postcodes are text.  ES/MX (and US/FR/DE/IT): five digits, a leading zero lost to Excel
  is restored (``8001`` -> ``08001``); ES must start with a province code 01-52, no code
  starts with ``00``; one repeated digit (``00000``, ``99999``) is None.  US also takes
  ``12345-6789``; PT: ``1234-567``; other/unknown: upper-case alphanumerics and single
  spaces (a 4-digit value is NOT padded without a country).
* ``canonical_city`` folds (apostrophes become spaces: ``L'Hospitalet`` -> ``l
  hospitalet``), drops ``(...)``, turns INE style ``Coruña, A`` into ``a coruna``, drops
  what follows any other comma (``Guadalajara, Jalisco``), expands ``Cd.``/``Sta.``/
  ``Sto.``/``Gral.`` and maps aliases from ``data/cities.tsv``.  A bare ``México`` stays
  ``mexico`` (country, state or city: ambiguous).
* ``parse_street``: the type is canonical (``calle``, ``avenida`` ...); the street name
  keeps the given case, without a leading ``de``/``del``/``de la`` (``Plaza de España``
  and ``Pza. España`` both give ``España``); ``number`` is ``12``, ``12 bis``, ``12b``,
  ``12-14`` or None (``s/n``); ``floor_door`` is lower-case tokens with ordinal marks
  removed and abbreviations expanded (``3º-B`` -> ``3 b``, ``1º Izda`` -> ``1
  izquierda``, ``Int. 5`` -> ``int 5``, ``Depto 4`` -> ``depto 4``); words that are not
  floor/door words (a trailing city) are dropped.  A letter glued to the number is part of
  it (``12B`` -> ``12b``); a separate one is the door (``12 B`` -> floor_door ``b``).
  Mexican ``Col. ...`` (colonia) and ``C.P. ...`` are removed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from omnimdm.normalize.name_parsing import basic_fold
from omnimdm.normalize.text_repair import read_data_lines, repair_text

_LETTERS = re.compile(r"[^a-z]+")
_PARENS = re.compile(r"\([^)]*\)?")
_APOS = re.compile("['`\u2018\u2019\u02bc\u00b4]")
_CITY_ARTICLES = frozenset({"el", "la", "los", "las", "l", "a", "o", "os", "as", "es", "sa", "s"})
_CITY_ABBREV = {"cd": "ciudad", "sta": "santa", "sto": "santo", "gral": "general", "sn": "san"}
_PC_JUNK = re.compile(r"^\s*(?:c\.?\s?p\.?|cod(?:igo)?\.?\s*postal|zip)\s*:?\s*", re.IGNORECASE)
_ZERO_FLOAT = re.compile(r"^(\d+)\.0+$")
_NON_ALNUM = re.compile(r"[^0-9A-Z]+")


@dataclass(frozen=True)
class StreetParts:
    """A street line split into canonical type, display name, number and floor/door."""

    street_type: str | None
    street_name: str | None
    number: str | None
    floor_door: str | None


_NO_STREET = StreetParts(None, None, None, None)


def _key(s: str) -> str:
    """Lookup key: folded letters only."""
    return _LETTERS.sub("", basic_fold(s))


@cache
def _countries() -> dict[str, str]:
    """Country alias key -> ISO-2."""
    return {row[0]: row[1] for row in read_data_lines("countries.tsv")}


def country_iso2(s: str | None) -> str | None:
    """ISO 3166-1 alpha-2 code of a country code or name (``ESP``, ``España``, ``Spain``,
    ``EE.UU.``, ``México``), or ``None`` when unknown or blank."""
    t = repair_text(s)
    return _countries().get(_key(t)) if t else None


def _postcode_digits(t: str, country: str) -> str | None:
    """Five-digit postcode rules for ES/MX/US/FR/DE/IT (see module docstring)."""
    digits = t.replace(" ", "").replace("-", "")
    if not digits.isdigit() or not digits.isascii():
        return None
    if country == "US" and len(digits) == 9:
        return f"{digits[:5]}-{digits[5:]}"
    if len(digits) == 4:
        digits = "0" + digits
    if len(digits) != 5 or len(set(digits)) == 1 or digits.startswith("00"):
        return None
    if country == "ES" and int(digits[:2]) > 52:
        return None
    return digits


def normalize_postcode(s: str | None, country: str | None) -> str | None:
    """Canonical postcode text for ``country`` (ISO-2 or any ``country_iso2`` input).

    Strips apostrophes, spaces, ``C.P.`` labels and Excel's ``.0``; ``None`` when invalid.
    Idempotent for a given country.
    """
    t = repair_text(s)
    if t is None:
        return None
    t = _PC_JUNK.sub("", t.replace("'", "").replace("\u2019", "")).strip().upper()
    m = _ZERO_FLOAT.match(t)
    if m:
        t = m.group(1)
    iso = country_iso2(country) if country else None
    if iso in {"ES", "MX", "US", "FR", "DE", "IT"}:
        return _postcode_digits(t, iso)
    if iso == "PT":
        digits = _NON_ALNUM.sub("", t)
        return f"{digits[:4]}-{digits[4:]}" if len(digits) == 7 and digits.isdigit() else None
    compact = " ".join(_NON_ALNUM.sub(" ", t).split())
    if not compact or len(compact) > 10 or not compact.isascii():
        return None
    return compact


@cache
def _city_aliases() -> dict[str, str]:
    """Folded city alias -> canonical folded city."""
    return {row[0]: row[1] for row in read_data_lines("cities.tsv")}


def canonical_city(s: str | None) -> str | None:
    """Canonical folded city name (``La Coruña`` -> ``a coruna``, ``CDMX`` -> ``ciudad de
    mexico``), or ``None`` when blank.  Idempotent."""
    t = repair_text(s)
    if t is None:
        return None
    t = _APOS.sub(" ", _PARENS.sub(" ", t))
    head, comma, tail = t.partition(",")
    if comma:
        article = basic_fold(tail)
        t = f"{article} {head}" if article in _CITY_ARTICLES else head
    tokens = [_CITY_ABBREV.get(w, w) for w in basic_fold(t).split(" ") if w]
    folded = " ".join(tokens)
    if not folded:
        return None
    return _city_aliases().get(folded, folded)


@cache
def _street_types() -> dict[str, str]:
    """Street-type key -> canonical type."""
    return {row[0]: row[1] for row in read_data_lines("street_types.tsv")}


_TYPE = re.compile(r"\s*([^\W\d_º]+)(\s*\.?\s*º)?\s*(\.|/)?\s*")
_CP = re.compile(r"\b(?:c\.?\s?p\.?|c[oó]digo postal)\s*:?\s*\d{4,5}\b", re.IGNORECASE)
_COLONIA = re.compile(r"[,\s]*\b(?:col|colonia|fracc|fraccionamiento)\b\.?\s+[^,]*", re.IGNORECASE)
_TOKEN = re.compile(r"#|,|[^\s,#]+")
_NUMBER = re.compile(r"^(\d{1,5})(?:-(\d{1,5}))?-?([a-z]|bis|ter)?$", re.IGNORECASE)
_NUM_MARKERS = frozenset({"#", "n", "no", "nº", "num", "numero", "ext", "noext", "numext"})
_SN = frozenset({"s/n", "sn", "s/n.", "s-n", "s.n."})
_NAME_PARTICLES = frozenset({"de", "del", "d"})
_FLOOR_WORDS = {
    "bajo": "bajo",
    "bj": "bajo",
    "bjo": "bajo",
    "entlo": "entresuelo",
    "entl": "entresuelo",
    "entr": "entresuelo",
    "entresuelo": "entresuelo",
    "pral": "principal",
    "principal": "principal",
    "atico": "atico",
    "at": "atico",
    "izq": "izquierda",
    "izda": "izquierda",
    "izqda": "izquierda",
    "iz": "izquierda",
    "izquierda": "izquierda",
    "dcha": "derecha",
    "dch": "derecha",
    "der": "derecha",
    "dr": "derecha",
    "dra": "derecha",
    "derecha": "derecha",
    "ctro": "centro",
    "centro": "centro",
    "int": "int",
    "interior": "int",
    "depto": "depto",
    "dpto": "depto",
    "dep": "depto",
    "depa": "depto",
    "departamento": "depto",
    "apto": "depto",
    "local": "local",
    "loc": "local",
    "esc": "esc",
    "escalera": "esc",
    "mz": "mz",
    "manzana": "mz",
    "lt": "lt",
    "lote": "lt",
    "casa": "casa",
    "of": "oficina",
    "oficina": "oficina",
    "edif": "edificio",
    "edificio": "edificio",
    "portal": "portal",
    "bloque": "bloque",
    "blq": "bloque",
}
_FLOOR_PART = re.compile(r"\d+|[a-z]+")


def _split_type(t: str) -> tuple[str | None, str]:
    """(canonical street type or None, rest of the line)."""
    m = _TYPE.match(t)
    if not m:
        return None, t
    key = basic_fold(m.group(1)) + ("º" if m.group(2) else "") + ("/" if m.group(3) == "/" else "")
    canon = _street_types().get(key)
    if canon is None and m.group(3) == "/":
        canon = _street_types().get(key[:-1])
    if canon is None or m.end() == len(t):
        return None, t
    return canon, t[m.end() :]


def _fold_alnum(s: str) -> str:
    """Lower-case, accents removed; digits kept."""
    return unicodedata.normalize("NFKD", s.lower()).encode("ascii", "ignore").decode("ascii")


def _floor_door(tokens: list[str]) -> str | None:
    """Normalize the tokens after the number into a floor/door string."""
    out: list[str] = []
    for tok in tokens:
        for part in _FLOOR_PART.findall(_fold_alnum(tok.replace("º", " ").replace("ª", " "))):
            if part.isdigit():
                if len(part) <= 4:
                    out.append(part)
            elif part in _FLOOR_WORDS:
                out.append(_FLOOR_WORDS[part])
            elif len(part) == 1:
                out.append(part)
    return " ".join(out) or None


def _format_number(tok: str) -> str:
    """``12`` / ``12 bis`` / ``12b`` / ``12-14`` from a number token."""
    m = _NUMBER.match(tok)
    if not m:
        return tok
    num = m.group(1) + (f"-{m.group(2)}" if m.group(2) else "")
    suffix = (m.group(3) or "").lower()
    return f"{num} {suffix}" if len(suffix) > 1 else num + suffix


def _scan(tokens: list[str]) -> tuple[list[str], str | None, list[str]]:
    """Split line tokens into (name tokens, number, tokens after the number)."""
    name: list[str] = []
    closed = expect_number = False
    for i, tok in enumerate(tokens):
        key = tok.lower().rstrip(".")
        nxt = tokens[i + 1].lower() if i + 1 < len(tokens) else ""
        if tok == ",":
            closed = closed or bool(name)
        elif key in _SN or tok.lower() in _SN:
            return name, None, tokens[i + 1 :]
        elif key == "km" and _NUMBER.match(nxt) and name:
            return name, f"km {_format_number(nxt)}", tokens[i + 2 :]
        elif key in _NUM_MARKERS and (nxt[:1].isdigit() or nxt.rstrip(".") in _NUM_MARKERS):
            expect_number = True
        elif _NUMBER.match(tok) and (
            expect_number or closed or (name and nxt not in {"de", "del"})
        ):
            after = tokens[i + 1 :]
            number = _format_number(tok)
            if after and after[0].lower() in {"bis", "ter"}:
                number, after = f"{number} {after[0].lower()}", after[1:]
            return name, number, after
        elif closed:
            return name, None, tokens[i:]
        else:
            name.append(tok)
    return name, None, []


def parse_street(s: str | None) -> StreetParts:
    """Split a Spanish/Mexican street line into ``StreetParts`` (see module docstring).

    ``C/ Mayor 12, 3º B`` -> (calle, Mayor, 12, 3 b); ``Av. Insurgentes Sur 1234 Int. 5,
    Col. Del Valle`` -> (avenida, Insurgentes Sur, 1234, int 5); ``Calle 5 de Mayo s/n``
    -> (calle, 5 de Mayo, None, None).  Never raises.
    """
    t = repair_text(s, keep_ordinals=True)
    if t is None:
        return _NO_STREET
    t = _COLONIA.sub(" ", _CP.sub(" ", t.replace("°", "º")))
    t = re.sub(r"(?i)\bn\s*º\s*\.?", " nº ", t)
    street_type, rest = _split_type(t)
    name, number, after = _scan(_TOKEN.findall(rest))
    while len(name) > 1 and basic_fold(name[0]) in _NAME_PARTICLES:
        name = name[1:]
        if len(name) > 1 and basic_fold(name[0]) in {"la", "las", "los", "l"}:
            name = name[1:]
    street_name = " ".join(name).replace("ª", "a").replace("º", "o").strip(" .,;-") or None
    return StreetParts(street_type, street_name, number, _floor_door(after))


#: the template number a street head's last token is replaced by (see street_sql)
HEAD_NUMBER = "0"


def street_head_template(template: str) -> tuple[str | None, str | None, bool]:
    """Parse the head of a street line up to its house number, the number token replaced
    by :data:`HEAD_NUMBER` (``Calle Mayor 0`` for ``Calle Mayor 12B, 3º``).

    Returns (street type, street name, ok). ``ok`` says the line's parse is the head's:
    the text needs no repair, holds no colonia or postcode label, and the parser took the
    template number as the house number, so the real line parses to the same type and
    name, the real number token formatted, and the floor/door of what follows the number
    (:func:`street_tail_floor`), provided the token after the number is not ``de``/``del``
    (a name such as ``5 de Mayo``) nor ``bis``/``ter`` (checked by the caller).
    """
    head = template.removesuffix(HEAD_NUMBER)
    if (
        repair_text(template, keep_ordinals=True) != template
        or _COLONIA.search(template)
        or _CP.search(head + "00000")  # ``C.P. 28001`` is not a house number
    ):
        return None, None, False
    parts = parse_street(template)
    ok = (
        parts.number == HEAD_NUMBER
        and parts.floor_door is None
        and not any(ch.isdigit() for ch in parts.street_name or "")
        and "°" not in template
    )
    return (parts.street_type, parts.street_name, True) if ok else (None, None, False)


def street_tail_floor(tail: str) -> tuple[str | None, bool]:
    """Floor/door of the text after a street line's house number, as :func:`parse_street`
    reads it there (colonia and postcode removed); ``ok`` is False when the text would
    need repair first."""
    stripped = tail.strip()
    if repair_text(stripped, keep_ordinals=True) != (stripped or None) or "°" in tail:
        return None, False
    t = _COLONIA.sub(" ", _CP.sub(" ", tail))
    t = re.sub(r"(?i)\bn\s*º\s*\.?", " nº ", t)
    return _floor_door(_TOKEN.findall(t)), True

"""Per-person contact data: mobile and household landline numbers, personal and work
e-mail addresses, employer, national id. Numbers and personal e-mails are unique per person.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import numpy as np
import pandas as pd

from omnimdm.synthetic.lexicon import Lexicon
from omnimdm.synthetic.national_ids import curps, spanish_ids
from omnimdm.synthetic.profile import PopulationSettings
from omnimdm.synthetic.text import ascii_token

# local-part patterns of personal e-mails and their weights
EMAIL_PATTERNS = (
    ("{g}.{s1}", 22),
    ("{g}{s1}", 12),
    ("{g}.{s1}.{s2}", 6),
    ("{g}{s1}{yy}", 10),
    ("{i}{s1}", 8),
    ("{g}_{s1}", 4),
    ("{g}.{s1}{nn}", 8),
    ("{s1}.{g}", 4),
    ("{i}{s1}{j}", 6),
    ("{g}{yyyy}", 5),
    ("{g}{k}{nn}", 5),
    ("{g}.{s1}{s2}", 5),
    ("{s1}{i}{nn}", 5),
)
WORK_PATTERNS = (("{i}.{s1}", 40), ("{g}.{s1}", 30), ("{i}{s1}", 20), ("{g}{k}", 10))


@dataclass(frozen=True)
class Contacts:
    mobile: np.ndarray  # int64 national number: ES 9 digits, MX 10 digits
    landline: np.ndarray  # int64 national number of the household landline, 0 = none
    email: np.ndarray  # personal e-mail or None
    work_email: np.ndarray  # e-mail at the employer or None
    company: np.ndarray  # employer name or None
    national_id: np.ndarray  # DNI/NIE (ES) or CURP (MX)


def _fill(
    rng: np.random.Generator, prefix: np.ndarray, prefix_len: np.ndarray, total: np.ndarray
) -> np.ndarray:
    """Numbers of ``total`` digits starting with ``prefix``; the next digit is 2-9."""
    rest = (total - prefix_len).astype(np.int64)
    scale = 10**rest
    low = 2 * 10 ** (rest - 1)
    return prefix * scale + low + (rng.random(len(prefix)) * (scale - low)).astype(np.int64)


def _area_codes(lex: Lexicon, city: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    codes = lex.cities.area_code.tolist()
    value = np.array([int(c) for c in codes], dtype=np.int64)
    length = np.array([len(c) for c in codes], dtype=np.int64)
    return value[city], length[city]


def _phone_numbers(
    rng: np.random.Generator,
    lex: Lexicon,
    is_mx: np.ndarray,
    city: np.ndarray,
    landline_city: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Mobiles (per person) and landlines (per entry of ``landline_city``), all unique."""
    n = len(is_mx)
    mx_cities = np.flatnonzero(lex.cities.country == "MX")
    roam = rng.random(n) < 0.15  # Mexican mobiles keep the area code where they were bought
    mob_city = np.where(roam, mx_cities[rng.integers(0, len(mx_cities), n)], city)
    area, area_len = _area_codes(lex, mob_city)
    es_prefix = np.where(rng.random(n) < 0.8, 6, 71 + rng.integers(0, 4, n))
    prefix = np.where(is_mx, area, es_prefix)
    plen = np.where(is_mx, area_len, np.where(es_prefix == 6, 1, 2))
    total = np.where(is_mx, 10, 9)
    l_area, l_len = _area_codes(lex, landline_city)
    l_total = np.where(lex.cities.country[landline_city] == "MX", 10, 9)
    all_prefix = np.concatenate([prefix, l_area])
    all_len = np.concatenate([plen, l_len])
    all_total = np.concatenate([total, l_total])
    numbers = _fill(rng, all_prefix, all_len, all_total)
    for _ in range(20):
        dup = np.flatnonzero(pd.Series(numbers).duplicated().to_numpy())
        if len(dup) == 0:
            break
        numbers[dup] = _fill(rng, all_prefix[dup], all_len[dup], all_total[dup])
    return numbers[:n], numbers[n:]


def _positional(pattern: str) -> tuple[str, list[str]]:
    """``"{g}.{s1}"`` -> (``"{0}.{1}"``, ``["g", "s1"]``) for fast ``str.format(*row)``."""
    keys = [field for _, field, _, _ in string.Formatter().parse(pattern) if field]
    out = pattern
    for i, key in enumerate(keys):
        out = out.replace("{" + key + "}", "{" + str(i) + "}", 1)
    return out, keys


def _render_patterns(
    rng: np.random.Generator, patterns: tuple[tuple[str, int], ...], tokens: dict[str, np.ndarray]
) -> np.ndarray:
    n = len(tokens["g"])
    w = np.array([p[1] for p in patterns], dtype=float)
    which = rng.choice(len(w), size=n, p=w / w.sum())
    out = np.empty(n, dtype=object)
    for k, (pattern, _) in enumerate(patterns):
        sel = np.flatnonzero(which == k)
        fmt, keys = _positional(pattern)
        cols = [tokens[key][sel].tolist() for key in keys]
        out[sel] = [fmt.format(*row) for row in zip(*cols, strict=True)]
    return out


def mailbox_keys(emails: np.ndarray) -> pd.Series:
    """The mailbox an address delivers to: lower case; at Gmail dots and a ``+tag`` in the
    local part do not count and googlemail.com is gmail.com (``jose.garcia@gmail.com`` and
    ``josegarcia@gmail.com`` are one mailbox, so they can never belong to two people)."""
    text = pd.Series(emails, dtype=object).str.lower()
    local, domain = text.str.split("@", n=1).str[0], text.str.split("@", n=1).str[1]
    domain = domain.replace("googlemail.com", "gmail.com")
    gmail = domain == "gmail.com"
    folded = local.str.split("+", n=1).str[0].str.replace(".", "", regex=False)
    return local.where(~gmail, folded) + "@" + domain


def _dedupe(rng: np.random.Generator, emails: np.ndarray) -> np.ndarray:
    """Append digits to the local part of addresses whose mailbox repeats another's until
    every mailbox is unique."""
    for _ in range(20):
        dup = np.flatnonzero(mailbox_keys(emails).duplicated().to_numpy() & ~pd.isna(emails))
        if len(dup) == 0:
            break
        digits = rng.integers(1, 100, len(dup)).tolist()
        emails[dup] = [e.replace("@", f"{d}@", 1) for e, d in zip(emails[dup], digits, strict=True)]
    return emails


def _name_tokens(
    rng: np.random.Generator,
    lex: Lexicon,
    given: np.ndarray,
    s1: np.ndarray,
    s2: np.ndarray,
    birth: np.ndarray,
) -> dict[str, np.ndarray]:
    n = len(given)
    full = lex.given.table.token[given]
    first = lex.given.first_token[given]
    g = np.where(lex.given.compound[given] & (rng.random(n) < 0.4), full, first)
    t1, t2 = lex.surnames.table.token[s1], lex.surnames.table.token[s2]
    year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    return {
        "g": g,
        "s1": t1,
        "s2": t2,
        "i": _INITIALS[_initial_codes(g)],
        "j": _INITIALS[_initial_codes(t2)],
        "k": _INITIALS[_initial_codes(t1)],
        "yy": _PAD2[year % 100],
        "yyyy": _PLAIN[year],
        "nn": _PLAIN[rng.integers(1, 1000, n)],
    }


_PAD2 = np.array([f"{i:02d}" for i in range(100)], dtype=object)
_PLAIN = np.array([str(i) for i in range(10000)], dtype=object)
_INITIALS = np.array([chr(i) for i in range(128)], dtype=object)


def _initial_codes(tokens: np.ndarray) -> np.ndarray:
    """Code point of the first character of each (ASCII, non-empty) token."""
    codes, uniques = pd.factorize(tokens)
    first = np.array([ord(u[0]) if u else ord("x") for u in uniques], dtype=np.int64)
    return np.minimum(first[codes], 127)


def _domains(rng: np.random.Generator, lex: Lexicon, is_mx: np.ndarray) -> np.ndarray:
    out = np.empty(len(is_mx), dtype=object)
    for country, mx in (("ES", False), ("MX", True)):
        sel = np.flatnonzero(is_mx == mx)
        p = lex.domains.p[country]
        out[sel] = lex.domains.domain[rng.choice(len(p), size=len(sel), p=p)]
    return out


def _companies(
    rng: np.random.Generator, lex: Lexicon, is_mx: np.ndarray, employed: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Employer name and e-mail domain per person (None where not employed)."""
    name = np.full(len(is_mx), None, dtype=object)
    domain = np.full(len(is_mx), None, dtype=object)
    for country, mx, tlds in (("ES", False, (".es", ".com")), ("MX", True, (".com.mx", ".mx"))):
        sel = np.flatnonzero((is_mx == mx) & employed)
        if len(sel) == 0:
            continue
        k = max(10, len(sel) // 20)
        words = np.array(lex.company_words[country], dtype=object)
        p = lex.surnames.table.p[country]
        sur = lex.surnames.table.names[rng.choice(len(p), size=k, p=p)]
        word = words[rng.integers(0, len(words), k)]
        names = word + " " + sur
        tld = np.array(tlds, dtype=object)[rng.integers(0, 2, k)]
        base = np.array([ascii_token(w) for w in names], dtype=object)
        clash = pd.Series(base + tld, dtype=object).duplicated().to_numpy()
        base[clash] = [
            f"{b}{i}" for b, i in zip(base[clash], np.flatnonzero(clash).tolist(), strict=True)
        ]
        domains = base + tld
        size = 1.0 / np.arange(1, k + 1)  # a few large employers, many small ones
        which = rng.choice(k, size=len(sel), p=size / size.sum())
        name[sel] = names[which]
        domain[sel] = domains[which]
    return name, domain


def draw_contacts(
    rng: np.random.Generator,
    lex: Lexicon,
    settings: PopulationSettings,
    *,
    is_mx: np.ndarray,
    household: np.ndarray,
    home_city: np.ndarray,
    given: np.ndarray,
    surname1: np.ndarray,
    surname2: np.ndarray,
    birth: np.ndarray,
    female: np.ndarray,
) -> Contacts:
    """Contact data for every person (arrays aligned with the population)."""
    n = len(is_mx)
    city = home_city
    homes = np.unique(household)
    home_is_mx = is_mx[np.searchsorted(household, homes)]
    rate = np.where(home_is_mx, settings.landline.MX, settings.landline.ES)
    has_line = homes[rng.random(len(homes)) < rate]
    line_city = city[np.searchsorted(household, has_line)]
    mobile, lines = _phone_numbers(rng, lex, is_mx, city, line_city)
    landline = np.zeros(int(household.max()) + 1 if n else 0, dtype=np.int64)
    landline[has_line] = lines
    tokens = _name_tokens(rng, lex, given, surname1, surname2, birth)
    local = _render_patterns(rng, EMAIL_PATTERNS, tokens)
    email = _dedupe(rng, local + "@" + _domains(rng, lex, is_mx))
    email[rng.random(n) >= settings.email] = None
    employed = rng.random(n) < settings.employed
    company, domain = _companies(rng, lex, is_mx, employed)
    work = np.full(n, None, dtype=object)
    emp = np.flatnonzero(employed)
    work_local = _render_patterns(rng, WORK_PATTERNS, {k: v[emp] for k, v in tokens.items()})
    work[emp] = _dedupe(rng, work_local + "@" + domain[emp])
    national = spanish_ids(rng, n, settings.nie)
    mx = np.flatnonzero(is_mx)
    national[mx] = curps(
        rng,
        lex,
        given=given[mx],
        surname1=surname1[mx],
        surname2=surname2[mx],
        birth=birth[mx],
        female=female[mx],
        home_state=lex.cities.state[city[mx]],
    )
    return Contacts(mobile, landline[household], email, work, company, national)

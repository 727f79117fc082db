"""The generator's own name, place and domain lists, loaded from the TSV files in ``data/``.

Nothing here depends on the run seed: the lexicon (including the generated long tail of rare
surnames) is the same for every run, so that a seed fully determines the output.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib import resources

import numpy as np

from omnimdm.synthetic.text import ascii_token, fold_accents, main_word

TAIL_SEED = 20240503
BASQUE_THREE_PART = 1200
# at most this share of people carry a generated (tail) surname; surnames.tsv is rescaled up
# when its frequencies sum to less than 1 - MAX_TAIL
MAX_TAIL = 0.35
PARTICLES = ("de", "del", "la", "las", "los")
COUNTRIES = ("ES", "MX")


def read_tsv(name: str) -> list[dict[str, str]]:
    """Rows of a packaged TSV file (``#`` lines are comments, first other line the header)."""
    text = (resources.files("omnimdm.synthetic") / "data" / name).read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    reader = csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    return [{k: (v or "") for k, v in row.items()} for row in reader]


def _normalise(weights: np.ndarray) -> np.ndarray:
    total = float(weights.sum())
    return weights / total if total > 0 else weights


@dataclass(frozen=True)
class NameTable:
    """A weighted name list: ``p[country]`` are probabilities aligned with ``names``."""

    names: np.ndarray
    p: dict[str, np.ndarray]
    token: np.ndarray  # ascii token for e-mails

    def __len__(self) -> int:
        return len(self.names)


@dataclass(frozen=True)
class GivenNames:
    table: NameTable
    female: np.ndarray
    compound: np.ndarray
    first_token: np.ndarray  # ascii token of the first word ("maria" for "María José")
    nicknames: dict[str, list[list[str]]]  # country -> per name index -> nicknames
    abbreviated: dict[str, list[list[str]]]  # country -> per name -> "Mª José", "J. Luis"
    truncated: list[list[str]]  # per name -> "María" / "José" for compounds
    curp_initial: np.ndarray
    curp_consonant: np.ndarray


@dataclass(frozen=True)
class Surnames:
    table: NameTable
    real: int  # the first ``real`` entries come from surnames.tsv, the rest is generated
    curp_initial: np.ndarray
    curp_vowel: np.ndarray
    curp_consonant: np.ndarray


@dataclass(frozen=True)
class Cities:
    country: np.ndarray
    city: np.ndarray
    state: np.ndarray
    state_code: np.ndarray
    postcode_lo: np.ndarray
    postcode_hi: np.ndarray
    area_code: np.ndarray
    time_zone: np.ndarray
    iana_time_zone: np.ndarray
    weight: np.ndarray
    aliases: list[list[str]]
    colonias: list[list[tuple[str, str]]]  # per city: (colonia, postcode or "")


@dataclass(frozen=True)
class Streets:
    names: dict[str, np.ndarray]
    p: dict[str, np.ndarray]
    types: dict[str, np.ndarray]
    type_p: dict[str, np.ndarray]
    type_abbrevs: dict[str, list[list[str]]]


@dataclass(frozen=True)
class Domains:
    domain: np.ndarray
    p: dict[str, np.ndarray]
    typos: dict[str, list[str]]


@dataclass(frozen=True)
class Lexicon:
    given: GivenNames
    surnames: Surnames
    cities: Cities
    streets: Streets
    domains: Domains
    junk_emails: dict[str, list[str]]
    store_phones: dict[str, list[int]]
    company_words: dict[str, list[str]]


def _curp_parts(word: str) -> tuple[str, str, str]:
    w = fold_accents(word).upper().replace("'", "")
    w = "".join(ch for ch in w if ch.isalpha()) or "X"
    inner = w[1:]
    vowel = next((c for c in inner if c in "AEIOU"), "X")
    consonant = next((c for c in inner if c not in "AEIOU"), "X")
    return w[0], vowel, consonant


def _abbreviations(name: str, country: str) -> list[str]:
    """Written short forms of a compound given name (empty for single names)."""
    if " " not in name:
        return []
    first, rest = name.split(" ", 1)
    if first == "María":
        out = (
            ["Mª " + rest, "M.ª " + rest, "M. " + rest]
            if country == "ES"
            else ["Ma. " + rest, "Ma " + rest, "M. " + rest]
        )
    else:
        out = [f"{first[0]}. {rest}"]
    if rest.split(" ")[0] not in PARTICLES:
        out.append(f"{first} {rest[0]}.")
    return out


def _truncations(name: str) -> list[str]:
    """Compound given name cut to one part: the first word (3 in 5) or the last part."""
    if " " not in name:
        return []
    words = name.split(" ")
    last = " ".join(w for w in words[1:] if w not in PARTICLES) or words[-1]
    return [words[0]] * 3 + [last] * 2


def _load_given() -> GivenNames:
    rows = read_tsv("given_names.tsv")
    names = np.array([r["name"] for r in rows], dtype=object)
    es = np.array([float(r["es"]) for r in rows])
    mx = np.array([float(r["mx"]) for r in rows])
    tokens = np.array([ascii_token(n) for n in names], dtype=object)
    first = np.array([ascii_token(n.split(" ")[0]) for n in names], dtype=object)
    index = {n: i for i, n in enumerate(names)}
    nick: dict[str, list[list[str]]] = {c: [[] for _ in names] for c in COUNTRIES}
    for r in read_tsv("nicknames.tsv"):
        if r["name"] not in index:
            raise ValueError(f"nicknames.tsv: {r['name']!r} is not in given_names.tsv")
        for c in COUNTRIES:
            if r["country"] in ("*", c):
                nick[c][index[r["name"]]].append(r["nickname"])
    # CURP uses the second given name when the first is José or María
    curp_word = [
        n.split(" ")[-1] if n.split(" ")[0] in ("José", "María") and " " in n else n.split(" ")[0]
        for n in names
    ]
    parts = [_curp_parts(w) for w in curp_word]
    return GivenNames(
        table=NameTable(names, {"ES": _normalise(es), "MX": _normalise(mx)}, tokens),
        female=np.array([r["sex"] == "F" for r in rows]),
        compound=np.array([" " in n for n in names]),
        first_token=first,
        nicknames=nick,
        abbreviated={c: [_abbreviations(n, c) for n in names] for c in COUNTRIES},
        truncated=[_truncations(n) for n in names],
        curp_initial=np.array([p[0] for p in parts], dtype=object),
        curp_consonant=np.array([p[2] for p in parts], dtype=object),
    )


def _tail_candidates() -> list[tuple[str, str]]:
    """(surname, style) pairs composed from surname_parts.tsv, in a fixed order."""
    parts: dict[tuple[str, str], list[str]] = {}
    for r in read_tsv("surname_parts.tsv"):
        parts.setdefault((r["style"], r["kind"]), []).append(r["part"])
    out: list[tuple[str, str]] = []
    for style in sorted({s for s, _ in parts}):
        for first, second in (("prefix", "suffix"), ("root", "end")):
            for a in parts.get((style, first), []):
                out.extend((a + b, style) for b in parts.get((style, second), []))
        out.extend((w, style) for w in parts.get((style, "whole"), []))
    roots, ends = parts.get(("basque", "root"), []), parts.get(("basque", "end"), [])
    triples = [a + b.lower() + e for a in roots for b in roots if a != b for e in ends]
    if triples:
        rng = np.random.default_rng(TAIL_SEED)
        pick = rng.choice(len(triples), size=min(BASQUE_THREE_PART, len(triples)), replace=False)
        out.extend((triples[i], "basque") for i in sorted(pick.tolist()))
    return out


def _tail(real: set[str]) -> tuple[list[str], list[str]]:
    seen = {fold_accents(n).lower() for n in real}
    names: list[str] = []
    styles: list[str] = []
    for name, style in _tail_candidates():
        key = fold_accents(name).lower()
        if key not in seen:
            seen.add(key)
            names.append(name)
            styles.append(style)
    order = np.random.default_rng(TAIL_SEED + 1).permutation(len(names))
    return [names[i] for i in order], [styles[i] for i in order]


def _tail_weights(styles: list[str], country: str, mass: float) -> np.ndarray:
    shares = {r["style"]: float(r[country.lower()]) for r in read_tsv("surname_styles.tsv")}
    total_share = sum(shares.values())
    style_arr = np.array(styles, dtype=object)
    weights = np.zeros(len(styles))
    for style, share in shares.items():
        sel = np.flatnonzero(style_arr == style)
        if len(sel) == 0 or share <= 0:
            continue
        # a flat Zipf: the most frequent tail name is about twice as common as the rarest
        zipf = 1.0 / (np.arange(len(sel)) + len(sel))
        weights[sel] = zipf / zipf.sum() * share / total_share
    return weights * mass


def _load_surnames() -> Surnames:
    rows = read_tsv("surnames.tsv")
    real = [r["surname"] for r in rows]
    tail, styles = _tail(set(real))
    names = np.array(real + tail, dtype=object)
    probs: dict[str, np.ndarray] = {}
    for c in COUNTRIES:
        head = np.array([float(r[c.lower()]) for r in rows]) / 1e6
        if head.sum() < 1.0 - MAX_TAIL:
            head = head * (1.0 - MAX_TAIL) / head.sum()
        mass = max(0.0, 1.0 - float(head.sum()))
        probs[c] = _normalise(np.concatenate([head, _tail_weights(styles, c, mass)]))
    parts = [_curp_parts(main_word(n)) for n in names]
    return Surnames(
        table=NameTable(names, probs, np.array([ascii_token(n) for n in names], dtype=object)),
        real=len(real),
        curp_initial=np.array([p[0] for p in parts], dtype=object),
        curp_vowel=np.array([p[1] for p in parts], dtype=object),
        curp_consonant=np.array([p[2] for p in parts], dtype=object),
    )


def _load_cities() -> Cities:
    rows = read_tsv("cities.tsv")
    col: dict[str, list[tuple[str, str]]] = {}
    for r in read_tsv("colonias.tsv"):
        col.setdefault(r["city"], []).append((r["colonia"], r["postcode"]))
    generic = col.get("*", [])

    def arr(key: str) -> np.ndarray:
        return np.array([r[key] for r in rows], dtype=object)

    return Cities(
        country=arr("country"),
        city=arr("city"),
        state=arr("state"),
        state_code=arr("state_code"),
        postcode_lo=np.array([int(r["postcode_lo"]) for r in rows]),
        postcode_hi=np.array([int(r["postcode_hi"]) for r in rows]),
        area_code=arr("area_code"),
        time_zone=arr("time_zone"),
        iana_time_zone=arr("iana_time_zone"),
        weight=np.array([float(r["weight"]) for r in rows]),
        aliases=[[a for a in r["aliases"].split("|") if a] for r in rows],
        colonias=[col.get(r["city"], generic) if r["country"] == "MX" else [] for r in rows],
    )


def _load_streets() -> Streets:
    names: dict[str, np.ndarray] = {}
    p: dict[str, np.ndarray] = {}
    types: dict[str, np.ndarray] = {}
    type_p: dict[str, np.ndarray] = {}
    abbrevs: dict[str, list[list[str]]] = {}
    streets, kinds = read_tsv("streets.tsv"), read_tsv("street_types.tsv")
    for c in COUNTRIES:
        rows = [r for r in streets if r["country"] == c]
        names[c] = np.array([r["name"] for r in rows], dtype=object)
        p[c] = _normalise(np.array([float(r["weight"]) for r in rows]))
        trows = [r for r in kinds if r["country"] == c]
        types[c] = np.array([r["type"] for r in trows], dtype=object)
        type_p[c] = _normalise(np.array([float(r["weight"]) for r in trows]))
        abbrevs[c] = [r["abbreviations"].split("|") for r in trows]
    return Streets(names, p, types, type_p, abbrevs)


def _load_domains() -> Domains:
    rows = read_tsv("email_domains.tsv")
    return Domains(
        domain=np.array([r["domain"] for r in rows], dtype=object),
        p={c: _normalise(np.array([float(r[c.lower()]) for r in rows])) for c in COUNTRIES},
        typos={r["domain"]: r["typos"].split("|") for r in rows if r["typos"]},
    )


def _shared() -> dict[str, dict[str, list[str]]]:
    """kind -> country -> values, from shared_values.tsv."""
    out: dict[str, dict[str, list[str]]] = {}
    for r in read_tsv("shared_values.tsv"):
        per_country = out.setdefault(r["kind"], {c: [] for c in COUNTRIES})
        for c in COUNTRIES:
            if r["country"] in ("*", c):
                per_country[c].append(r["value"])
    return out


@functools.lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """The packaged lexicon (cached; identical for every run)."""
    shared = _shared()
    return Lexicon(
        given=_load_given(),
        surnames=_load_surnames(),
        cities=_load_cities(),
        streets=_load_streets(),
        domains=_load_domains(),
        junk_emails=shared["junk_email"],
        store_phones={c: [int(v) for v in vs] for c, vs in shared["store_phone"].items()},
        company_words=shared["company_word"],
    )

"""National identifiers: Spanish DNI / NIE with the real check letter, Mexican CURP with the
real check digit (RENAPO algorithm), all vectorised."""

from __future__ import annotations

import numpy as np

from omnimdm.synthetic.lexicon import Lexicon

DNI_LETTERS = np.array(list("TRWAGMYFPDXBNJZSQVHLCKE"), dtype=object)
NIE_PREFIXES = np.array(["X", "Y", "Z"], dtype=object)

# RENAPO two-letter codes of the birth state, keyed by the state names in cities.tsv
CURP_STATES = {
    "Ciudad de México": "DF",
    "Jalisco": "JC",
    "Nuevo León": "NL",
    "Puebla": "PL",
    "Querétaro": "QT",
    "Yucatán": "YN",
    "Baja California": "BC",
    "Guanajuato": "GT",
    "México": "MC",
    "Quintana Roo": "QR",
    "Aguascalientes": "AS",
    "San Luis Potosí": "SP",
    "Chihuahua": "CH",
    "Michoacán": "MN",
    "Oaxaca": "OC",
    "Veracruz": "VZ",
    "Sinaloa": "SL",
    "Sonora": "SR",
    "Coahuila": "CL",
    "Guerrero": "GR",
    "Chiapas": "CS",
    "Tabasco": "TC",
    "Durango": "DG",
    "Hidalgo": "HG",
    "Morelos": "MS",
    "Tamaulipas": "TS",
}
# four-letter prefixes RENAPO never issues: the second letter becomes X
CURP_BLOCKED = frozenset(
    (
        "BACA",
        "BAKA",
        "BUEI",
        "BUEY",
        "CACA",
        "CACO",
        "CAGA",
        "CAGO",
        "CAKA",
        "CAKO",
        "COGE",
        "COGI",
        "COJA",
        "COJE",
        "COJI",
        "COJO",
        "COLA",
        "CULO",
        "FALO",
        "FETO",
        "GETA",
        "GUEI",
        "GUEY",
        "JETA",
        "JOTO",
        "KACA",
        "KACO",
        "KAGA",
        "KAGO",
        "KAKA",
        "KAKO",
        "KOGE",
        "KOGI",
        "KOJA",
        "KOJE",
        "KOJI",
        "KOJO",
        "KOLA",
        "KULO",
        "LILO",
        "LOCA",
        "LOCO",
        "LOKA",
        "LOKO",
        "MAME",
        "MAMO",
        "MEAR",
        "MEAS",
        "MEON",
        "MIAR",
        "MION",
        "MOCO",
        "MOKO",
        "MULA",
        "MULO",
        "NACA",
        "NACO",
        "PEDA",
        "PEDO",
        "PENE",
        "PIPI",
        "PITO",
        "POPO",
        "PUTA",
        "PUTO",
        "QULO",
        "RATA",
        "ROBA",
        "ROBE",
        "ROBO",
        "RUIN",
        "SENO",
        "TETA",
        "VACA",
        "VAGA",
        "VAGO",
        "VAKA",
        "VUEI",
        "VUEY",
        "WUEI",
        "WUEY",
    )
)
_CURP_ALPHABET = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ"


def _curp_values() -> np.ndarray:
    table = np.zeros(256, dtype=np.int64)
    for value, ch in enumerate(_CURP_ALPHABET):
        if ord(ch) < 256:
            table[ord(ch)] = value
    return table


_CURP_TABLE = _curp_values()


def dni(number: np.ndarray) -> np.ndarray:
    """``12345678`` -> ``"12345678Z"`` (object array)."""
    letters = DNI_LETTERS[number % 23].tolist()
    out = np.empty(len(number), dtype=object)
    out[:] = [f"{d:08d}{c}" for d, c in zip(number.tolist(), letters, strict=True)]
    return out


def nie(prefix: np.ndarray, number: np.ndarray) -> np.ndarray:
    """NIE from prefix index (0=X, 1=Y, 2=Z) and a 7-digit number: ``"X1234567L"``."""
    letters = DNI_LETTERS[(prefix * 10_000_000 + number) % 23].tolist()
    heads = NIE_PREFIXES[prefix].tolist()
    out = np.empty(len(number), dtype=object)
    out[:] = [f"{h}{d:07d}{c}" for h, d, c in zip(heads, number.tolist(), letters, strict=True)]
    return out


def curp_check_digits(first17: list[str]) -> np.ndarray:
    """The 18th CURP character for each 17-character CURP prefix (ASCII only)."""
    if not first17:
        return np.zeros(0, dtype=object)
    raw = np.frombuffer("".join(first17).encode("ascii"), dtype=np.uint8)
    values = _CURP_TABLE[raw].reshape(len(first17), 17)
    total = values @ np.arange(18, 1, -1)
    return ((10 - total % 10) % 10).astype(str).astype(object)


def spanish_ids(rng: np.random.Generator, n: int, nie_rate: float) -> np.ndarray:
    """DNI for most Spanish residents, NIE for a ``nie_rate`` share."""
    out = dni(rng.integers(1_000_000, 80_000_000, n))
    is_nie = rng.random(n) < nie_rate
    k = int(is_nie.sum())
    if k:
        out[is_nie] = nie(rng.integers(0, 3, k), rng.integers(0, 10_000_000, k))
    return out


def curps(
    rng: np.random.Generator,
    lex: Lexicon,
    *,
    given: np.ndarray,
    surname1: np.ndarray,
    surname2: np.ndarray,
    birth: np.ndarray,
    female: np.ndarray,
    home_state: np.ndarray,
) -> np.ndarray:
    """CURP for each person (arrays aligned; ``home_state`` holds state names)."""
    n = len(given)
    sn, gv = lex.surnames, lex.given
    head = (
        sn.curp_initial[surname1]
        + sn.curp_vowel[surname1]
        + sn.curp_initial[surname2]
        + gv.curp_initial[given]
    )
    head = np.array([h[0] + "X" + h[2:] if h in CURP_BLOCKED else h for h in head], dtype=object)
    iso = np.datetime_as_string(birth, unit="D").astype(object)
    states = np.array([CURP_STATES.get(s, "NE") for s in home_state], dtype=object)
    elsewhere = rng.random(n) < 0.25
    all_states = np.array(sorted(set(CURP_STATES.values())), dtype=object)
    states[elsewhere] = all_states[rng.integers(0, len(all_states), int(elsewhere.sum()))]
    born_2000 = birth >= np.datetime64("2000-01-01")
    diff = np.where(born_2000, "A", "0").astype(object)
    tail = sn.curp_consonant[surname1] + sn.curp_consonant[surname2] + gv.curp_consonant[given]
    sex = np.where(female, "M", "H").astype(object)
    first17 = [
        f"{h}{d[2:4]}{d[5:7]}{d[8:10]}{s}{st}{t}{df}"
        for h, d, s, st, t, df in zip(head, iso, sex, states, tail, diff, strict=True)
    ]
    return np.array(first17, dtype=object) + curp_check_digits(first17)

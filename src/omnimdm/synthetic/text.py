"""String-level helpers: accent folding, ASCII tokens for e-mails, keyboard typos.

These work on one string at a time; ``noise.py`` applies them to arrays of records.
"""

from __future__ import annotations

import random

_ACCENTED = "áéíóúàèìòùäëïöüâêîôûñçÁÉÍÓÚÀÈÌÒÙÄËÏÖÜÂÊÎÔÛÑÇ"
_PLAIN = "aeiouaeiouaeiouaeiouncAEIOUAEIOUAEIOUAEIOUNC"
ACCENT_TABLE = str.maketrans(_ACCENTED, _PLAIN)
_TOKEN_TABLE = str.maketrans(_ACCENTED, _PLAIN, " '-.·")

_KEY_ROWS = ("1234567890", "qwertyuiop", "asdfghjklñ", "zxcvbnm,.-")


def _neighbours() -> dict[str, str]:
    grid = {ch: (r, c) for r, row in enumerate(_KEY_ROWS) for c, ch in enumerate(row)}
    result: dict[str, str] = {}
    for ch, (r, c) in grid.items():
        near = []
        for dr, dc in ((0, -1), (0, 1), (-1, 0), (1, 0), (-1, 1), (1, -1)):
            rr, cc = r + dr, c + dc
            if 0 <= rr < len(_KEY_ROWS) and 0 <= cc < len(_KEY_ROWS[rr]):
                near.append(_KEY_ROWS[rr][cc])
        result[ch] = "".join(n for n in near if n.isalnum()) or ch
    return result


KEY_NEIGHBOURS = _neighbours()


def fold_accents(text: str) -> str:
    """``"Muñoz Ibáñez"`` -> ``"Munoz Ibanez"``."""
    return text.translate(ACCENT_TABLE)


def ascii_token(text: str) -> str:
    """Lower-case ASCII without spaces or punctuation, for e-mail local parts."""
    return text.translate(_TOKEN_TABLE).lower()


def _adjacent(ch: str, rnd: random.Random) -> str:
    lower = ch.lower()
    near = KEY_NEIGHBOURS.get(lower)
    if not near:
        return ch
    out = near[int(rnd.random() * len(near))]
    return out.upper() if ch.isupper() else out


def typo(text: str, rnd: random.Random) -> str:
    """One keyboard typo: adjacent-key substitution, deletion, transposition or insertion.

    Spaces and the first character are left alone (people rarely miss the first letter), and
    strings shorter than 3 characters are returned unchanged.
    """
    if len(text) < 3:
        return text
    pos = 1 + int(rnd.random() * (len(text) - 1))
    ch = text[pos]
    if not ch.isalnum():
        return text
    kind = rnd.random()
    if kind < 0.4:
        return text[:pos] + _adjacent(ch, rnd) + text[pos + 1 :]
    if kind < 0.65:
        return text[:pos] + text[pos + 1 :]
    if kind < 0.85 and pos + 1 < len(text) and text[pos + 1].isalnum():
        return text[:pos] + text[pos + 1] + ch + text[pos + 2 :]
    extra = ch if rnd.random() < 0.5 else _adjacent(ch, rnd)
    return text[:pos] + extra + text[pos:]


def digit_typo(text: str, rnd: random.Random) -> str:
    """One typo among the digits of ``text``: a changed digit or two swapped digits."""
    positions = [i for i, ch in enumerate(text) if ch.isdigit()]
    if len(positions) < 2:
        return text
    k = int(rnd.random() * (len(positions) - 1))
    i, j = positions[k], positions[k + 1]
    chars = list(text)
    if rnd.random() < 0.5 or chars[i] == chars[j]:
        chars[i] = str((int(chars[i]) + 1 + int(rnd.random() * 9)) % 10)
    else:
        chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


def main_word(surname: str) -> str:
    """The word that carries a surname for initials: ``"de la Cruz"`` -> ``"Cruz"``."""
    words = [w for w in surname.split(" ") if w.lower() not in ("de", "del", "la", "las", "los")]
    return words[0] if words else surname

"""A phonetic key for Spanish names (seseo/yeísmo aware), idempotent on its own output.

Rules per token of the folded text (``basic_fold``: lower-case, no accents, ``ñ`` -> ``n``):

* ``b``/``v``/``w`` -> ``b``;  ``nb``/``nv`` -> ``mb``
* ``ll``/``y`` -> ``y``; a ``y`` not followed by a vowel is the vowel ``i`` (``Ybarra`` =
  ``Ibarra``, ``Garay`` = ``Garai``)
* ``z``, ``s``, ``c`` before ``e``/``i`` -> ``s`` (seseo)
* ``qu``, ``k``, ``c`` elsewhere -> ``k``;  ``ch`` stays ``ch``
* ``g`` before ``e``/``i`` and ``j`` -> ``j``;  ``gu`` before ``e``/``i`` and other ``g`` ->
  hard g (written ``gu`` before ``e``/``i``, ``g`` elsewhere, so the output re-encodes to
  itself)
* ``h`` is silent (except in ``ch``);  word-initial ``x`` -> ``j`` (``Ximena`` = ``Jimena``,
  ``Xavier`` = ``Javier``), other ``x`` -> ``ks``
* doubled letters collapse (``rr`` -> ``r``); non-letters are dropped.

The x -> j rule for Mexican place names inside words (``México`` = ``Méjico``) is not
applied: inside a word ``x`` is usually /ks/ in names (``Alexis``, ``Maximino``).
"""

from __future__ import annotations

from functools import lru_cache

from omnimdm.normalize.name_parsing import basic_fold
from omnimdm.normalize.text_repair import repair_text

_VOWELS = frozenset("aeiou")
_FRONT = frozenset("ei")
_SIMPLE = {"b": "b", "v": "b", "w": "b", "z": "s", "s": "s", "k": "k", "j": "j", "y": "y"}


def _symbols(t: str) -> list[str]:
    """Map one folded token to phoneme symbols (``G`` hard g, ``C`` ch)."""
    out: list[str] = []
    i, n = 0, len(t)
    while i < n:
        c = t[i]
        nx = t[i + 1] if i + 1 < n else ""
        step = 1
        if c in _VOWELS:
            out.append(c)
        elif c in _SIMPLE:
            out.append(_SIMPLE[c])
        elif c == "c":
            if nx == "h":
                out.append("C")
                step = 2
            else:
                out.append("s" if nx in _FRONT else "k")
        elif c == "q":
            out.append("k")
            step = 2 if nx == "u" else 1
        elif c == "g":
            if nx == "u" and i + 2 < n and t[i + 2] in _FRONT:
                out.append("G")
                step = 2
            else:
                out.append("j" if nx in _FRONT else "G")
        elif c == "l" and nx == "l":
            out.append("y")
            step = 2
        elif c == "x":
            out.extend(("j",) if i == 0 else ("k", "s"))
        elif c != "h":
            out.append(c)
        i += step
    return out


def _collapse(sym: list[str]) -> list[str]:
    """Collapse runs of the same symbol."""
    return [s for i, s in enumerate(sym) if i == 0 or s != sym[i - 1]]


def _render(sym: list[str]) -> str:
    """Symbols back to letters: ``C`` -> ``ch``; hard g -> ``gu`` before e/i, else ``g``."""
    parts: list[str] = []
    for i, s in enumerate(sym):
        nxt = sym[i + 1] if i + 1 < len(sym) else ""
        if s == "C":
            parts.append("ch")
        elif s == "G":
            parts.append("gu" if nxt in _FRONT else "g")
        else:
            parts.append(s)
    return "".join(parts)


@lru_cache(maxsize=65536)
def _encode_token(t: str) -> str:
    """Phonetic key of one folded token."""
    sym = _collapse(_symbols(t))
    for i, s in enumerate(sym):
        nxt = sym[i + 1] if i + 1 < len(sym) else ""
        if s == "y" and nxt not in _VOWELS:
            sym[i] = "i"
        elif s == "n" and nxt == "b":
            sym[i] = "m"
    return _render(_collapse(sym))


def spanish_phonetic(s: str | None) -> str | None:
    """Spanish phonetic key of a name: per-token keys joined by single spaces, or ``None``.

    Pure and total; ``spanish_phonetic(spanish_phonetic(x)) == spanish_phonetic(x)``.  It
    does not expand abbreviations: pass ``fold_name`` output to get ``Mª`` -> ``maria``.
    """
    t = repair_text(s)
    if t is None:
        return None
    keys = [_encode_token(tok) for tok in basic_fold(t).split(" ") if tok]
    return " ".join(k for k in keys if k) or None

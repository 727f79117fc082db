"""Record identifiers in each vendor's real shape.

* Salesforce: 18-character case-safe id, key prefix ``003`` (Contact), a 2-character pod, a
  reserved ``0``, a 9-character base-62 sequence and the 3-character checksum suffix.
* Shopify: 13-digit customer id, increasing with creation time.
* Zendesk: 13-digit user id, increasing with creation time.
* Square: 26-character upper-case alphanumeric customer id (random).
* Loyalty cards: EAN-13 in-store numbers (prefix 29) with their check digit.

Callers pass rows sorted by creation time so that sequential ids grow like the vendor's.
"""

from __future__ import annotations

import numpy as np

BASE62 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", np.uint8)
CHECKSUM = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", np.uint8)
SQUARE = np.frombuffer(b"0123456789ABCDEFGHJKMNPQRSTVWXYZ", np.uint8)
SALESFORCE_PODS = ("5g", "8d", "Hn", "1U", "4W", "Dn", "J0", "7Q")


def _decode(chars: np.ndarray, width: int) -> np.ndarray:
    """(n, width) uint8 matrix of ASCII codes -> object array of str."""
    flat = np.ascontiguousarray(chars, dtype=np.uint8).view(f"S{width}").ravel()
    return flat.astype(f"U{width}").astype(object)


def _increasing(rng: np.random.Generator, n: int, start: int, mean_gap: float) -> np.ndarray:
    gaps = 1 + rng.geometric(1.0 / mean_gap, n).astype(np.int64)
    return start + np.cumsum(gaps)


def salesforce_checksum(ids15: np.ndarray) -> np.ndarray:
    """The 3-character case-safe suffix for a (n, 15) uint8 matrix of 15-character ids."""
    upper = (ids15 >= ord("A")) & (ids15 <= ord("Z"))
    bits = upper.reshape(len(ids15), 3, 5) * (1 << np.arange(5))
    return CHECKSUM[bits.sum(axis=2)]


def salesforce_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct, increasing 18-character Contact ids (``0035g00000AbCdEFGH``-like)."""
    pod = SALESFORCE_PODS[int(rng.integers(0, len(SALESFORCE_PODS)))].encode()
    seq = _increasing(rng, n, int(rng.integers(62**5, 62**6)), 12.0)
    chars = np.empty((n, 18), dtype=np.uint8)
    chars[:, 0:3] = np.frombuffer(b"003", np.uint8)
    chars[:, 3:5] = np.frombuffer(pod, np.uint8)
    chars[:, 5] = ord("0")
    for pos in range(14, 5, -1):
        chars[:, pos] = BASE62[seq % 62]
        seq = seq // 62
    chars[:, 15:18] = salesforce_checksum(chars[:, :15])
    return _decode(chars, 18)


def shopify_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` increasing 13-digit Shopify customer ids (int64)."""
    return _increasing(rng, n, int(rng.integers(5_800_000_000_000, 6_200_000_000_000)), 2500.0)


def zendesk_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` increasing 13-digit Zendesk user ids (int64)."""
    return _increasing(rng, n, int(rng.integers(1_500_000_000_000, 1_900_000_000_000)), 900.0)


def square_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct 26-character Square customer ids."""
    chars = SQUARE[rng.integers(0, len(SQUARE), (n, 26))]
    return _decode(chars, 26)


def loyalty_cards(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` EAN-13 in-store loyalty card numbers (``29`` + 10 digits + check digit)."""
    body = np.empty((n, 12), dtype=np.int64)
    body[:, 0:2] = (2, 9)
    body[:, 2:] = rng.integers(0, 10, (n, 10))
    weights = np.tile((1, 3), 6)
    check = (10 - (body @ weights) % 10) % 10
    digits = np.concatenate([body, check[:, None]], axis=1).astype(np.uint8) + ord("0")
    return _decode(digits, 13)

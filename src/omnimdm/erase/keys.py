"""The erasure key: a secret kept outside the DuckDB file that keys the tombstones' HMACs.

A tombstone stores ``HMAC-SHA256(key, kind || 0x1f || value)`` and nothing else about the
identifier. E-mails and phone numbers are few enough to guess by brute force, so a plain
hash in the store would give them away to anyone holding a copy of the file; with the key
kept elsewhere the tombstones are useless on their own.

The key file holds 64 hex digits (32 random bytes). It is created with mode 0600 the first
time an erasure needs it, at ``store.erasure_key_file`` or ``$OMNIMDM_ERASURE_KEY_FILE``
(the environment wins), by default beside the store as ``<store>.erasure.key``. Each
tombstone records the key's id (an HMAC of a fixed text), so a replaced key is detected
instead of silently suppressing nothing.

The HMAC is computed in DuckDB SQL as well (:func:`hmac_sql`): the key padded to SHA-256's
64-byte block and xor-ed with the inner and outer pads is passed as two BLOB parameters,
and ``sha256(opad || unhex(sha256(ipad || message)))`` is RFC 2104 verbatim.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from omnimdm.config import Config
from omnimdm.errors import ErasureError

KEY_ENV = "OMNIMDM_ERASURE_KEY_FILE"
#: separates the kind from the value (and a source from its record id) in HMAC messages
SEP = "\x1f"
_BLOCK = 64
_KEY_ID_TEXT = b"omnimdm erasure key id v1"


def key_path(config: Config) -> Path:
    """Where the erasure key lives: env, then config, then beside the store."""
    env = os.environ.get(KEY_ENV)
    if env:
        return Path(env)
    if config.store.erasure_key_file is not None:
        return config.store.erasure_key_file
    store = config.store.path
    return store.with_name(store.name + ".erasure.key")


@dataclass(frozen=True)
class ErasureKey:
    path: Path
    secret: bytes

    @property
    def key_id(self) -> str:
        """A short public id of the key (never the key): recorded with every tombstone."""
        return hmac.new(self.secret, _KEY_ID_TEXT, hashlib.sha256).hexdigest()[:16]

    def digest(self, kind: str, value: str) -> str:
        """The tombstone HMAC of one identifier (hex)."""
        message = f"{kind}{SEP}{value}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def sql_params(self) -> dict[str, object]:
        """The parameters :func:`hmac_sql` expects (``$hk_i``, ``$hk_o``)."""
        padded = self.secret.ljust(_BLOCK, b"\0")
        return {
            "hk_i": bytes(b ^ 0x36 for b in padded),
            "hk_o": bytes(b ^ 0x5C for b in padded),
        }


def hmac_sql(kind_expr: str, value_expr: str) -> str:
    """SQL for the hex HMAC of ``kind || 0x1f || value`` (the same as :meth:`digest`);
    needs :meth:`ErasureKey.sql_params`."""
    message = f"encode({kind_expr} || chr(31) || {value_expr})"
    return f"sha256($hk_o || unhex(sha256($hk_i || {message})))"


def load_key(path: Path) -> ErasureKey | None:
    """The key in ``path``, None if there is no such file; a damaged file raises."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise ErasureError(f"the erasure key file {path} cannot be read: {err}") from None
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        secret = b""
    if len(secret) != 32:
        raise ErasureError(
            f"the erasure key file {path} is damaged (expected 64 hex digits); restore it "
            "from its backup"
        )
    return ErasureKey(path, secret)


def create_key(path: Path) -> ErasureKey:
    """Write a new random key to ``path`` (mode 0600; refuses to overwrite a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ErasureError(f"the erasure key file {path} appeared meanwhile; retry") from None
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secret.hex() + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return ErasureKey(path, secret)

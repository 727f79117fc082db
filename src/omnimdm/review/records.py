"""Records as stewards name them (``SOURCE:SOURCE_RECORD_ID``) and their content hash.

Source names match ``^[a-z][a-z0-9_]{0,39}$`` and never contain ``:``, so a key splits on
its first ``:``; the source record id may itself contain ``:``.

The **content hash** of a record covers its identity fields as exported (names, e-mail,
phones, birth date, address, national id, loyalty number), compared trimmed, lower-cased
and without accents. A decision keeps the hash of each side as the steward saw it; when a
later export changes one of those fields the decision is flagged for re-review. Updates to
other fields (spend, consent, timestamps) do not flag it, nor do changes in omnimdm's own
normalizers, because the hash is taken over the input fields, not the canonical ones.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from omnimdm.config import NAME_RE
from omnimdm.errors import ReviewError, StoreError
from omnimdm.store import Store, record_id

#: input fields (``src_records`` columns) whose change flags a decision for re-review
IDENTITY_FIELDS = (
    "given_name",
    "surname",
    "surname1",
    "surname2",
    "full_name",
    "nickname",
    "email",
    "phone",
    "mobile",
    "birth_date",
    "street",
    "street2",
    "postcode",
    "city",
    "national_id",
    "loyalty_id",
)


def content_hash_sql(alias: str = "") -> str:
    """SQL for the content hash of a ``src_records`` row (``alias.`` prefix optional)."""
    prefix = f"{alias}." if alias else ""
    parts = ", ".join(
        f"coalesce(lower(strip_accents(trim({prefix}{f}))), '')" for f in IDENTITY_FIELDS
    )
    return f"substr(md5(concat_ws(chr(31), {parts})), 1, 16)"


@dataclass(frozen=True, order=True)
class RecordKey:
    """A record as users name it: ``SOURCE:SOURCE_RECORD_ID``."""

    source: str
    source_record_id: str

    @classmethod
    def parse(cls, text: str) -> RecordKey:
        source, sep, sid = text.strip().partition(":")
        if not sep or not sid:
            raise ReviewError(
                f"{text!r} is not a record key; write SOURCE:SOURCE_RECORD_ID, e.g. crm:0035g00"
            )
        if not NAME_RE.match(source):
            raise ReviewError(
                f"{text!r}: {source!r} is not a source name (lower-case letters, digits, '_')"
            )
        return cls(source, sid)

    @property
    def record_id(self) -> int:
        return record_id(self.source, self.source_record_id)

    def __str__(self) -> str:
        return f"{self.source}:{self.source_record_id}"


def ordered(a: RecordKey, b: RecordKey) -> tuple[RecordKey, RecordKey]:
    """A pair in its stored order (smaller key first): decisions are keyed this way."""
    return (a, b) if a <= b else (b, a)


def current_hashes(
    con: duckdb.DuckDBPyConnection, keys: Iterable[RecordKey], records: str = "src_records"
) -> dict[RecordKey, str]:
    """Content hash of every given record that is active (not retired) in ``records``."""
    wanted = sorted(set(keys))
    if not wanted or records not in _tables(con):
        return {}
    con.register(
        "rv_keys",
        pa.table(
            {
                "source": [k.source for k in wanted],
                "source_record_id": [k.source_record_id for k in wanted],
            }
        ),
    )
    try:
        rows = con.sql(
            f"SELECT r.source, r.source_record_id, {content_hash_sql('r')} FROM {records} r "
            "SEMI JOIN rv_keys k ON k.source = r.source "
            "AND k.source_record_id = r.source_record_id WHERE r.retired_run IS NULL"
        ).fetchall()
    finally:
        con.unregister("rv_keys")
    return {RecordKey(s, i): h for s, i, h in rows}


def require_records(
    con: duckdb.DuckDBPyConnection, keys: Iterable[RecordKey]
) -> dict[RecordKey, str]:
    """Hashes of the given records; :class:`ReviewError` naming any that are unknown."""
    keys = list(keys)
    found = current_hashes(con, keys)
    missing = [str(k) for k in keys if k not in found]
    if missing:
        raise ReviewError(
            f"unknown record(s) {', '.join(sorted(set(missing)))}: not among the active "
            "records of the last published run (check the source name and id; ids are "
            "case-sensitive)"
        )
    return found


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        r[0]
        for r in con.sql(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()
    }


@contextlib.contextmanager
def published(store: Store, command: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """One short steward session (writer lock held) on a store with a published run; fails
    at once with :class:`~omnimdm.errors.LockError` while another process writes."""
    if not store.path.exists():
        raise StoreError(f"no store at {store.path}; run `omnimdm run` first")
    with store.writer(command) as con:
        if "clusters" not in _tables(con):
            raise StoreError(f"{store.path} has no published run yet; run `omnimdm run` first")
        yield con

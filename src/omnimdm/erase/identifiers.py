"""The identifiers an erasure is keyed on, normalized exactly as the normalize stage does.

Three kinds: ``record`` (``source || 0x1f || source_record_id``), ``email`` (the canonical
form: lower case, Gmail dots and ``+tags`` folded, domain typos fixed) and ``phone``
(E.164, read in the record's region). A request names raw values
(``Maria.Garcia+x@GMAIL.com``, ``612 345 678``); rows are matched on the normalized
forms, with the same set-based SQL paths and Python rules as ``norm_customers``, so a
request finds every spelling of the value the pipeline would have merged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator, Sequence
from typing import Any

import duckdb

from omnimdm.config import Config
from omnimdm.erase.keys import SEP
from omnimdm.errors import ErasureError
from omnimdm.normalize.canonical import build_base, build_phone_fallback
from omnimdm.normalize.email_rules import normalize_email
from omnimdm.normalize.email_sql import build_email_lookup
from omnimdm.normalize.phone_rules import parse_phone
from omnimdm.normalize.phone_sql import build_phone_lookup

KINDS = ("record", "email", "phone")
#: a text token that may be a phone number (digits with the usual separators)
_PHONE_LIKE = re.compile(r"[\s0-9+()./'-]{6,25}")
#: field separators of a raw CSV line kept in ``rejects`` (the delimiter is not stored)
_FIELD_SPLIT = re.compile(r"[,;\t|]")


def record_value(source: str, source_record_id: str) -> str:
    """The ``record`` identifier of ``SOURCE:SOURCE_RECORD_ID``."""
    return f"{source}{SEP}{source_record_id}"


def request_email(raw: str) -> str:
    """The canonical form of a requested e-mail; an unusable one is refused."""
    result = normalize_email(raw)
    if result.normalized is None:
        what = "a placeholder" if result.reason == "placeholder" else "not a usable address"
        raise ErasureError(
            f"the e-mail given is {what} ({result.reason}); the pipeline never matches on it, "
            "so forget the records by --source/--id or --golden-id instead"
        )
    return result.normalized


def request_phone(raw: str, regions: Sequence[str]) -> str:
    """The E.164 form of a requested phone number, read in the sources' default regions;
    a national number that reads differently in them must carry its country code."""
    results = {parse_phone(raw, None, region) for region in sorted(set(regions)) or ["ES"]}
    numbers = {r.e164 for r in results if r.e164 is not None}
    if not numbers:
        reason = next(iter(results)).reason
        raise ErasureError(
            f"the phone number given is not usable ({reason}); give it as the sources hold "
            "it or in international form (+34...)"
        )
    if len(numbers) > 1:
        raise ErasureError(
            "the phone number given reads as a different number in the regions of the "
            f"configured sources ({', '.join(sorted(set(regions)))}); give it in "
            "international form (+CC...)"
        )
    return numbers.pop()


def row_identifiers(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    records: str,
    out: str,
    kinds: Collection[str] = KINDS,
) -> None:
    """Temp table ``out`` (row_key, kind, value): the identifiers of ``kinds`` of every
    active row of ``records`` (``src_records`` columns; ``record_id`` is the row key).
    Record keys need no normalization; e-mails and phones are normalized only if asked."""
    parts = []
    if "record" in kinds:
        parts.append(
            "SELECT record_id AS row_key, 'record' AS kind, "
            "source || chr(31) || source_record_id AS value "
            f"FROM {records} WHERE source_record_id IS NOT NULL AND retired_run IS NULL"
        )
    if "email" in kinds or "phone" in kinds:
        build_base(con, config, records, "er_base")
    if "email" in kinds:
        build_email_lookup(con, "SELECT email FROM er_base", "er_email")
        parts.append(
            "SELECT b.record_id AS row_key, 'email' AS kind, e.email_norm AS value FROM er_base b "
            "JOIN er_email e ON e.email = b.email WHERE e.email_norm IS NOT NULL"
        )
    if "phone" in kinds:
        build_phone_lookup(
            con,
            "SELECT mobile AS raw, region_key AS region FROM er_base "
            "UNION ALL SELECT phone, region_key FROM er_base",
            "er_phone",
        )
        # a record without a country reads a number invalid at home in one fallback
        # region, exactly as the normalize stage does (canonical.build_phone_fallback)
        build_phone_fallback(con, config, base="er_base", lookup="er_phone", out="er_phone_fb")
        parts.extend(
            f"SELECT b.record_id AS row_key, 'phone' AS kind, coalesce(f.e164, p.e164) AS value "
            f"FROM er_base b JOIN er_phone p ON p.raw = b.{column} AND p.region = b.region_key "
            f"LEFT JOIN er_phone_fb f ON b.country IS NULL AND f.raw = b.{column} "
            "AND f.region = b.region_key WHERE coalesce(f.e164, p.e164) IS NOT NULL"
            for column in ("mobile", "phone")
        )
    empty = "SELECT NULL::BIGINT AS row_key, NULL::VARCHAR AS kind, NULL::VARCHAR AS value "
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {out} AS "
        + " UNION ALL ".join(parts or [empty + "WHERE false"])
    )
    for table in ("er_base", "er_phone", "er_phone_fb", "er_email"):
        con.execute(f"DROP TABLE IF EXISTS {table}")


def _scalars(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _scalars(v)
    elif isinstance(value, list):
        for v in value:
            yield from _scalars(v)
    elif value is not None and not isinstance(value, bool):
        yield str(value)


def _tokens(text: str) -> set[str]:
    """The field values of a raw rejected row: a JSON document's scalars, else the parts
    of a CSV line between separators (quotes, spaces and Excel's apostrophe stripped)."""
    try:
        parts: list[str] = list(_scalars(json.loads(text)))
    except (ValueError, RecursionError):
        parts = _FIELD_SPLIT.split(text)
    tokens = set()
    for part in parts:
        token = part.strip().strip("\"'").strip()
        if token:
            tokens.add(token)
    return tokens


def text_identifiers(text: str, source: str, region: str) -> set[tuple[str, str]]:
    """The identifiers in a rejected row's raw text: any field as a record id of ``source``,
    fields with an ``@`` as e-mails, phone-like fields as numbers of ``region``. Rejected
    rows are not mapped to fields, so this errs on the side of matching."""
    found: set[tuple[str, str]] = set()
    for token in _tokens(text):
        found.add(("record", record_value(source, token)))
        if "@" in token:
            email = normalize_email(token).normalized
            if email is not None:
                found.add(("email", email))
        elif _PHONE_LIKE.fullmatch(token):
            e164 = parse_phone(token, None, region).e164
            if e164 is not None:
                found.add(("phone", e164))
    return found

"""The four vendor exports, column by column: Salesforce Contacts (CRM), Shopify customers
(e-commerce), Square customers (POS) and Zendesk users (call center).

Each builder returns a :class:`VendorTable`: ordered columns exactly as the vendor names them
(object arrays, ``None`` = empty) plus the source record id of every row as the source
identifies it (Shopify id without its apostrophe, Zendesk id as a decimal string).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from omnimdm.synthetic import vendor_ids
from omnimdm.synthetic.address_fields import address_fields
from omnimdm.synthetic.contact_fields import (
    emails,
    format_phones,
    primary_phones,
    secondary_phones,
)
from omnimdm.synthetic.dates import birth_dates, day_strings, dmy_dates, iso_dates, timestamps
from omnimdm.synthetic.names import full_names, nicknames, split_names
from omnimdm.synthetic.noise import RecordContext, apply_where, blank, choose, map_unique, present
from omnimdm.synthetic.sampling import SourceRows
from omnimdm.synthetic.text import digit_typo

COUNTRY_NAMES = {"ES": ("España", "Spain", "ES"), "MX": ("México", "Mexico", "MX")}
COUNTRY_NAME_WEIGHTS = (60, 28, 12)
SHOPIFY_TAGS = (
    "newsletter",
    "vip",
    "b2b",
    "mayorista",
    "devolución",
    "primera compra",
    "black friday",
    "app",
)
SHOPIFY_NOTES = (
    "Cliente pide factura",
    "Entregar por la tarde",
    "No llamar antes de las 10",
    "Cliente VIP",
    "Dirección de trabajo",
    "Regalo, no incluir precio",
)
SQUARE_MEMOS = (
    "Cliente habitual",
    "Prefiere WhatsApp",
    "Tarjeta regalo pendiente",
    "Pide factura",
    "Viene los sábados",
    "Vecina del barrio",
)
SQUARE_SOURCES = (
    "Point of Sale",
    "Instant Profile",
    "Loyalty",
    "Directory",
    "Import",
    "Third Party",
)
SQUARE_SOURCE_WEIGHTS = (55, 15, 12, 10, 5, 3)
ZENDESK_TAGS = ("reclamacion", "devolucion", "envio", "factura", "vip", "garantia", "cambio")
ZENDESK_URL = "https://omnitienda.zendesk.com/api/v2/users/{}.json"


Column = np.ndarray | list[list[str]]


@dataclass(frozen=True)
class VendorTable:
    source: str
    columns: dict[str, Column]  # header -> values (object arrays; lists for JSON arrays)
    record_ids: np.ndarray  # str per row, as the source identifies the record

    def __len__(self) -> int:
        return len(self.record_ids)


def _as_str(values: np.ndarray) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = [str(v) for v in values.tolist()]
    return out


def _excel_guard(values: np.ndarray) -> np.ndarray:
    """Shopify's apostrophe prefix on numeric-looking values (``'08001``, ``'+34612...``)."""
    out = np.empty(len(values), dtype=object)
    out[:] = [("'" + v) if v and v.lstrip("+").isdigit() else v for v in values.tolist()]
    return out


def _unique_per_source(values: np.ndarray, exempt: np.ndarray | None = None) -> np.ndarray:
    """Vendors that enforce unique e-mail/phone: later repeats become empty."""
    key = pd.Series(map_unique(values, str.lower), dtype=object)
    repeat = key.duplicated().to_numpy() & present(values)
    if exempt is not None:
        repeat &= ~exempt
    return blank(values, repeat)


def _flag(ctx: RecordContext, rate: float, yes: str, no: str) -> np.ndarray:
    return np.where(ctx.draw(rate), yes, no).astype(object)


def _spend(ctx: RecordContext, mean_orders: float) -> tuple[np.ndarray, np.ndarray]:
    """Order count and total amount (EUR for Spain, MXN for Mexico)."""
    orders = ctx.rng.poisson(ctx.rng.gamma(1.2, mean_orders / 1.2, ctx.n))
    ticket = np.where(ctx.is_mx, 650.0, 42.0) * ctx.rng.lognormal(0.0, 0.6, ctx.n)
    return orders, np.round(orders * ticket, 2)


def _sometimes(ctx: RecordContext, rate: float, options: tuple[str, ...]) -> np.ndarray:
    out = np.full(ctx.n, None, dtype=object)
    rows = ctx.draw(rate)
    out[rows] = np.array(options, dtype=object)[ctx.rng.integers(0, len(options), rows.sum())]
    return out


def _national_ids(ctx: RecordContext) -> np.ndarray:
    nid = ctx.noise.national_id
    out = ctx.pop.contacts.national_id[ctx.pid].copy()
    apply_where(out, ctx.draw(nid.formatted), _format_id)
    apply_where(out, ctx.draw(nid.typo), lambda v: _id_typo(v, ctx))
    return blank(out, ~ctx.draw(nid.present))


def _id_typo(value: str, ctx: RecordContext) -> str:
    """A wrong digit in a DNI/NIE, a wrong last character in a CURP."""
    if value[:1].isdigit():
        return digit_typo(value, ctx.rnd)
    return value[:-1] + ("X" if value[-1] != "X" else "Y")


def _format_id(value: str) -> str:
    if len(value) == 9 and value[:8].isdigit():  # DNI: 12.345.678-Z
        return f"{value[:2]}.{value[2:5]}.{value[5:8]}-{value[8]}"
    if len(value) == 9:  # NIE: X-1234567-L
        return f"{value[0]}-{value[1:8]}-{value[8]}"
    return value.lower()  # CURP typed in lower case


def _country_names(ctx: RecordContext, codes: np.ndarray) -> np.ndarray:
    which = choose(ctx.rng, ctx.n, COUNTRY_NAME_WEIGHTS)
    es = np.array(COUNTRY_NAMES["ES"], dtype=object)[which]
    mx = np.array(COUNTRY_NAMES["MX"], dtype=object)[which]
    out = np.where(ctx.is_mx, mx, es)
    out[~present(codes)] = None
    return out


def salesforce(ctx: RecordContext, rows: SourceRows) -> VendorTable:
    """Salesforce Contact export (API-name headers)."""
    ids = vendor_ids.salesforce_ids(ctx.rng, ctx.n)
    first, last = split_names(ctx)
    adr = address_fields(ctx, two_lines=False)
    cols: dict[str, Column] = {
        "Id": ids,
        "FirstName": first,
        "LastName": last,
        "Email": emails(ctx, junk=False),
        "Phone": format_phones(ctx, secondary_phones(ctx)),
        "MobilePhone": format_phones(ctx, primary_phones(ctx)),
        "Birthdate": iso_dates(birth_dates(ctx)),
        "MailingStreet": adr.line1,
        "MailingCity": adr.city,
        "MailingState": adr.state,
        "MailingPostalCode": adr.postcode,
        "MailingCountry": _country_names(ctx, adr.country),
        "DNI__c": _national_ids(ctx),
        "HasOptedOutOfEmail": _flag(ctx, 0.18, "true", "false"),
        "CreatedDate": timestamps(rows.created, millis=True),
        "LastModifiedDate": timestamps(rows.updated, millis=True),
    }
    return VendorTable("crm", cols, ids)


def shopify(ctx: RecordContext, rows: SourceRows) -> VendorTable:
    """Shopify customer export (current headers, Excel apostrophes)."""
    ids = _as_str(vendor_ids.shopify_ids(ctx.rng, ctx.n))
    first, last = split_names(ctx)
    email = emails(ctx)
    junk = np.isin(email, np.array(sum(ctx.lex.junk_emails.values(), []), dtype=object))
    email = _unique_per_source(email, exempt=junk)
    adr = address_fields(ctx, two_lines=True)
    has_adr = present(adr.country)
    mobile = _unique_per_source(format_phones(ctx, primary_phones(ctx), style="e164"))
    company = blank(ctx.pop.contacts.company[ctx.pid], ~(ctx.draw(0.1) & has_adr))
    orders, spent = _spend(ctx, 2.5)
    cols: dict[str, Column] = {
        "Customer ID": _excel_guard(ids),
        "First Name": first,
        "Last Name": last,
        "Email": email,
        "Accepts Email Marketing": _flag(ctx, 0.45, "yes", "no"),
        "Default Address Company": company,
        "Default Address Address1": adr.line1,
        "Default Address Address2": adr.line2,
        "Default Address City": adr.city,
        "Default Address Province Code": adr.state_code,
        "Default Address Country Code": adr.country,
        "Default Address Zip": _excel_guard(adr.postcode),
        "Default Address Phone": _excel_guard(
            blank(format_phones(ctx, secondary_phones(ctx)), ~has_adr)
        ),
        "Phone": _excel_guard(mobile),
        "Accepts SMS Marketing": np.where(present(mobile) & ctx.draw(0.3), "yes", "no"),
        "Total Spent": np.array([f"{v:.2f}" for v in spent.tolist()], dtype=object),
        "Total Orders": _as_str(orders),
        "Note": _sometimes(ctx, 0.03, SHOPIFY_NOTES),
        "Tax Exempt": np.where(present(company) & ctx.draw(0.2), "yes", "no").astype(object),
        "Tags": _shopify_tags(ctx),
    }
    return VendorTable("ecommerce", cols, ids)


def _shopify_tags(ctx: RecordContext) -> np.ndarray:
    count = choose(ctx.rng, ctx.n, (70, 22, 8))
    out = np.full(ctx.n, None, dtype=object)
    rows = np.flatnonzero(count > 0)
    picks = ctx.rng.integers(0, len(SHOPIFY_TAGS), (len(rows), 2))
    out[rows] = [
        ", ".join(dict.fromkeys(SHOPIFY_TAGS[p] for p in pair[:k]))
        for pair, k in zip(picks.tolist(), count[rows].tolist(), strict=True)
    ]
    return out


def square(ctx: RecordContext, rows: SourceRows) -> VendorTable:
    """Square customer directory export."""
    ids = vendor_ids.square_ids(ctx.rng, ctx.n)
    first, last = split_names(ctx)
    adr = address_fields(ctx, two_lines=True)
    email = emails(ctx)
    orders, spent = _spend(ctx, 4.0)
    symbol = np.where(ctx.is_mx, "$", "€")
    cols: dict[str, Column] = {
        "Reference ID": blank(
            vendor_ids.loyalty_cards(ctx.rng, ctx.n), ~ctx.draw(ctx.noise.loyalty_card)
        ),
        "First Name": first,
        "Last Name": last,
        "Email Address": email,
        "Phone Number": format_phones(ctx, primary_phones(ctx)),
        "Nickname": nicknames(ctx, ctx.noise.nickname_field),
        "Company Name": blank(ctx.pop.contacts.company[ctx.pid], ~ctx.draw(0.03)),
        "Street Address 1": adr.line1,
        "Street Address 2": adr.line2,
        "City": adr.city,
        "State": adr.state,
        "Postal Code": adr.postcode,
        "Birthday": iso_dates(birth_dates(ctx), allow_no_year=True),
        "Memo": _sometimes(ctx, 0.04, SQUARE_MEMOS),
        "Square Customer ID": ids,
        "Creation Source": np.array(SQUARE_SOURCES, dtype=object)[
            choose(ctx.rng, ctx.n, SQUARE_SOURCE_WEIGHTS)
        ],
        "First Visit": day_strings(rows.created),
        "Last Visit": day_strings(rows.updated),
        "Transaction Count": _as_str(np.maximum(orders, 1)),
        "Lifetime Spend": np.array(
            [f"{s}{v:,.2f}" for s, v in zip(symbol.tolist(), spent.tolist(), strict=True)],
            dtype=object,
        ),
        "Email Subscription Status": blank(
            np.where(ctx.draw(0.7), "Subscribed", "Unsubscribed").astype(object), ~present(email)
        ),
    }
    return VendorTable("pos", cols, ids)


def zendesk(ctx: RecordContext, rows: SourceRows, crm_ids: np.ndarray) -> VendorTable:
    """Zendesk users as the API returns them (``crm_ids``: a CRM Id per person or None)."""
    ids = vendor_ids.zendesk_ids(ctx.rng, ctx.n)
    str_ids = _as_str(ids)
    adr = address_fields(ctx, two_lines=False, streets=False)
    city = np.where(
        adr.city_index >= 0, adr.city_index, ctx.pop.addresses.city[ctx.pop.address[ctx.pid]]
    )
    external = blank(crm_ids[ctx.pid], ~ctx.draw(ctx.noise.external_id))
    locale = np.where(ctx.is_mx & ctx.draw(0.85), "es-MX", "es").astype(object)
    cols: dict[str, Column] = {
        "id": ids,
        "url": np.array([ZENDESK_URL.format(i) for i in str_ids], dtype=object),
        "name": full_names(ctx),
        "email": _unique_per_source(emails(ctx, junk=False)),
        "created_at": timestamps(rows.created, millis=False),
        "updated_at": timestamps(rows.updated, millis=False),
        "time_zone": ctx.lex.cities.time_zone[city],
        "iana_time_zone": ctx.lex.cities.iana_time_zone[city],
        "phone": format_phones(ctx, primary_phones(ctx)),
        "shared_phone_number": np.zeros(ctx.n, dtype=bool),
        "locale": locale,
        "organization_id": np.full(ctx.n, None, dtype=object),
        "role": np.full(ctx.n, "end-user", dtype=object),
        "verified": ctx.draw(0.6),
        "external_id": external,
        "tags": _zendesk_tags(ctx),
        "active": np.ones(ctx.n, dtype=bool),
        "suspended": np.zeros(ctx.n, dtype=bool),
        "fecha_nacimiento": dmy_dates(birth_dates(ctx)),
        "codigo_postal": adr.postcode,
    }
    return VendorTable("callcenter", cols, str_ids)


def _zendesk_tags(ctx: RecordContext) -> list[list[str]]:
    count = choose(ctx.rng, ctx.n, (55, 30, 15))
    picks = ctx.rng.integers(0, len(ZENDESK_TAGS), (ctx.n, 2)).tolist()
    return [
        list(dict.fromkeys(ZENDESK_TAGS[p] for p in pair[:k]))
        for pair, k in zip(picks, count.tolist(), strict=True)
    ]

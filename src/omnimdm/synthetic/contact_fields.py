"""E-mail and phone fields as sources write them.

E-mails: work address instead of the personal one, Gmail dots and ``+tags``, typo'd domains
(``gmial.com``), typos, upper/capitalised case, shared junk placeholders, missing.
Phones: landline instead of mobile, the shop's own number for walk-ins, digit typos, missing,
and national/international formats (``+34 612 34 56 78``, ``0034612345678``, ``612-345-678``,
``+52 1 55 1234 5678``, ``044 55 1234 5678``, ``55-1234-5678`` ...).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from omnimdm.synthetic.noise import RecordContext, apply_where, choose, present
from omnimdm.synthetic.profile import PHONE_STYLES
from omnimdm.synthetic.text import digit_typo, typo

PLUS_TAGS = ("tienda", "compras", "shop", "promo", "news", "web", "ofertas")
MX_TWO_DIGIT_AREAS = frozenset(("55", "56", "33", "81"))


def _gmail_dots(rnd_value: Callable[[], float]) -> Callable[[str], str]:
    def apply(email: str) -> str:
        local, _, domain = email.partition("@")
        if domain.lower() != "gmail.com" or len(local) < 3:
            return email
        if "." in local:
            return local.replace(".", "") + "@" + domain
        pos = 1 + int(rnd_value() * (len(local) - 1))
        return f"{local[:pos]}.{local[pos:]}@{domain}"

    return apply


def _plus_tag(rnd_value: Callable[[], float]) -> Callable[[str], str]:
    def apply(email: str) -> str:
        tag = PLUS_TAGS[int(rnd_value() * len(PLUS_TAGS))]
        return email.replace("@", f"+{tag}@", 1)

    return apply


def _domain_typo(
    typos: dict[str, list[str]], rnd_value: Callable[[], float]
) -> Callable[[str], str]:
    def apply(email: str) -> str:
        local, _, domain = email.partition("@")
        options = typos.get(domain)
        if not options:
            return email
        return local + "@" + options[int(rnd_value() * len(options))]

    return apply


def _local_typo(ctx: RecordContext) -> Callable[[str], str]:
    def apply(email: str) -> str:
        local, _, domain = email.partition("@")
        return typo(local, ctx.rnd) + "@" + domain

    return apply


def _junk(ctx: RecordContext, out: np.ndarray, rows: np.ndarray) -> None:
    for country, mx in (("ES", False), ("MX", True)):
        sel = np.flatnonzero(rows & (ctx.is_mx == mx))
        options = np.array(ctx.lex.junk_emails[country], dtype=object)
        if len(sel) and len(options):
            out[sel] = options[ctx.rng.integers(0, len(options), len(sel))]


def emails(ctx: RecordContext, *, junk: bool = True) -> np.ndarray:
    """The e-mail field (``None`` = empty)."""
    e, contacts, rnd = ctx.noise.email, ctx.pop.contacts, ctx.rnd.random
    out = contacts.email[ctx.pid].copy()
    work = contacts.work_email[ctx.pid]
    use_work = ctx.draw(e.work) & present(work)
    out[use_work] = work[use_work]
    apply_where(out, ctx.draw(e.gmail_dots), _gmail_dots(rnd))
    apply_where(out, ctx.draw(e.plus_tag), _plus_tag(rnd))
    apply_where(out, ctx.draw(e.domain_typo), _domain_typo(ctx.lex.domains.typos, rnd))
    apply_where(out, ctx.draw(e.typo), _local_typo(ctx))
    upper = ctx.draw(e.upper)
    apply_where(out, upper, str.upper)
    apply_where(out, ctx.draw(e.capitalized) & ~upper, lambda v: v[:1].upper() + v[1:])
    if junk:
        _junk(ctx, out, ctx.draw(e.junk))
    out[ctx.draw(e.missing)] = None
    return out


def _typo_numbers(ctx: RecordContext, numbers: np.ndarray, rate: float) -> None:
    rows = np.flatnonzero(ctx.draw(rate) & (numbers > 0))
    if len(rows):
        numbers[rows] = [int(digit_typo(str(v), ctx.rnd)) for v in numbers[rows].tolist()]


def primary_phones(ctx: RecordContext) -> np.ndarray:
    """The main phone number per row as an int (0 = empty): usually the mobile."""
    p, contacts = ctx.noise.phone, ctx.pop.contacts
    out = contacts.mobile[ctx.pid].copy()
    land = contacts.landline[ctx.pid]
    instead = ctx.draw(p.landline_instead) & (land > 0)
    out[instead] = land[instead]
    _typo_numbers(ctx, out, p.typo)
    store = ctx.draw(p.store_phone)
    for country, mx in (("ES", False), ("MX", True)):
        sel = np.flatnonzero(store & (ctx.is_mx == mx))
        shops = np.array(ctx.lex.store_phones[country], dtype=np.int64)
        if len(sel) and len(shops):
            out[sel] = shops[ctx.rng.integers(0, len(shops), len(sel))]
    out[ctx.draw(p.missing)] = 0
    return out


def secondary_phones(ctx: RecordContext) -> np.ndarray:
    """A second phone column (CRM ``Phone``, Shopify address phone): the household landline
    where there is one, else the mobile; empty for a ``secondary_missing`` share."""
    contacts = ctx.pop.contacts
    land = contacts.landline[ctx.pid]
    out = np.where(land > 0, land, contacts.mobile[ctx.pid])
    out[ctx.draw(ctx.noise.phone.secondary_missing)] = 0
    return out


def _es_formats() -> list[Callable[[str], str]]:
    return [
        lambda d: "+34" + d,
        lambda d: f"+34 {d[:3]} {d[3:5]} {d[5:7]} {d[7:]}",
        lambda d: "0034" + d,
        lambda d: d,
        lambda d: f"{d[:3]} {d[3:6]} {d[6:]}",
        lambda d: f"{d[:3]}-{d[3:6]}-{d[6:]}",
        lambda d: f"{d[:3]} {d[3:5]} {d[5:7]} {d[7:]}",
    ]


def _mx_groups(d: str, sep: str = " ") -> str:
    a = 2 if d[:2] in MX_TWO_DIGIT_AREAS else 3
    return f"{d[:a]}{sep}{d[a:-4]}{sep}{d[-4:]}"


def _mx_formats() -> list[Callable[[str], str]]:
    return [
        lambda d: "+52" + d,
        lambda d: "+52 " + _mx_groups(d),
        lambda d: "0052" + d,
        lambda d: d,
        lambda d: _mx_groups(d),
        lambda d: _mx_groups(d, "-"),
        lambda d: ("+52 1 " if d[-1] in "02468" else "044 ") + _mx_groups(d),
    ]


_FORMATS = {False: _es_formats(), True: _mx_formats()}


def format_phones(ctx: RecordContext, numbers: np.ndarray, style: str | None = None) -> np.ndarray:
    """Render national numbers (0 = empty) in the source's mix of styles, or one ``style``."""
    if style is None:
        styles = choose(ctx.rng, ctx.n, ctx.noise.phone.styles.weights())
    else:
        styles = np.full(ctx.n, PHONE_STYLES.index(style))
    out = np.full(ctx.n, None, dtype=object)
    for mx in (False, True):
        for k, fmt in enumerate(_FORMATS[mx]):
            sel = np.flatnonzero((numbers > 0) & (ctx.is_mx == mx) & (styles == k))
            if len(sel):
                out[sel] = [fmt(str(v)) for v in numbers[sel].tolist()]
    return out

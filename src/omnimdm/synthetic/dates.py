"""Birth dates as sources write them (swapped day/month, one digit off, placeholder
1900-01-01, day and month only, missing) and ISO timestamps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omnimdm.synthetic.noise import RecordContext

PLACEHOLDER = np.datetime64("1900-01-01", "D")


@dataclass(frozen=True)
class BirthDates:
    """Noised birth dates of a source's rows."""

    date: np.ndarray  # datetime64[D]
    missing: np.ndarray  # bool: the field is empty
    no_year: np.ndarray  # bool: only day and month were recorded


def _components(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    years = dates.astype("datetime64[Y]")
    months = dates.astype("datetime64[M]")
    y = years.astype(np.int64) + 1970
    m = (months - years.astype("datetime64[M]")).astype(np.int64) + 1
    d = (dates - months.astype("datetime64[D]")).astype(np.int64) + 1
    return y, m, d


def _compose(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """A valid date from components, clipping the day to the month's length."""
    start = (y - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (m - 1).astype(
        "timedelta64[M]"
    )
    length = (
        (start + np.timedelta64(1, "M")).astype("datetime64[D]") - start.astype("datetime64[D]")
    ).astype(np.int64)
    day = np.clip(d, 1, length)
    return start.astype("datetime64[D]") + (day - 1).astype("timedelta64[D]")


def _digit_off(
    rng: np.random.Generator, y: np.ndarray, m: np.ndarray, d: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One wrong digit: year +-1 or +-10, day +-1 or month +-1."""
    n = len(y)
    kind = rng.random(n)
    sign = np.where(rng.random(n) < 0.5, -1, 1)
    y = y + np.where(kind < 0.4, sign, np.where(kind < 0.55, 10 * sign, 0))
    d = d + np.where((kind >= 0.55) & (kind < 0.85), sign, 0)
    m = np.clip(m + np.where(kind >= 0.85, sign, 0), 1, 12)
    return y, m, np.maximum(d, 1)


def birth_dates(ctx: RecordContext) -> BirthDates:
    """The source's view of each row's birth date."""
    b = ctx.noise.birth_date
    y, m, d = _components(ctx.pop.birth[ctx.pid])
    swap = ctx.draw(b.swap_day_month) & (d <= 12) & (d != m)
    y, m, d = y, np.where(swap, d, m), np.where(swap, m, d)
    off = ctx.draw(b.digit_off)
    oy, om, od = _digit_off(ctx.rng, y, m, d)
    y, m, d = np.where(off, oy, y), np.where(off, om, m), np.where(off, od, d)
    date = _compose(y, m, d)
    date[ctx.draw(b.placeholder)] = PLACEHOLDER
    return BirthDates(date, ctx.draw(b.missing), ctx.draw(b.no_year))


def iso_dates(dates: BirthDates, *, allow_no_year: bool = False) -> np.ndarray:
    """``YYYY-MM-DD`` (``0000-MM-DD`` where only day and month are known), ``None`` if empty."""
    out = np.datetime_as_string(dates.date, unit="D").astype(object)
    if allow_no_year:
        rows = np.flatnonzero(dates.no_year)
        out[rows] = ["0000" + s[4:] for s in out[rows]]
    out[dates.missing] = None
    return out


def dmy_dates(dates: BirthDates) -> np.ndarray:
    """``DD/MM/YYYY``, ``None`` if empty."""
    iso = np.datetime_as_string(dates.date, unit="D").tolist()
    out = np.empty(len(iso), dtype=object)
    out[:] = [f"{s[8:10]}/{s[5:7]}/{s[:4]}" for s in iso]
    out[dates.missing] = None
    return out


def timestamps(values: np.ndarray, *, millis: bool) -> np.ndarray:
    """UTC ISO-8601 strings: ``2024-05-03T10:22:31.000Z`` (millis) or ``...31Z``."""
    if millis:
        return np.datetime_as_string(values, unit="ms", timezone="UTC").astype(object)
    return np.datetime_as_string(values, unit="s", timezone="UTC").astype(object)


def day_strings(values: np.ndarray) -> np.ndarray:
    """``YYYY-MM-DD`` of timestamps."""
    return np.datetime_as_string(values.astype("datetime64[D]"), unit="D").astype(object)

"""Period labels in the reader's language (layer: text in, calendar math; pure).

    window_label(p, "en_US")          -> "Jul 1 – Sep 30, 2026"
    period_label(p, cal, "pl_PL")     -> "III kw. 2026"

Split from ``periods`` (which re-exports these names, so callers keep ``metrics_core.periods``).
Every label printed here reads back to the same period (``phrases``, tests/test_periods_polish.py).
"""

from __future__ import annotations

import functools
from datetime import date, timedelta

from babel import Locale, UnknownLocaleError
from babel.dates import format_interval, format_skeleton

from .errors import ConfigError
from .i18n import _, catalog
from .periods import (_MONTHLY, CALENDAR_KINDS, ONE_DAY, Calendar, Period, _add_months, _enclosing,
                      _fiscal_parts)


def _locale(locale: str) -> Locale:
    try:
        return Locale.parse(str(locale).replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        raise ConfigError(_("unknown locale '{locale}' (use a name like 'en_US' or 'pl_PL')").format(locale=locale)) from None


def window_label(p: Period, locale: str = "en_US") -> str:
    """The dates of ``p``: "Jul 1 – Sep 30, 2026", "Dec 1, 2025 – Jan 30, 2026", "Jul 1, 2026"; pl_PL: "1 lip–30 wrz 2026"."""
    loc = _locale(locale)
    if p.start == p.end:
        return format_skeleton("yMMMd", p.start, locale=loc)
    return format_interval(p.start, p.end, "yMMMd", locale=loc)


def period_label(p: Period, cal: Calendar, locale: str = "en_US") -> str:
    """A short human name: "Q3 2026", "Sep 2026", "2026", "FY2027 Q1", "Week of Nov 23, 2026", "Nov 27, 2026";
    pl_PL (inside ``use_locale("pl_PL")``): "III kw. 2026", "wrz 2026", "RF2027 Q1", "tydzień od 23 lis 2026".

    To-date periods: "Nov 2026 to date" ("lis 2026 do dziś"). Ranges, last-N and clipped buckets: the window.
    The words come from the active catalog, the dates from Babel for ``locale``.
    """
    return _remembered(p, cal, locale, catalog())


@functools.lru_cache(maxsize=2048)
def _remembered(p: Period, cal: Calendar, locale: str, words: object) -> str:
    """A label once per (period, calendar, locale, catalog of words): a 12-month series names the same
    buckets on every answer (Babel's date skeletons cost ~60 µs a label)."""
    return _label(p, cal, locale)


def is_window_label(p: Period, cal: Calendar, locale: str = "en_US") -> bool:
    """True when the name of ``p`` is just its dates (print it once, not "dates · dates")."""
    return period_label(p, cal, locale) == window_label(p, locale)


def _label(p: Period, cal: Calendar | None, locale: str) -> str:
    loc = _locale(locale)
    if p.kind not in CALENDAR_KINDS:
        return window_label(p, locale)
    if cal is not None:
        s0, e0 = _enclosing(p.kind, p.start, cal)
        fiscal = _fiscal_name(*_fiscal_parts(p.kind, p.start, cal)) if p.kind.startswith("fiscal") else ""
    else:  # to_json(): no calendar at hand; week and fiscal shapes come from the period itself
        s0, fiscal = p.start, p.fiscal_label
        if p.kind in ("day", "month", "quarter", "year"):  # the same in every calendar
            s0, e0 = _enclosing(p.kind, p.start, Calendar())
        elif p.kind == "week":
            e0 = p.start + timedelta(days=6)
        else:
            e0 = _add_months(p.start, _MONTHLY[p.kind][0]) - ONE_DAY if p.start.day == 1 else p.end
    if p.to_date and p.start == s0 and p.kind != "day":
        # TRANSLATORS: a period cut at today, e.g. "Nov 2026 to date", "Q4 2026 to date"
        return _("{period} to date").format(period=_whole_label(p.kind, s0, fiscal, loc))
    if (s0, e0) != (p.start, p.end):  # clipped bucket or odd window
        return window_label(p, locale)
    return _whole_label(p.kind, s0, fiscal, loc)


def _fiscal_name(fy: int, fq: int) -> str:
    if fq:
        # TRANSLATORS: a fiscal quarter, e.g. "FY2027 Q1" (Polish: "RF2027 Q1")
        return _("FY{year} Q{quarter}").format(year=fy, quarter=fq)
    # TRANSLATORS: a fiscal year, e.g. "FY2027" (Polish: "RF2027")
    return _("FY{year}").format(year=fy)


def _whole_label(kind: str, s: date, fiscal: str, loc: Locale) -> str:
    if kind == "day":
        return format_skeleton("yMMMd", s, locale=loc)
    if kind == "week":
        # TRANSLATORS: a whole week named by its first day, e.g. "Week of Nov 23, 2026"
        return _("Week of {date}").format(date=format_skeleton("yMMMd", s, locale=loc))
    if kind == "month":
        return format_skeleton("yMMM", s, locale=loc)
    if kind == "quarter":
        return format_skeleton("yQQQ", s, locale=loc)
    if kind == "year":
        return f"{s.year}"
    return fiscal or f"{kind} {s.isoformat()}"

"""Numbers in the reader's locale with Babel (layer: compile-side helpers; pure).

    fmt_value(1234.56, "currency", "pl_PL", currency="PLN", decimals=2) -> '1 234,56 zł'
    fmt_value(0.273, "percent", "pl_PL")                                  -> '27,3%'
    fmt_value(34.25, "days", "en_US")                                     -> '34.3 days'
    fmt_points(0.015, "pl_PL")  (inside use_locale("pl_PL"))              -> '+1,5 p.p.'
    fmt_date(date(2026, 11, 30), "pl_PL")                                 -> '30 lis 2026'
"""

from __future__ import annotations

import functools
import math
from datetime import date
from typing import assert_never

from babel import Locale
from babel.dates import format_skeleton
from babel.numbers import NumberPattern, format_decimal, format_percent, get_currency_symbol, parse_pattern
from babel.units import format_unit

from .i18n import _, pgettext
from .result import FormatKind


@functools.lru_cache(maxsize=64)
def _locale(code: str) -> Locale:
    """A parsed locale, once per code (Babel parses the string again on every call otherwise)."""
    return Locale.parse(code)


@functools.lru_cache(maxsize=64)
def _pattern(text: str) -> NumberPattern:
    """A parsed number pattern, once per text (a 12-month series by segment formats ~100 numbers)."""
    return parse_pattern(text)


def _decimals_pattern(decimals: int, suffix: str = "") -> NumberPattern:
    return _pattern("#,##0" + ("." + "0" * decimals if decimals else "") + suffix)


def fmt_value(value: float | None, kind: FormatKind, locale: str = "en_US", *, currency: str = "USD",
              decimals: int | None = None) -> str:
    """The value as a person reads it; '–' when there is no value (no rows, or a zero denominator)."""
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return "–"
    if kind == "number":
        d = decimals if decimals is not None else (0 if abs(value) >= 100 or float(value).is_integer() else 2)
        return format_decimal(value, _decimals_pattern(d), locale=_locale(locale))
    if kind == "currency":
        d = decimals if decimals is not None else (0 if abs(value) >= 1000 else 2)
        return _currency_rounded(value, currency, locale, d)
    if kind == "percent":
        d = 1 if decimals is None else decimals
        return format_percent(value, _decimals_pattern(d, "%"), locale=_locale(locale))
    if kind == "days":
        return format_unit(round(value, 1 if decimals is None else decimals), "duration-day", length="long", locale=_locale(locale))
    if kind == "months":
        return format_unit(round(value, 1 if decimals is None else decimals), "duration-month", length="long", locale=_locale(locale))
    if kind == "ratio":
        return format_decimal(value, _decimals_pattern(1 if decimals is None else decimals), locale=_locale(locale)) + "×"
    assert_never(kind)


def _currency_rounded(value: float, currency: str, locale: str, decimals: int) -> str:
    """Currency with a chosen number of decimals, keeping the locale's symbol placement."""
    return _currency_pattern(locale, decimals, currency).apply(value, _locale(locale))


@functools.lru_cache(maxsize=64)
def _currency_pattern(locale: str, decimals: int, currency: str) -> NumberPattern:
    """The locale's currency pattern with ``decimals`` digits and the currency's symbol in place of '¤',
    once per (locale, decimals, currency): Babel's own pattern and symbol, without looking the currency's
    plural name up on every number (format_currency does, for '¤¤¤' patterns only; a third of its time)."""
    symbol = "'" + get_currency_symbol(currency, _locale(locale)).replace("'", "''") + "'"
    pattern = _locale(locale).currency_formats["standard"].pattern.replace("¤", symbol)
    number_part = "#,##0" + ("." + "0" * decimals if decimals else "")
    # Swap only the numeric part of the locale's pattern ('¤#,##0.00' or '#,##0.00 ¤').
    for known in ("#,##0.00", "#,##,##0.00", "#,##0.###"):
        if known in pattern:
            pattern = pattern.replace(known, number_part)
            break
    return _pattern(pattern)


def fmt_change(relative: float | None, locale: str = "en_US") -> str:
    """'+12.5%' / '−3.0%' (sign always shown); '–' when unknown."""
    if relative is None:
        return "–"
    sign = "+" if relative > 0 else ("−" if relative < 0 else "±")
    return sign + format_percent(abs(relative), _pattern("#,##0.0%"), locale=_locale(locale))


def fmt_points(absolute: float | None, locale: str = "en_US") -> str:
    """A change of a rate in percentage points: 0.018 -> '+1.8 pp' (a 25 % -> 26.8 % move); pl_PL '+1,8 p.p.'.

    The unit comes from the catalog of the active language (``use_locale``), the number from Babel.
    """
    if absolute is None:
        return "–"
    sign = "+" if absolute > 0 else ("−" if absolute < 0 else "±")
    points = sign + format_decimal(abs(absolute) * 100, _pattern("#,##0.0"), locale=_locale(locale))
    # TRANSLATORS: a change of a rate in percentage points, e.g. "+1.8 pp"
    return _("{points} pp").format(points=points)


def fmt_count(n: float | int | None, locale: str = "en_US") -> str:
    return "–" if n is None else format_decimal(n, _pattern("#,##0"), locale=_locale(locale))


def superscript(n: int) -> str:
    """A footnote mark: 1 -> "¹", 12 -> "¹²" (a row some of whose rows were left out)."""
    return str(n).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


def fmt_date(d: date, locale: str = "en_US") -> str:
    """A day as the reader writes it: 'Nov 30, 2026'; pl_PL '30 lis 2026' (no strftime: '%-d' is glibc-only)."""
    return format_skeleton("yMMMd", d, locale=_locale(locale))


def plural_category(n: float | int | None, locale: str = "en_US") -> str:
    """CLDR plural category of a count: 'one', 'few', 'many' or 'other' (pl: 1 one, 2 few, 5 many)."""
    if n is None:
        return "other"
    return _locale(locale).plural_form(abs(int(n)) if float(n).is_integer() else abs(n))


def status_words(status: str) -> str:
    """A target status in words of the active language: "on track", "behind pace" (pl "poniżej tempa")."""
    words = {"met": pgettext("target", "met"), "missed": pgettext("target", "missed"),
             "on_track": pgettext("target", "on track"), "behind": pgettext("target", "behind pace"),
             "ahead": pgettext("target", "ahead of pace")}
    return words.get(status, str(status).replace("_", " "))

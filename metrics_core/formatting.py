"""Numbers in the reader's locale with Babel (layer: compile-side helpers; pure).

    fmt_value(1234.56, "currency", "pl_PL", currency="PLN", decimals=2) -> '1 234,56 zł'
    fmt_value(0.273, "percent", "pl_PL")                                  -> '27,3%'
    fmt_value(34.25, "days", "en_US")                                     -> '34.3 days'
"""

from __future__ import annotations

import math
from typing import assert_never

from babel.numbers import format_currency, format_decimal, format_percent
from babel.units import format_unit

from .result import FormatKind


def _decimals_pattern(decimals: int) -> str:
    return "#,##0" + ("." + "0" * decimals if decimals else "")


def fmt_value(value: float | None, kind: FormatKind, locale: str = "en_US", *, currency: str = "USD",
              decimals: int | None = None) -> str:
    """The value as a person reads it; '–' when there is no value (no rows, or a zero denominator)."""
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return "–"
    if kind == "number":
        d = decimals if decimals is not None else (0 if abs(value) >= 100 or float(value).is_integer() else 2)
        return format_decimal(value, _decimals_pattern(d), locale=locale)
    if kind == "currency":
        d = decimals if decimals is not None else (0 if abs(value) >= 1000 else 2)
        return _currency_rounded(value, currency, locale, d)
    if kind == "percent":
        d = 1 if decimals is None else decimals
        return format_percent(value, _decimals_pattern(d) + "%", locale=locale)
    if kind == "days":
        return format_unit(round(value, 1 if decimals is None else decimals), "duration-day", length="long", locale=locale)
    if kind == "months":
        return format_unit(round(value, 1 if decimals is None else decimals), "duration-month", length="long", locale=locale)
    if kind == "ratio":
        return format_decimal(value, _decimals_pattern(1 if decimals is None else decimals), locale=locale) + "×"
    assert_never(kind)


def _currency_rounded(value: float, currency: str, locale: str, decimals: int) -> str:
    """Currency with a chosen number of decimals, keeping the locale's symbol placement."""
    from babel import Locale

    pattern = Locale.parse(locale).currency_formats["standard"].pattern
    number_part = "#,##0" + ("." + "0" * decimals if decimals else "")
    # Swap only the numeric part of the locale's pattern ('¤#,##0.00' or '#,##0.00 ¤').
    for known in ("#,##0.00", "#,##,##0.00", "#,##0.###"):
        if known in pattern:
            pattern = pattern.replace(known, number_part)
            break
    return format_currency(value, currency, pattern, locale=locale, currency_digits=False)


def fmt_change(relative: float | None, locale: str = "en_US") -> str:
    """'+12.5%' / '−3.0%' (sign always shown); '–' when unknown."""
    if relative is None:
        return "–"
    sign = "+" if relative > 0 else ("−" if relative < 0 else "±")
    return sign + format_percent(abs(relative), "#,##0.0%", locale=locale)


def fmt_points(absolute: float | None, locale: str = "en_US") -> str:
    """A change of a rate in percentage points: 0.018 -> '+1.8 pp' (a 25 % -> 26.8 % move)."""
    if absolute is None:
        return "–"
    sign = "+" if absolute > 0 else ("−" if absolute < 0 else "±")
    return sign + format_decimal(abs(absolute) * 100, "#,##0.0", locale=locale) + " pp"


def fmt_count(n: float | int | None, locale: str = "en_US") -> str:
    return "–" if n is None else format_decimal(n, "#,##0", locale=locale)

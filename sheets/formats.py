"""Number formats for metric values, built from Babel's patterns for the locale (pure; layer: layout helpers).

One pattern per metric format (``decimals:`` of the metric's format changes the digits), written the same
way to Google Sheets (``numberFormat``) and to Excel (openpyxl ``number_format``), so the two outputs show
a value alike. Symbol, its placement and unit words come from CLDR (no hand-kept symbol table):

                         en_US                          pl_PL
    percent   0.1234     PERCENT  0.0%                  PERCENT  0.0%             12,3%
    currency  15230.4    CURRENCY "$"#,##0              CURRENCY #,##0" zł"      15 230 zł
    days      41.25      NUMBER   #,##0.0" days"        NUMBER   #,##0.0" dni"   41,3 dni
    months    7.5        NUMBER   #,##0.0" months"      NUMBER   #,##0.0" miesięcy"
    ratio     3.456      NUMBER   0.0"×"                NUMBER   0.0"×"
    number    1234.5     NUMBER   #,##0.00              NUMBER   #,##0.00

In a pattern ``,`` and ``.`` mean "grouping" and "decimal": Sheets and Excel show them with the
spreadsheet's own separators (``15 230,40`` in a Polish file), so only symbols and words are localized.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from babel import Locale
from babel.numbers import get_currency_symbol
from babel.units import format_unit

FORMAT_KINDS = ("number", "currency", "percent", "days", "months", "ratio")


@dataclass(frozen=True)
class NumberFormat:
    """A cell number format: the Sheets ``type`` and the pattern shared by Sheets and Excel."""

    type: str  # NUMBER | CURRENCY | PERCENT (Sheets NumberFormatType)
    pattern: str

    def to_sheets(self) -> dict[str, str]:
        return {"type": self.type, "pattern": self.pattern}


def _digits(decimals: int | None, default: int) -> str:
    d = default if decimals is None else decimals
    return "." + "0" * d if d else ""


def _quoted(text: str) -> str:
    """Literal text for a pattern; a '%' stays outside the quotes (it scales by 100): ' %' -> '" "%'."""
    parts = text.replace('"', "").split("%")
    return "%".join('"' + p + '"' if p else "" for p in parts)


def _around(pattern: str, number: str, mark: str, replacement: str) -> str:
    """The locale ``pattern`` with its number part swapped for ``number`` and ``mark`` (¤ or %) for a
    quoted ``replacement``, keeping the locale's placement and spacing: '#,##0.00 ¤' -> '#,##0" zł"'."""
    positive = pattern.split(";")[0]
    m = re.search(r"[#0][#0,.]*", positive)
    before, after = (positive[: m.start()], positive[m.end():]) if m else ("", " " + mark)
    before, after = (part.replace("\xa0", " ").replace(mark, replacement) for part in (before, after))
    return _quoted(before) + number + _quoted(after)


def currency_pattern(currency: str | None, decimals: int | None = None, locale: str = "en_US") -> str:
    """'"$"#,##0' (en_US, USD), '#,##0" zł"' (pl_PL, PLN), '"CHF "#,##0' (en_US, CHF)."""
    code = (currency or "USD").upper()
    loc = Locale.parse(locale)
    symbol = get_currency_symbol(code, loc)
    pattern = loc.currency_formats["standard"].pattern
    if symbol.isalpha() and "¤ " not in pattern and " ¤" not in pattern.replace("\xa0", " "):
        # CLDR spaces a letter symbol from the digits: "CHF 1,200"
        pattern = pattern.replace("¤", "¤ ") if pattern.index("¤") < pattern.index("0") else pattern.replace("¤", " ¤")
    return _around(pattern, "#,##0" + _digits(decimals, 0), "¤", symbol)


def _percent_pattern(decimals: int | None, locale: str) -> str:
    pattern = Locale.parse(locale).percent_formats[None].pattern
    return _around(pattern, "0" + _digits(decimals, 1), "%", "%")


def _unit_pattern(unit: str, decimals: int | None, locale: str) -> str:
    """'#,##0.0" days"' / '#,##0.0" dni"': the unit's word for many (5) of it, from CLDR."""
    sample = format_unit(5, unit, length="long", locale=locale)
    before, _, after = sample.partition("5")
    return _quoted(before.replace("\xa0", " ")) + "#,##0" + _digits(decimals, 1) + _quoted(after.replace("\xa0", " "))


def number_format(kind: str, currency: str | None = None, decimals: int | None = None,
                  locale: str = "en_US") -> NumberFormat:
    """The format for a metric format kind (``MetricResult.format``), the metric's ``decimals`` and the locale."""
    if kind == "percent":
        return NumberFormat("PERCENT", _percent_pattern(decimals, locale))
    if kind == "currency":
        return NumberFormat("CURRENCY", currency_pattern(currency, decimals, locale))
    if kind == "days":
        return NumberFormat("NUMBER", _unit_pattern("duration-day", decimals, locale))
    if kind == "months":
        return NumberFormat("NUMBER", _unit_pattern("duration-month", decimals, locale))
    if kind == "ratio":
        return NumberFormat("NUMBER", f'0{_digits(decimals, 1)}"×"')
    if kind == "number":
        return NumberFormat("NUMBER", "#,##0" + _digits(decimals, 2))
    raise ValueError(f"unknown metric format {kind!r} (allowed: {', '.join(FORMAT_KINDS)})")

"""Number formats for metric values (pure; layer: layout helpers).

One pattern per metric format (``decimals:`` of the metric's format changes the digits), written the same way to Google Sheets (``numberFormat``) and to
Excel (openpyxl ``number_format``), so the two outputs show a value alike:

    percent   0.1234   -> 12.3%          PERCENT  0.0%
    currency  15230.4  -> $15,230        CURRENCY "$"#,##0
    days      41.25    -> 41.3 days      NUMBER   #,##0.0 "days"
    months    7.5      -> 7.5 months     NUMBER   #,##0.0 "months"
    ratio     3.456    -> 3.5×           NUMBER   0.0"×"
    number    1234.5   -> 1,234.50       NUMBER   #,##0.00
"""

from __future__ import annotations

from dataclasses import dataclass

# Symbols that read better before the amount; any other ISO code goes after it ("1,200 CHF").
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CNY": "¥", "AUD": "A$", "CAD": "C$"}

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


def currency_pattern(currency: str | None, decimals: int | None = None) -> str:
    code = (currency or "USD").upper()
    symbol = _SYMBOLS.get(code)
    number = "#,##0" + _digits(decimals, 0)
    return f'"{symbol}"{number}' if symbol else f'{number} "{code}"'


def number_format(kind: str, currency: str | None = None, decimals: int | None = None) -> NumberFormat:
    """The format for a metric format kind (``MetricResult.format``) and the metric's ``decimals``."""
    if kind == "percent":
        return NumberFormat("PERCENT", "0" + _digits(decimals, 1) + "%")
    if kind == "currency":
        return NumberFormat("CURRENCY", currency_pattern(currency, decimals))
    if kind in ("days", "months"):
        return NumberFormat("NUMBER", f'#,##0{_digits(decimals, 1)} "{kind}"')
    if kind == "ratio":
        return NumberFormat("NUMBER", f'0{_digits(decimals, 1)}"×"')
    if kind == "number":
        return NumberFormat("NUMBER", "#,##0" + _digits(decimals, 2))
    raise ValueError(f"unknown metric format {kind!r} (allowed: {', '.join(FORMAT_KINDS)})")

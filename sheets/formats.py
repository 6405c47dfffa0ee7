"""Number formats for metric values (pure; layer: layout helpers).

One pattern per metric format, written the same way to Google Sheets (``numberFormat``) and to
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


def currency_pattern(currency: str | None) -> str:
    code = (currency or "USD").upper()
    symbol = _SYMBOLS.get(code)
    if symbol:
        return f'"{symbol}"#,##0'
    return f'#,##0 "{code}"'


def number_format(kind: str, currency: str | None = None) -> NumberFormat:
    """The format for a metric format kind (``MetricResult.format``); unknown kinds raise."""
    if kind == "percent":
        return NumberFormat("PERCENT", "0.0%")
    if kind == "currency":
        return NumberFormat("CURRENCY", currency_pattern(currency))
    if kind == "days":
        return NumberFormat("NUMBER", '#,##0.0 "days"')
    if kind == "months":
        return NumberFormat("NUMBER", '#,##0.0 "months"')
    if kind == "ratio":
        return NumberFormat("NUMBER", '0.0"×"')
    if kind == "number":
        return NumberFormat("NUMBER", "#,##0.00")
    raise ValueError(f"unknown metric format {kind!r} (allowed: {', '.join(FORMAT_KINDS)})")

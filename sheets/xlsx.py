"""Layouts -> an Excel workbook with openpyxl (I/O; the no-Google-account path of the sync).

The same cells as the Sheets sync: numbers as numbers with the same number-format patterns, bold
headers, frozen panes, column widths. Text that looks like a formula (``=HYPERLINK(...)``) is
stored as text, never as a formula. Sheet names follow Excel's rules: at most 31 characters, none of
``[]:*?/`` nor a backslash, unique without regard to case ("KPIs by month" twice ->
"KPIs by month", "KPIs by month (2)").
"""

from __future__ import annotations

import re
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .layout import RGB, Cell, TabLayout

_PX_PER_CHAR = 7  # Excel column width is in characters of the default font, about 7 px each
MAX_NAME = 31  # Excel's limit on sheet names
_BAD_NAME = re.compile(r"[\[\]:*?/\\]")


def write_xlsx(layouts: list[TabLayout], path: str | Path) -> Path:
    """Write every layout as a worksheet (in order) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    wb.remove(wb.active)
    for lay, name in zip(layouts, sheet_names([lay.title for lay in layouts])):
        _sheet(wb, lay, name)
    wb.save(path)
    return path


def sheet_names(titles: list[str]) -> list[str]:
    """Excel-safe, unique names for tab titles, each at most ``MAX_NAME`` characters."""
    out: list[str] = []
    taken: set[str] = set()
    for title in titles:
        base = _BAD_NAME.sub("_", title).strip("'").strip() or "Sheet"
        name, n = base[:MAX_NAME], 1
        while name.lower() in taken:
            n += 1
            suffix = f" ({n})"
            name = base[:MAX_NAME - len(suffix)].rstrip() + suffix
        taken.add(name.lower())
        out.append(name)
    return out


def _sheet(wb: Workbook, lay: TabLayout, name: str) -> None:
    ws = wb.create_sheet(name)
    for r, row in enumerate(lay.rows, start=1):
        for c, cell in enumerate(row, start=1):
            _put(ws.cell(row=r, column=c), cell)
    if lay.frozen_rows or lay.frozen_cols:
        ws.freeze_panes = ws.cell(row=lay.frozen_rows + 1, column=lay.frozen_cols + 1)
    for i, px in enumerate(lay.widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = round(px / _PX_PER_CHAR, 1)


def _put(target, cell: Cell) -> None:  # type: ignore[no-untyped-def]
    if isinstance(cell.value, str):
        target.value = ILLEGAL_CHARACTERS_RE.sub("", cell.value)
        target.data_type = "s"  # openpyxl would store "=..." as a formula
    else:
        target.value = cell.value
    if cell.fmt is not None:
        target.number_format = cell.fmt.pattern
    if cell.note:
        target.comment = Comment(ILLEGAL_CHARACTERS_RE.sub("", cell.note), "kpi")
    if cell.bold or cell.tone:
        color = "FF%02X%02X%02X" % tuple(round(c * 255) for c in RGB[cell.tone]) if cell.tone else None
        target.font = Font(bold=cell.bold, color=color)

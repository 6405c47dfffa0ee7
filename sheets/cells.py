"""A layout's cells -> Sheets ``CellData`` and format requests (pure; used by plan.py).

Payload matters on a 5,000-cell sync: a number format repeated in every cell doubles the
batchUpdate. So ``updateCells`` carries the values (and the formats of lone cells), and each run of
equal formats (a metric's row of periods, a bold header row, consecutive rows alike) becomes one
``repeatCell``, sent after it in the same batch::

    updateCells  range A1:O16, rows of {"userEnteredValue": {"numberValue": 0.27}}, fields values+formats
    repeatCell   B3:O4  {"numberFormat": {"type": "PERCENT", "pattern": "0.0%"}}
"""

from __future__ import annotations

import json
from typing import Any

from .layout import RGB, Cell, TabLayout

CELL_FIELDS = "userEnteredValue,userEnteredFormat,note"  # note: a cell without one loses a stale one
MIN_RUN = 3  # shorter runs keep their format inline: a repeatCell costs about as much as two formats


def cell_format(cell: Cell) -> dict[str, Any]:
    fmt: dict[str, Any] = {}
    if cell.fmt is not None:
        fmt["numberFormat"] = cell.fmt.to_sheets()
    text: dict[str, Any] = {"bold": True} if cell.bold else {}
    if cell.tone:
        r, g, b = RGB[cell.tone]
        text["foregroundColorStyle"] = {"rgbColor": {"red": r, "green": g, "blue": b}}
    if text:
        fmt["textFormat"] = text
    return fmt


def cell_data(cell: Cell, with_format: bool = True) -> dict[str, Any]:
    """A CellData. Text goes in ``stringValue``, which Sheets never parses: ``=SUM(A1)`` stays text."""
    out: dict[str, Any] = {}
    if isinstance(cell.value, str):
        out["userEnteredValue"] = {"stringValue": cell.value}
    elif cell.value is not None:
        out["userEnteredValue"] = {"numberValue": cell.value}
    fmt = cell_format(cell) if with_format else {}
    if fmt:
        out["userEnteredFormat"] = fmt
    if cell.note:
        out["note"] = cell.note
    return out


def format_runs(lay: TabLayout) -> list[tuple[int, int, int, int, str]]:
    """(row0, row1, col0, col1, format json) blocks of one format, rows merged when alike."""
    runs: list[tuple[int, int, int, int, str]] = []
    for r, row in enumerate(lay.rows):
        for c0, c1, key in _row_runs(row):
            last = runs[-1] if runs else None
            if last and last[1] == r and last[2:] == (c0, c1, key):
                runs[-1] = (last[0], r + 1, c0, c1, key)
            else:
                runs.append((r, r + 1, c0, c1, key))
    return runs


def _row_runs(row: tuple[Cell, ...]) -> list[tuple[int, int, str]]:
    out, start = [], 0
    keys = [json.dumps(cell_format(c), sort_keys=True) if cell_format(c) else "" for c in row]
    for i in range(1, len(row) + 1):
        if i == len(row) or keys[i] != keys[start]:
            if keys[start] and i - start >= MIN_RUN:
                out.append((start, i, keys[start]))
            start = i
    return out


def update_cells(lay: TabLayout, sid: int, rows: int, cols: int) -> list[dict[str, Any]]:
    """Values (and lone formats) of the whole managed range, then one repeatCell per format block.
    Cells of the range not in the layout are cleared: the range may be larger than this layout."""
    runs = format_runs(lay)
    covered = {(r, c) for r0, r1, c0, c1, _ in runs for r in range(r0, r1) for c in range(c0, c1)}
    data = [{"values": [cell_data(cell, (r, c) not in covered) for c, cell in enumerate(row)]}
            for r, row in enumerate(lay.rows)]
    rng = {"sheetId": sid, "startRowIndex": 0, "endRowIndex": rows, "startColumnIndex": 0, "endColumnIndex": cols}
    out: list[dict[str, Any]] = [{"updateCells": {"range": rng, "rows": data, "fields": CELL_FIELDS}}]
    for r0, r1, c0, c1, key in runs:
        block = {"sheetId": sid, "startRowIndex": r0, "endRowIndex": r1, "startColumnIndex": c0, "endColumnIndex": c1}
        out.append({"repeatCell": {"range": block, "cell": {"userEnteredFormat": json.loads(key)},
                                   "fields": "userEnteredFormat"}})
    return out

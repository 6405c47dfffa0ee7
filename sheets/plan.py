"""Layouts + what the spreadsheet holds -> the request list of ONE batchUpdate (pure; no I/O).

Managed tabs carry developer metadata ``kpi.managed`` = ``{"key", "rows", "cols"}``: the tab's
identity and the extent kpi wrote last time. Everything else is the user's and is never touched:

- a new tab: ``addSheet`` with a sheetId chosen here (stable: a hash of the key), its metadata,
  then its cells, in the same atomic batch;
- cells: see ``cells.py`` (values in one updateCells, formats in a repeatCell per block);
- an existing managed tab (found by metadata, whatever its current name): renamed back to the
  configured name, grown (never shrunk), cells rewritten over the union of the old and the new
  extent (so a shorter report leaves no stale rows) and nothing outside it;
- an unmanaged tab already named like a tab to create: a ``TabConflict``, nothing is written.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Any

from metrics_core.errors import KpiUserError

from .cells import update_cells
from .layout import TabLayout

MANAGED_KEY = "kpi.managed"
GET_FIELDS = ("spreadsheetId,properties(title),sheets(properties(sheetId,title,index,"
              "gridProperties(rowCount,columnCount)),developerMetadata(metadataId,metadataKey,metadataValue))")
SPARE_ROWS, SPARE_COLS = 20, 2


class TabConflict(KpiUserError):
    """A tab kpi must create or rename is already taken by one of the user's own tabs."""


@dataclass(frozen=True)
class Managed:
    key: str
    rows: int
    cols: int
    metadata_id: int


@dataclass(frozen=True)
class SheetState:
    sheet_id: int
    title: str
    index: int
    rows: int
    cols: int
    managed: Managed | None = None


@dataclass(frozen=True)
class SpreadsheetState:
    spreadsheet_id: str
    title: str
    sheets: tuple[SheetState, ...] = ()

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> "SpreadsheetState":
        """Read the ``spreadsheets.get`` answer (fields: ``GET_FIELDS``)."""
        sheets = tuple(_sheet_state(s) for s in body.get("sheets", []))
        return cls(body.get("spreadsheetId", ""), body.get("properties", {}).get("title", ""), sheets)

    def managed_sheet(self, key: str, title: str) -> SheetState | None:
        """The tab managed under ``key``; if a user duplicated it, the one still named ``title``."""
        hits = [s for s in self.sheets if s.managed and s.managed.key == key]
        hits.sort(key=lambda s: (s.title != title, s.index))
        return hits[0] if hits else None


def _sheet_state(s: dict[str, Any]) -> SheetState:
    p, grid = s.get("properties", {}), s.get("properties", {}).get("gridProperties", {})
    managed = None
    for md in s.get("developerMetadata", []):
        if md.get("metadataKey") == MANAGED_KEY:
            try:
                v = json.loads(md.get("metadataValue", ""))
                managed = Managed(str(v["key"]), int(v["rows"]), int(v["cols"]), int(md["metadataId"]))
            except (ValueError, KeyError, TypeError):
                continue  # not ours after all (hand-made metadata): treat the tab as the user's
    return SheetState(int(p.get("sheetId", 0)), p.get("title", ""), int(p.get("index", 0)),
                      int(grid.get("rowCount", 0)), int(grid.get("columnCount", 0)), managed)


def plan_requests(layouts: list[TabLayout], state: SpreadsheetState) -> list[dict[str, Any]]:
    """Every sub-request of the one batchUpdate that brings the managed tabs up to date."""
    used = {s.sheet_id for s in state.sheets}
    requests: list[dict[str, Any]] = []
    for lay in layouts:
        sheet = state.managed_sheet(lay.key, lay.title)
        _check_title(lay, sheet, state)
        if sheet is None:
            sid = choose_sheet_id(lay.key, used)
            used.add(sid)
            requests += _add_tab(lay, sid)
            rows, cols = lay.n_rows, lay.n_cols
        else:
            sid = sheet.sheet_id
            requests += _update_tab(lay, sheet)
            rows, cols = _rewrite_extent(lay, sheet)
        requests += update_cells(lay, sid, rows, cols)
        requests += _widths(lay, sid)
    return requests


def _check_title(lay: TabLayout, sheet: SheetState | None, state: SpreadsheetState) -> None:
    for other in state.sheets:
        if other is not sheet and other.title.lower() == lay.title.lower() and not _same_key(other, lay):
            raise TabConflict(
                f"the spreadsheet already has a tab named '{other.title}' that kpi does not manage; "
                f"rename that tab, or give the kpi tab another name in sheets.tabs (nothing was written)")


def _same_key(other: SheetState, lay: TabLayout) -> bool:
    return other.managed is not None and other.managed.key == lay.key


def choose_sheet_id(key: str, used: set[int]) -> int:
    """A sheetId derived from the key (so links to ``#gid=`` survive a re-creation), free in the sheet."""
    sid = zlib.crc32(f"kpi:{key}".encode()) % 2_000_000_000 + 1
    while sid in used:
        sid += 1
    return sid


def _marker(lay: TabLayout) -> str:
    return json.dumps({"key": lay.key, "rows": lay.n_rows, "cols": lay.n_cols}, separators=(",", ":"))


def _grid(lay: TabLayout, rows: int, cols: int) -> dict[str, int]:
    return {"rowCount": rows, "columnCount": cols,
            "frozenRowCount": lay.frozen_rows, "frozenColumnCount": lay.frozen_cols}


def _add_tab(lay: TabLayout, sid: int) -> list[dict[str, Any]]:
    grid = _grid(lay, lay.n_rows + SPARE_ROWS, lay.n_cols + SPARE_COLS)
    return [
        {"addSheet": {"properties": {"sheetId": sid, "title": lay.title, "gridProperties": grid}}},
        {"createDeveloperMetadata": {"developerMetadata": {
            "metadataKey": MANAGED_KEY, "metadataValue": _marker(lay),
            "location": {"sheetId": sid}, "visibility": "DOCUMENT"}}},
    ]


def _grown(lay: TabLayout, sheet: SheetState) -> tuple[int, int]:
    """The grid after this sync: grown to fit the layout, never shrunk."""
    return max(sheet.rows, lay.n_rows + 1), max(sheet.cols, lay.n_cols + 1)


def _rewrite_extent(lay: TabLayout, sheet: SheetState) -> tuple[int, int]:
    """Last sync's extent and this one's, clipped to the grid (the user may have deleted rows/columns)."""
    managed = sheet.managed
    assert managed is not None
    grid_rows, grid_cols = _grown(lay, sheet)
    return min(max(managed.rows, lay.n_rows), grid_rows), min(max(managed.cols, lay.n_cols), grid_cols)


def _update_tab(lay: TabLayout, sheet: SheetState) -> list[dict[str, Any]]:
    grid = _grid(lay, *_grown(lay, sheet))
    fields = ("title,gridProperties.rowCount,gridProperties.columnCount,"
              "gridProperties.frozenRowCount,gridProperties.frozenColumnCount")
    return [
        {"updateSheetProperties": {"properties": {"sheetId": sheet.sheet_id, "title": lay.title,
                                                  "gridProperties": grid}, "fields": fields}},
        {"updateDeveloperMetadata": {
            "dataFilters": [{"developerMetadataLookup": {"metadataId": sheet.managed.metadata_id}}],  # type: ignore[union-attr]
            "developerMetadata": {"metadataValue": _marker(lay)}, "fields": "metadataValue"}},
    ]


def _widths(lay: TabLayout, sid: int) -> list[dict[str, Any]]:
    """One updateDimensionProperties per run of equal column widths."""
    out: list[dict[str, Any]] = []
    start = 0
    for i in range(1, len(lay.widths) + 1):
        if i == len(lay.widths) or lay.widths[i] != lay.widths[start]:
            rng = {"sheetId": sid, "dimension": "COLUMNS", "startIndex": start, "endIndex": i}
            out.append({"updateDimensionProperties": {"range": rng, "properties": {"pixelSize": lay.widths[start]},
                                                      "fields": "pixelSize"}})
            start = i
    return out

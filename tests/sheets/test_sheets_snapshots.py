"""Golden files of what users and Google see: a tab's cells, the first sync's batchUpdate body, and
the error lines. ``KPI_UPDATE_SNAPSHOTS=1`` rewrites them (tests/snapshot.py)."""

from __future__ import annotations

import json
from pathlib import Path

import requests
from gspread.exceptions import APIError
from sheets_support import monthly_tab, segment_tab
from snapshot import assert_snapshot

from sheets.errors import explain
from sheets.layout import TabLayout, layout_tab
from sheets.plan import SheetState, SpreadsheetState, TabConflict, plan_requests

SNAPSHOTS = Path(__file__).parent / "snapshots"


def render(lay: TabLayout) -> str:
    """One line per non-empty cell: A1, value, number format, bold."""
    lines = [f"# {lay.title}: {lay.n_rows} x {lay.n_cols}, frozen {lay.frozen_rows} rows / {lay.frozen_cols} cols, "
             f"widths {list(lay.widths)}"]
    for r, row in enumerate(lay.rows, start=1):
        for c, cell in enumerate(row):
            if cell.value is None and cell.fmt is None and not cell.bold:
                continue
            extra = (f"  [{cell.fmt.type} {cell.fmt.pattern}]" if cell.fmt else "") + ("  bold" if cell.bold else "") + (f"  {cell.tone}" if cell.tone else "")
            lines.append(f"{chr(65 + c)}{r}\t{cell.value!r}{extra}")
    return "\n".join(lines)


def test_monthly_tab_cells():
    assert_snapshot(SNAPSHOTS / "monthly_tab.txt", render(layout_tab(monthly_tab())))


def test_segment_tab_cells():
    assert_snapshot(SNAPSHOTS / "segment_tab.txt", render(layout_tab(segment_tab())))


def test_first_sync_batch_update_body():
    requests_ = plan_requests([layout_tab(monthly_tab())], SpreadsheetState("1kpi", "Sales KPIs"))
    assert_snapshot(SNAPSHOTS / "first_sync_batch_update.json", json.dumps({"requests": requests_}, indent=1,
                                                                           ensure_ascii=False))


def _api_error(status: int, message: str) -> APIError:
    r = requests.Response()
    r.status_code = status
    r._content = json.dumps({"error": {"code": status, "message": message, "status": "X"}}).encode()
    return APIError(r)


def test_error_lines():
    email, sid = "kpi-sync@proj.iam.gserviceaccount.com", "1AbC"
    cases = [(403, "The caller does not have permission"), (404, "Requested entity was not found."),
             (429, "Quota exceeded"), (503, "The service is currently unavailable."), (400, "Invalid requests[3]")]
    lines = [f"{status}: {explain(_api_error(status, msg), sid, email, 5)}" for status, msg in cases]
    try:
        plan_requests([layout_tab(monthly_tab(title="Definitions"))],
                      SpreadsheetState(sid, "", (SheetState(7, "Definitions", 0, 100, 26),)))
    except TabConflict as e:
        lines.append(f"conflict: {e}")
    assert_snapshot(SNAPSHOTS / "errors.txt", "\n".join(lines))

"""kpi's Google Sheets sync: KPI tabs kept current in a spreadsheet, or written to an .xlsx file.

    from sheets import sync, export_xlsx
    sync(kpi, spreadsheet="1AbC...")        # one spreadsheets.get + one atomic batchUpdate
    export_xlsx(kpi, "kpis.xlsx")           # same tabs, no Google account needed
    workbook_for(kpi).every                 # the configured workbook (its tabs and schedule)

Layers: config/workbook (what to build) -> compute (asks the core) -> layout (pure cells) ->
plan (pure batchUpdate requests) -> writer/xlsx (I/O); auth and http hold everything that talks
to Google. See sheets/README.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .pipeline import SyncReport

# The public API (what bot/ may use; tests/test_layers.py keeps it so): name -> module.
_WHERE = {"export_xlsx": "pipeline", "sync": "pipeline", "SyncReport": "pipeline",
          "workbook_for": "workbook", "parse_every": "config"}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    # Lazy, so `kpi validate` (which imports sheets.config) does not pull gspread and openpyxl in.
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f"sheets.{_WHERE[name]}"), name)
    raise AttributeError(name)

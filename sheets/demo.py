"""`kpi demo`'s last step: the demo workbook as .xlsx (entry point ``kpi.demo``), no Google needed."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any


def write_workbook(kpi: Any, console: Any, as_of: date) -> Path:
    from .pipeline import export_xlsx

    path = export_xlsx(kpi, Path.cwd() / "kpi.xlsx", as_of=as_of)
    console.print(f"[green]workbook[/green] {path} (the same tabs `kpi sheets sync` writes to Google Sheets)")
    return path

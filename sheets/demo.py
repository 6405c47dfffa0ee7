"""The last step of ``kpi demo``: the demo workbook as an .xlsx file (edge; the ``kpi.demo`` entry point).

No Google account needed: the same tabs ``kpi sheets sync`` would write (the ``sheets:`` section, or
the default workbook), with values and number formats, in ``.kpi/kpi-demo.xlsx`` beside the
definitions.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console

from metrics_core.i18n import gettext as _

from .pipeline import export_xlsx
from .preview import progress_for
from .workbook import workbook_for

DEMO_FILE = Path(".kpi") / "kpi-demo.xlsx"


def write_workbook(kpi: Any, out: Console, until: date) -> Path:
    """Write the demo workbook as of ``until`` and say where it is and how to sync it to Google."""
    path = Path(kpi.loaded.base_dir) / DEMO_FILE
    cfg = workbook_for(kpi)
    with progress_for(cfg, out) as step:
        export_xlsx(kpi, path, as_of=until, on_step=step)
    out.print("[green]" + _("demo workbook") + f"[/green] {path}: {', '.join(cfg.titles())}")
    out.print("  " + _("to keep these tabs current in Google Sheets: {command} (sheets/README.md says how to share the "
                       "sheet with a service account)").format(command="[bold]kpi sheets sync --spreadsheet ID[/bold]"))
    return path

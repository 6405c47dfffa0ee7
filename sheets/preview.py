"""What the command line shows: progress while computing, the dry-run plan, the sync summary (edge)."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from typing import Any, Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from metrics_core.i18n import gettext as _

from .compute import steps
from .config import WorkbookConfig
from .layout import Cell, TabLayout

PREVIEW_ROWS, PREVIEW_COLS = 12, 8


@contextmanager
def progress_for(cfg: WorkbookConfig, console: Console) -> Iterator[Callable[[str], None]]:
    """A Rich progress bar over the core calls of one sync; yields the ``on_step`` callback."""
    total = steps(cfg.tabs)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task("computing", total=total)

        def step(label: str) -> None:
            progress.update(task, advance=1, description=f"computing {label}")

        yield step


def layout_table(lay: TabLayout) -> Table:
    """The tab's title line, then its first rows and columns, numbers shown roughly as Sheets would."""
    title = lay.rows[0][0].value if lay.rows and lay.rows[0] else lay.title
    # tab titles and cells are user data: Text, never markup ("[/b]" prints as itself)
    table = Table(title=Text.assemble((lay.title, "bold"), f" ({lay.n_rows} x {lay.n_cols} cells): {title}"),
                  show_header=False, title_justify="left")
    ncols = min(lay.n_cols, PREVIEW_COLS)
    for _col in range(ncols):
        table.add_column(overflow="ellipsis", no_wrap=True, max_width=30)
    for row in lay.rows[1:PREVIEW_ROWS]:
        cells = [_show(c) for c in row[:ncols]]
        table.add_row(*(Text(c) for c in cells + [""] * (ncols - len(cells))))
    return table


def _show(cell: Cell) -> str:
    """A rough rendering of the number format ('12.3%', '$15,230', '41.3 days')."""
    v = cell.value
    if v is None or isinstance(v, str):
        return v or ""
    pattern = cell.fmt.pattern if cell.fmt else ""
    if pattern.endswith("%"):
        return f"{v:.1%}"
    unit = pattern.rsplit('"', 2)[1] if pattern.endswith('"') else ""
    if pattern.startswith('"'):
        return f"{pattern.split(chr(34))[1]}{v:,.0f}"
    if "#,##0 " in pattern and unit and "CURRENCY" == (cell.fmt.type if cell.fmt else ""):
        return f"{v:,.0f} {unit}"
    return f"{v:,.1f}{unit if unit == '×' else (' ' + unit if unit else '')}"


def print_dry_run(report: Any, console: Console) -> None:
    for lay in report.layouts:
        console.print(layout_table(lay))
    console.print(_("dry run: would send {requests} requests (1 spreadsheets.get + 1 spreadsheets.batchUpdate "
                    "with {sub} sub-requests, {kb:.1f} KB) for {tabs} tabs; computed in {seconds:.2f} s").format(
        requests=report.api_requests, sub=report.sub_requests, kb=report.bytes_sent / 1024, tabs=len(report.tabs),
        seconds=report.compute_seconds))


def print_report(report: Any, console: Console) -> None:
    console.print(f"{datetime.now():%H:%M:%S} " + _(
        "synced {tabs} tabs to {spreadsheet}: {requests} requests ({sub} sub-requests, {kb:.1f} KB); "
        "compute {compute:.2f} s, write {write:.2f} s").format(
        tabs=len(report.tabs), spreadsheet=report.spreadsheet_id, requests=report.api_requests, sub=report.sub_requests,
        kb=report.bytes_sent / 1024, compute=report.compute_seconds, write=report.write_seconds))

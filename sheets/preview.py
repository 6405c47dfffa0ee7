"""What the command line shows: progress while computing, the dry-run plan, the sync summary (edge)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .compute import steps
from .config import WorkbookConfig
from .layout import TabLayout

PREVIEW_ROWS, PREVIEW_COLS = 12, 8


@contextmanager
def progress_for(cfg: WorkbookConfig, console: Console) -> Iterator[Callable[[str], None]]:
    """A Rich progress bar over the core calls of one sync; yields the ``on_step`` callback."""
    total = steps(cfg, cfg.tabs)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task("computing", total=total)

        def step(label: str) -> None:
            progress.update(task, advance=1, description=f"computing {label}")

        yield step


def layout_table(lay: TabLayout) -> Table:
    """The first rows and columns of a tab, values shown as Sheets would format them (roughly)."""
    table = Table(title=f"{lay.title}  ({lay.n_rows} x {lay.n_cols} cells, frozen {lay.frozen_rows}r/{lay.frozen_cols}c)",
                  show_header=False, title_justify="left")
    for _ in range(min(lay.n_cols, PREVIEW_COLS)):
        table.add_column(overflow="ellipsis", max_width=28)
    for row in lay.rows[:PREVIEW_ROWS]:
        cells = [_show(c.value, c.fmt.type if c.fmt else None) for c in row[:PREVIEW_COLS]]
        table.add_row(*(cells + [""] * (min(lay.n_cols, PREVIEW_COLS) - len(cells))))
    return table


def _show(value: Any, kind: str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if kind == "PERCENT":
        return f"{value:.1%}"
    return f"{value:,.2f}"


def print_dry_run(report: Any, console: Console) -> None:
    for lay in report.layouts:
        console.print(layout_table(lay))
    console.print(f"dry run: would send {report.api_requests} requests (1 spreadsheets.get + 1 spreadsheets.batchUpdate "
                  f"with {report.sub_requests} sub-requests, {report.bytes_sent / 1024:.1f} KB) "
                  f"for {len(report.tabs)} tabs; computed in {report.compute_seconds:.2f} s")


def print_report(report: Any, console: Console) -> None:
    console.print(f"synced {len(report.tabs)} tabs to {report.spreadsheet_id}: {report.api_requests} requests "
                  f"({report.sub_requests} sub-requests, {report.bytes_sent / 1024:.1f} KB); "
                  f"compute {report.compute_seconds:.2f} s, write {report.write_seconds:.2f} s")

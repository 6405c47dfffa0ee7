"""``kpi sheets sync``: the command line of the Sheets sync (edge layer; registered via entry point).

    kpi sheets sync --spreadsheet 1AbC...            once
    kpi sheets sync --every 1h                       now, then every hour (APScheduler)
    kpi sheets sync                                  once, or on sheets.every / sheets.cron when set
    kpi sheets sync --every once                     once, whatever the settings say
    kpi sheets sync --dry-run                        the planned tabs and request count; no network
    kpi sheets sync --xlsx kpis.xlsx                 the same tabs as an Excel file; no Google account
    kpi sheets sync --tab "KPIs by month" --as-of 2026-11-27 --definitions path/to/definitions.yaml

User errors propagate to ``kpi``'s edge (one clean line, exit 1); in a repeated run they are
printed and the schedule goes on.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Optional

import typer
from rich.console import Console
from rich.markup import escape

from metrics_core.errors import ConfigError, KpiUserError
from metrics_core.i18n import gettext as _, help_gettext as _h, ngettext

from .config import parse_every
from .preview import print_dry_run, print_report, progress_for

console = Console(stderr=True, emoji=False)


def register(app: typer.Typer) -> None:
    """Add ``kpi sheets ...`` to the main command line (the ``kpi.cli`` entry point)."""
    sheets_app = typer.Typer(help=_h("Keep KPI tabs current in Google Sheets, or write them to .xlsx."),
                             no_args_is_help=True)
    sheets_app.command("sync", help=_h("Compute the workbook's tabs and write them: one read and one atomic write per sync."))(sync_command)
    app.add_typer(sheets_app, name="sheets")


def sync_command(
    spreadsheet: Optional[str] = typer.Option(None, "--spreadsheet", help=_h("Spreadsheet id or URL (else sheets.spreadsheet).")),
    tab: Optional[str] = typer.Option(None, "--tab", help=_h("Sync only this tab (name or key).")),
    dry_run: bool = typer.Option(False, "--dry-run", help=_h("Print the planned tabs and request count; send nothing.")),
    every: Optional[str] = typer.Option(None, "--every", help=_h("Repeat: 15m, 1h, 1d; 'once' ignores sheets.every / sheets.cron.")),
    xlsx: Optional[Path] = typer.Option(None, "--xlsx", help=_h("Write an .xlsx workbook instead of Google Sheets.")),
    as_of: Optional[str] = typer.Option(None, "--as-of", help=_h("Compute as of this date (YYYY-MM-DD).")),
    definitions: Optional[Path] = typer.Option(None, "--definitions", "-d", help=_h("definitions.yaml (else KPI_DEFINITIONS or ./).")),
    no_rollups: bool = typer.Option(False, "--no-rollups", help=_h("Compute from the raw tables, never from rollups.")),
) -> None:
    """Compute the workbook's tabs and write them: one read and one atomic write per sync."""
    from metrics_core.cli import guarded, skip_rollups  # the core's edge: one clean line and exit 1 on a user error

    if no_rollups:
        skip_rollups()
    guarded(lambda: _sync(spreadsheet, tab, dry_run, every, xlsx, as_of, definitions))


def _sync(spreadsheet: str | None, tab: str | None, dry_run: bool, every: str | None, xlsx: Path | None,
          as_of: str | None, definitions: Path | None) -> None:
    from metrics_core.cli import open_kpi, parse_as_of  # the core's: same result cache as `kpi query`

    from .workbook import workbook_for

    day = parse_as_of(as_of)
    if every and every.strip().lower() != "once":
        try:  # before any work: "--every 10s" is the user's mistake (exit 1), not an internal error
            parse_every(every)
        except ValueError as e:
            raise ConfigError("--every: " + str(e)) from None  # the reason is worded by parse_every
    kpi = open_kpi(definitions)
    cfg = workbook_for(kpi)
    job = _job(kpi, spreadsheet=spreadsheet, tab=tab, dry_run=dry_run, xlsx=xlsx, as_of=day)
    every, cron = _schedule(every, cfg.every, cfg.cron, dry_run)
    if every or cron:
        repeat(job, every=every, cron=cron)
    else:
        job()


def _schedule(flag: str | None, every: str | None, cron: str | None, dry_run: bool) -> tuple[str | None, str | None]:
    """--every beats sheets.every / sheets.cron; ``--every once`` and --dry-run run a single sync."""
    if dry_run or (flag or "").strip().lower() == "once":
        return None, None
    if flag:
        return flag, None
    return (every, None) if every else (None, cron)


def _job(kpi: Any, *, spreadsheet: str | None, tab: str | None, dry_run: bool, xlsx: Path | None,
         as_of: date | None) -> Callable[[], None]:
    from .pipeline import export_xlsx, sync
    from .workbook import select_tabs, workbook_for

    def run() -> None:
        cfg = select_tabs(workbook_for(kpi), tab)
        with progress_for(cfg, console) as step:
            if xlsx is not None:
                path = export_xlsx(kpi, xlsx, as_of=as_of, tab=tab, on_step=step)
                n = len(cfg.titles())
                console.print(ngettext("wrote {path} ({count} tab)", "wrote {path} ({count} tabs)", n)
                              .format(path=escape(str(path)), count=n))
                return
            report = sync(kpi, spreadsheet=spreadsheet, tab=tab, as_of=as_of, dry_run=dry_run, on_step=step)
        (print_dry_run if dry_run else print_report)(report, console)

    return run


def repeat(job: Callable[[], None], *, every: str | None, cron: str | None) -> None:
    """Run ``job`` now and then on the schedule until Ctrl-C; one failed run does not stop the next."""
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    trigger = IntervalTrigger(seconds=parse_every(every).total_seconds()) if every else CronTrigger.from_crontab(cron)
    scheduler = BlockingScheduler()
    scheduler.add_job(_guarded(job), trigger, next_run_time=datetime.now().astimezone(),
                      max_instances=1, coalesce=True, misfire_grace_time=300)
    console.print(_("syncing every {every}; Ctrl-C to stop").format(every=every) if every
                  else _("syncing on cron {cron}; Ctrl-C to stop").format(cron=cron))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=False)


def _guarded(job: Callable[[], None]) -> Callable[[], None]:
    """``job`` for the scheduler's threads, which start with an empty context: each run gets a copy of
    the command's (its language), and a failed run is one line."""
    import contextvars

    command = contextvars.copy_context()

    def attempt() -> None:
        try:
            job()
        except KpiUserError as e:
            word = _("sync failed:")  # outside the f-string, so that `make i18n` extracts it
            console.print(f"[red]{word}[/red] {escape(str(e))}")

    def run() -> None:
        command.run(contextvars.copy_context).run(attempt)

    return run

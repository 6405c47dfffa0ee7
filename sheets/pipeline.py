"""One sync: compute every tab, lay it out, then one read + one atomic write (orchestration layer).

    report = sync(kpi, spreadsheet="1AbC...")           # Google Sheets
    report = sync(kpi, dry_run=True)                    # plan only: no credentials, no network
    export_xlsx(kpi, "kpis.xlsx")                       # the same tabs as an Excel file

When computing fails (a metric that cannot be answered), the status tab alone is written with the
error, and the report tabs keep the previous sync's numbers.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

from metrics_core.errors import ConfigError, KpiUserError
from metrics_core.i18n import gettext as _, active_locale, use_locale

from .compute import Computer, compute_tab, data_quality, data_through, metric_docs
from .config import WorkbookConfig
from .layout import TabLayout, layout_definitions, layout_status, layout_tab
from .plan import SpreadsheetState, plan_requests
from .quality import layout_quality
from .report import SyncStatus
from .workbook import select_tabs, workbook_for
from .writer import encode, read_state, write

_ID_IN_URL = re.compile(r"/spreadsheets/d/([A-Za-z0-9_-]+)")
_ID = re.compile(r"[A-Za-z0-9_-]{10,200}")  # Google's id alphabet: nothing that could be a path or query


@dataclass(frozen=True)
class SyncReport:
    spreadsheet_id: str | None
    tabs: tuple[str, ...]
    sub_requests: int  # requests inside the one batchUpdate
    api_requests: int  # HTTP requests to the Sheets API (planned ones on a dry run)
    bytes_sent: int  # JSON size of the batchUpdate body
    compute_seconds: float
    write_seconds: float = 0.0
    dry_run: bool = False
    layouts: tuple[TabLayout, ...] = ()


def spreadsheet_id(arg: str | None, cfg: WorkbookConfig) -> str:
    """``--spreadsheet`` beats the config; a full sheet URL is accepted and cut to its id."""
    raw = (arg or cfg.spreadsheet or "").strip()
    if not raw:
        raise ConfigError(_("no spreadsheet: pass --spreadsheet ID or set sheets.spreadsheet in definitions.yaml "
                            "(the id is the part of the sheet's URL between /d/ and /edit)"))
    m = _ID_IN_URL.search(raw)
    sid = m.group(1) if m else raw
    if not _ID.fullmatch(sid):
        raise ConfigError(_("'{text}' is not a spreadsheet id: an id is 10 or more letters, digits, - and _ "
                            "(the part of the sheet's URL between /d/ and /edit), or pass the whole URL")
                          .format(text=raw[:100]))
    return sid


def _calendar(kpi: Any) -> str:
    cal = getattr(getattr(kpi, "definitions", None), "calendar", None)
    return getattr(cal, "timezone", None) or "UTC"


def _source(kpi: Any) -> str:
    """"definitions.yaml · duckdb" (``kpi.dialect`` does not connect; ``kpi.backend`` would)."""
    src = getattr(getattr(kpi, "loaded", None), "source", None) or getattr(kpi, "source", None)
    dialect = getattr(kpi, "dialect", None)
    return " · ".join(str(s) for s in (src or "definitions.yaml", dialect) if isinstance(s, str) and s)


def build_layouts(kpi: Any, cfg: WorkbookConfig, *, as_of: date | None = None, now: datetime | None = None,
                  on_step: Callable[[str], None] = lambda s: None, workers: int = 4) -> list[TabLayout]:
    """Every managed tab's cells, status tab last (its 'Result' says ok: it is only sent with them).

    Words and number formats follow ``locale:`` of the definitions (pl_PL: "Metryka", "15 230 zł").
    """
    tz = _calendar(kpi)
    now = now or datetime.now(ZoneInfo(tz))
    with use_locale(_locale(kpi)):
        comp = Computer(kpi, as_of, on_step, workers)
        comp.prefetch(cfg.tabs)
        tabs = [compute_tab(comp, t, now, tz) for t in cfg.tabs]
        layouts = [layout_tab(t) for t in tabs]
        if cfg.definitions_tab:
            layouts.append(layout_definitions("definitions", cfg.definitions_tab, metric_docs(kpi), _source(kpi)))
        if cfg.quality_tab and hasattr(kpi, "doctor"):
            on_step(cfg.quality_tab)
            report = data_quality(kpi, as_of or now.date())
            layouts.append(layout_quality("quality", cfg.quality_tab, report, _locale(kpi)))
        if cfg.status_tab:
            layouts.append(_status(kpi, cfg, now, tz, _("ok"), tuple(lay.title for lay in layouts), as_of))
        return layouts


def _locale(kpi: Any) -> str:
    return active_locale() or getattr(getattr(getattr(kpi, "definitions", None), "locale", None), "locale", None) or "en_US"


def _status(kpi: Any, cfg: WorkbookConfig, now: datetime, tz: str, result: str, tabs: tuple[str, ...],
            as_of: date | None) -> TabLayout:
    through = None
    try:
        through = data_through(kpi)
    except Exception:  # freshness is a nice-to-have on the status tab, never a reason to fail a sync
        through = None
    status = SyncStatus(now, tz, result, _source(kpi), as_of or now.date(), through, tabs)
    return layout_status("status", cfg.status_tab or "Sync status", status)


def plan(layouts: list[TabLayout], state: SpreadsheetState) -> tuple[list[dict[str, Any]], int]:
    """The batchUpdate requests and the size of their JSON body in bytes."""
    requests = plan_requests(layouts, state)
    return requests, len(encode(requests))


def sync(kpi: Any, *, spreadsheet: str | None = None, tab: str | None = None, as_of: date | None = None,
         client: Any = None, dry_run: bool = False, on_step: Callable[[str], None] = lambda s: None,
         cfg: WorkbookConfig | None = None, workers: int = 4) -> SyncReport:
    """Compute, lay out and write the workbook: 1 spreadsheets.get + 1 spreadsheets.batchUpdate."""
    cfg = select_tabs(cfg or workbook_for(kpi), tab)
    sid = spreadsheet_id(spreadsheet, cfg) if not dry_run or spreadsheet or cfg.spreadsheet else None
    if not dry_run and client is None:
        client = client_for(kpi, cfg)
    t0 = time.perf_counter()
    layouts = _compute(kpi, cfg, as_of, on_step, workers, report_to=None if dry_run else (client, sid))
    compute = time.perf_counter() - t0
    if dry_run:
        requests, size = plan(layouts, SpreadsheetState(sid or "", ""))
        return SyncReport(sid, _titles(layouts), len(requests), 2, size, compute, dry_run=True, layouts=tuple(layouts))
    t1 = time.perf_counter()
    requests, size = plan(layouts, read_state(client, sid))  # type: ignore[arg-type]
    write(client, sid, requests)  # type: ignore[arg-type]
    return SyncReport(sid, _titles(layouts), len(requests), 2, size, compute, time.perf_counter() - t1,
                      layouts=tuple(layouts))


def _compute(kpi: Any, cfg: WorkbookConfig, as_of: date | None, on_step: Callable[[str], None], workers: int,
             report_to: tuple[Any, str | None] | None) -> list[TabLayout]:
    """The layouts; on failure, the status tab says so (when there is a sheet to report to)."""
    try:
        return build_layouts(kpi, cfg, as_of=as_of, on_step=on_step, workers=workers)
    except Exception as e:
        if report_to is not None and cfg.status_tab:
            _report_failure(kpi, cfg, report_to[0], report_to[1], as_of, e)  # type: ignore[arg-type]
        raise


def _titles(layouts: list[TabLayout]) -> tuple[str, ...]:
    return tuple(lay.title for lay in layouts)


def _report_failure(kpi: Any, cfg: WorkbookConfig, client: Any, sid: str, as_of: date | None,
                    error: Exception) -> None:
    """Write only the status tab, saying what failed; the report tabs keep their last numbers."""
    tz = _calendar(kpi)
    now = datetime.now(ZoneInfo(tz))
    with use_locale(_locale(kpi)):
        what = (str(error).splitlines()[0] if isinstance(error, KpiUserError)
                else _("internal error ({kind})").format(kind=type(error).__name__))
        layout = _status(kpi, cfg, now, tz, _("failed: {error}").format(error=what), (), as_of)
    try:
        write(client, sid, plan_requests([layout], read_state(client, sid)))
    except Exception:  # noqa: BLE001 - best effort: the original error is the one to show
        pass


def client_for(kpi: Any, cfg: WorkbookConfig) -> Any:
    """A gspread client from the configured or environment credentials."""
    from .auth import credentials_path, load_service_account, open_client

    base = getattr(kpi, "base_dir", None) or getattr(getattr(kpi, "loaded", None), "base_dir", None) or "."
    return open_client(load_service_account(credentials_path(cfg.credentials, base)))


def export_xlsx(kpi: Any, path: str | Path, *, as_of: date | None = None, tab: str | None = None,
                on_step: Callable[[str], None] = lambda s: None) -> Path:
    """The workbook as an .xlsx file (same tabs, values and number formats as the Sheets sync)."""
    from .xlsx import write_xlsx

    cfg = select_tabs(workbook_for(kpi), tab)
    return write_xlsx(build_layouts(kpi, cfg, as_of=as_of, on_step=on_step), path)

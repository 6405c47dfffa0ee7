"""`kpi doctor` in the terminal: a Rich table of findings (edge layer; prints, computes nothing).

User data (values, ids) goes into ``Text`` cells, never through Rich markup, so a value like
``[/red]`` prints as itself.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .doctor import DoctorReport, Finding
from .formatting import fmt_count, fmt_value
from .i18n import N_, _
from .periods import Calendar, period_label

STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}
# Message ids; shown with _() in the active language (kpi doctor runs in the definitions' one).
HEADERS = {"severity": N_("severity"), "finding": N_("finding"), "rows": N_("rows"),
           "metrics": N_("metrics it moves"), "shift": N_("shift in metrics"), "examples": N_("example ids")}
SUMMARY = N_("{tables} tables checked as of {as_of}: {errors} errors, {warnings} warnings, {infos} notes.")
IN_PERIOD = N_("{rows} of {total} ({share}) in {period}")
NOTHING = N_("No problems found.")
SEVERITY = {"error": N_("error"), "warning": N_("warning"), "info": N_("info")}


def render_doctor(out: Console, report: DoctorReport, cal: Calendar, locale: str = "en_US") -> None:
    period = period_label(report.period, cal, locale)
    if report.findings:
        table = Table(show_lines=True, expand=False)
        for key in ("severity", "finding", "rows", "metrics", "shift", "examples"):
            table.add_column(_(HEADERS[key]), overflow="fold", justify="right" if key == "rows" else "left")
        for f in report.findings:
            table.add_row(Text(_(SEVERITY.get(f.severity, f.severity)), style=STYLE[f.severity]), Text(f.message),
                          Text(_rows(f, period, locale)), Text(_moves(f)),
                          Text("\n".join(s.text for s in f.shifts)), Text(", ".join(f.examples)))
        out.print(table)
    else:
        out.print(Text(_(NOTHING), style="green"))
    out.print(Text(_(SUMMARY).format(tables=len(report.tables), as_of=report.as_of.isoformat(),
                                  errors=report.count("error"), warnings=report.count("warning"),
                                  infos=report.count("info")), style="dim"))


def _rows(f: Finding, period: str, locale: str) -> str:
    text = fmt_count(f.count, locale) if f.count else "–"
    if f.period_total:
        share = fmt_value(f.period_share or 0.0, "percent", locale)
        text += "\n" + _(IN_PERIOD).format(rows=fmt_count(f.period_rows or 0, locale),
                                         total=fmt_count(f.period_total, locale), share=share, period=period)
    return text


def _moves(f: Finding) -> str:
    """The metrics it moves (their shifts, "win_rate Apr 2026: 80.0% → 83.3% ...", have a column of their own)."""
    return ", ".join(f.metrics[:6]) + (" …" if len(f.metrics) > 6 else "")

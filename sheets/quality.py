"""The "Data quality" tab: ``kpi doctor``'s findings as cells (pure; layer: layout).

One row per finding, worst first, with the numbers as numbers (rows, rows in the checked period and
their share) so the sheet can sort and chart them::

    row 1  Data quality as of 2026-11-27 · shifts counted in Oct 2026
    row 2  Severity  Check  Table  Subject  Rows  Rows in period  Of rows in period  Share  Metrics it moves  Example ids  Finding  Shift in metrics
    row 3  warning   blank_dimension  deals  source  3000  125  756  16.5%  avg_deal_size, ...  D00000003, ...  3000 rows ...
    (the last column: "win_rate Oct 2026: 24.1% → 25.3% if these values were mapped", or the rows' share)
"""

from __future__ import annotations

from typing import Any

from metrics_core.i18n import N_, gettext as _
from metrics_core.periods import window_label

from .formats import number_format
from .layout import DIM_WIDTH, LABEL_WIDTH, TEXT_WIDTH, VALUE_WIDTH, Cell, TabLayout, text

# Message ids (English); the tab shows them in the active language (the sync runs in the definitions' one).
TITLE = N_("Data quality as of {as_of} · shifts counted in {period}")
CLEAN = N_("No problems found.")
HEAD = (N_("Severity"), N_("Check"), N_("Table"), N_("Subject"), N_("Rows"), N_("Rows in period"),
        N_("Of rows in period"), N_("Share"), N_("Metrics it moves"), N_("Example ids"), N_("Finding"),
        N_("Shift in metrics"))
SEVERITY = {"error": N_("error"), "warning": N_("warning"), "info": N_("info")}
TONE = {"error": "bad", "warning": "bad"}


def layout_quality(key: str, title: str, report: Any, locale: str = "en_US") -> TabLayout:
    count = number_format("number", decimals=0, locale=locale)
    share = number_format("percent", decimals=1, locale=locale)
    rows: list[tuple[Cell, ...]] = [
        (text(_(TITLE).format(as_of=report.as_of.isoformat(), period=window_label(report.period, locale)), True),),
        tuple(text(_(h), True) for h in HEAD)]
    for f in report.findings:
        severity = _(SEVERITY[f.severity]) if f.severity in SEVERITY else f.severity
        rows.append((Cell(severity, tone=TONE.get(f.severity)), text(f.check), text(f.table), text(f.subject),
                     Cell(f.count, count), Cell(f.period_rows, count), Cell(f.period_total, count),
                     Cell(f.period_share, share), text(", ".join(f.metrics) or None), text(", ".join(f.examples) or None),
                     text(f.message), text("\n".join(x.text for x in getattr(f, "shifts", ())) or None)))
    if not report.findings:
        rows.append((text(_(CLEAN)),))
    widths = (VALUE_WIDTH, DIM_WIDTH, DIM_WIDTH, DIM_WIDTH, VALUE_WIDTH, VALUE_WIDTH, VALUE_WIDTH, VALUE_WIDTH,
              LABEL_WIDTH, LABEL_WIDTH, TEXT_WIDTH * 2, TEXT_WIDTH)
    return TabLayout(key, title, tuple(rows), frozen_rows=2, frozen_cols=1, widths=widths)

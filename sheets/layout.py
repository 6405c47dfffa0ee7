"""Report data -> a grid of cells with formats (pure; no gspread, no openpyxl).

Positions are stable: they depend only on the configuration (metrics in config order, breakdown
values in configured or sorted order), never on which numbers came back, so a user's formulas and
charts that point at ``B3`` keep pointing at the same metric and period column every run::

    row 1  Win rates · Dec 2025 – Nov 2026 (2025-12-01 to 2026-11-27) · updated 2026-11-27 09:15 (UTC)
    row 2  Metric        Dec 2025  ...  Nov 2026  Target  Status       Why       <- frozen, bold
    row 3  Win rate      31.0%     ...  28.4%     30.0%   behind pace  closed deals 1,410 → 1,502 (−1.6 pp)

Words come from the catalog of the active language (the sync runs in ``locale:`` of the definitions):
pl_PL "Metryka ... Cel  Status / poniżej tempa"; number formats follow ``TabData.locale``.
"""

from __future__ import annotations

from dataclasses import dataclass

from metrics_core.formatting import fmt_count, status_words
from metrics_core.i18n import gettext as _, ngettext, pgettext

from .formats import NumberFormat, number_format
from .report import MetricDoc, MetricRow, SyncStatus, TabData

LABEL_WIDTH, DIM_WIDTH, VALUE_WIDTH, TEXT_WIDTH = 220, 140, 95, 320
TONES = {"met": "good", "ahead": "good", "on_track": "good", "behind": "bad", "missed": "bad"}
RGB = {"good": (0.0, 0.5, 0.0), "bad": (0.8, 0.0, 0.0),  # text colours of the Status column
       "maturing": (0.6, 0.6, 0.6)}  # grey: a conversion rate whose cohort may still convert


@dataclass(frozen=True)
class Cell:
    value: float | int | str | None = None  # strings are always written as text, never formulas
    fmt: NumberFormat | None = None
    bold: bool = False
    tone: str | None = None  # "good" | "bad": a target status, green or red; "maturing": a rate still rising, grey
    note: str | None = None  # a cell note (the fine print): rows left out, a rate still maturing


@dataclass(frozen=True)
class TabLayout:
    key: str  # identity of the managed tab
    title: str
    rows: tuple[tuple[Cell, ...], ...]
    frozen_rows: int = 0
    frozen_cols: int = 0
    widths: tuple[int, ...] = ()  # pixels, per column from A

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    @property
    def n_cols(self) -> int:
        return max((len(r) for r in self.rows), default=0)

    def cell(self, a1: str) -> Cell:
        """The cell at ``"B3"`` (blank when outside the grid): handy in tests and docs."""
        col = ord(a1[0].upper()) - 65
        row = int(a1[1:]) - 1
        cells = self.rows[row] if row < len(self.rows) else ()
        return cells[col] if col < len(cells) else Cell()


def text(value: str | None, bold: bool = False) -> Cell:
    return Cell(None if value is None else str(value), None, bold)


def title_line(tab: TabData) -> str:
    if not tab.periods:
        return tab.title
    first, last = tab.periods[0], tab.periods[-1]
    window = f"{first.label} – {last.label}" if len(tab.periods) > 1 else first.label
    # TRANSLATORS: the dates of a tab, e.g. "(2025-12-01 to 2026-11-27)"
    dates = _("({start} to {end})").format(start=first.start.isoformat(), end=last.end.isoformat())
    # TRANSLATORS: when a tab was written, e.g. "updated 2026-11-27 09:15 (UTC)"
    updated = _("updated {time} ({timezone})").format(time=f"{tab.updated:%Y-%m-%d %H:%M}", timezone=tab.timezone)
    return f"{tab.title} · {window} {dates} · {updated}"


def layout_tab(tab: TabData) -> TabLayout:
    """The cells of a metrics x periods tab, with a block per breakdown value when asked."""
    rows_style = tab.by is not None and tab.style == "rows"
    head = [text(_("Metric"), True)] + ([text(tab.by.title(), True)] if rows_style else [])
    head += [text(p.label, True) for p in tab.periods]
    # TRANSLATORS: a column head in Sheets: what moved the last period's number (its biggest factor)
    head += [text(_("Target"), True), text(_("Status"), True), text(pgettext("sheets", "Why"), True)] if tab.targets else []
    grid: list[tuple[Cell, ...]] = [(text(title_line(tab), True),), tuple(head)]
    grid += _body(tab, rows_style)
    lead = 2 if rows_style else 1
    widths = (LABEL_WIDTH,) + ((DIM_WIDTH,) if rows_style else ()) + (VALUE_WIDTH,) * (len(head) - lead
                                                                                  - (1 if tab.targets else 0))
    widths += (TEXT_WIDTH,) if tab.targets else ()
    return TabLayout(tab.key, tab.title, tuple(grid), frozen_rows=2, frozen_cols=lead, widths=widths)


def _body(tab: TabData, rows_style: bool) -> list[tuple[Cell, ...]]:
    index = {(r.group, r.metric): r for r in tab.rows}
    metrics = list(dict.fromkeys((r.metric, r.label) for r in tab.rows))
    groups: list[str | None] = list(tab.groups) if tab.by else [None]
    out: list[tuple[Cell, ...]] = []
    for n, group in enumerate(groups):
        if tab.by and not rows_style:
            out += ([()] if n else []) + [(text(f"{tab.by.title()}: {group}", True),)]
        for metric, label in metrics:
            row = index.get((group, metric))
            notes = "\n".join(row.notes) if row is not None and row.notes else None
            lead = [Cell(label, note=notes)] + ([text(group)] if rows_style else [])
            out.append(tuple(lead + _value_cells(row, len(tab.periods), tab.targets, tab.locale)))
    return out


def _value_cells(row: MetricRow | None, n: int, targets: bool, locale: str = "en_US") -> list[Cell]:
    if row is None:
        return [Cell()] * (n + (3 if targets else 0))
    fmt = number_format(row.format, row.currency, row.decimals, locale)
    grey = row.maturing or (False,) * len(row.values)
    # TRANSLATORS: a cell note on a grey conversion rate in Sheets
    still = _("still maturing: the conversion window of some of this cohort is still open, so the rate may still rise")
    left = row.excluded or (None,) * len(row.values)  # rows of the cell left out: said in its note
    few = row.small or (None,) * len(row.values)  # a cell resting on few rows: said in its note
    cells = [Cell(_number(v), fmt, tone="maturing" if g else None,
                  note="\n".join(x for x in (still if g else None, _few(n, locale), why) if x) or None)
             for v, g, why, n in zip(row.values, grey, left, few)]
    cells += [Cell()] * (n - len(cells))
    if targets:
        status = status_words(row.status) if row.status else None
        cells += [Cell(_number(row.target), fmt), Cell(status, tone=TONES.get(row.status or "")), text(row.why)]
    return cells


def _few(n: int | None, locale: str) -> str | None:
    """A small-sample cell's note: "⚠ small sample: only 3 rows behind this number"."""
    if n is None:
        return None
    return ngettext("⚠ small sample: only {count} row behind this number",
                    "⚠ small sample: only {count} rows behind this number", n).format(count=fmt_count(n, locale))


def _number(v: float | None) -> float | None:
    """A plain float for the API (NaN and inf become blank cells)."""
    if v is None:
        return None
    f = float(v)
    return None if f != f or f in (float("inf"), float("-inf")) else f


def _format_word(kind: str) -> str:
    words = {"number": _("number"), "currency": _("currency"), "percent": _("percent"), "days": _("days"),
             "months": _("months"), "ratio": _("ratio")}
    return words.get(kind, kind)


def layout_definitions(key: str, title: str, docs: list[MetricDoc], source: str) -> TabLayout:
    """The Definitions tab: what each metric means, where its number comes from, who owns it."""
    head = (_("Metric"), _("Name"), _("Description"), _("Formula"), _("Format"), _("Better"), _("Owner"))
    # TRANSLATORS: the title of the Definitions tab, e.g. "Metric definitions · from definitions.yaml · duckdb"
    rows = [(text(_("Metric definitions · from {source}").format(source=source), True),),
            tuple(text(h, True) for h in head)]
    for d in docs:
        fmt = f"{_format_word(d.format)} ({d.currency})" if d.format == "currency" and d.currency else _format_word(d.format)
        better = {"higher": _("higher"), "lower": _("lower")}.get(d.better, d.better)
        rows.append(tuple(text(v) for v in (d.label, d.name, d.description, d.formula, fmt, better, d.owner)))
    widths = (LABEL_WIDTH, DIM_WIDTH, TEXT_WIDTH, TEXT_WIDTH, DIM_WIDTH, VALUE_WIDTH, DIM_WIDTH)
    return TabLayout(key, title, tuple(rows), frozen_rows=2, frozen_cols=1, widths=widths)


def layout_status(key: str, title: str, status: SyncStatus) -> TabLayout:
    """The status tab: when the last sync ran, how it went, and where the numbers came from."""
    pairs = [
        (_("Last sync"), f"{status.updated:%Y-%m-%d %H:%M:%S} ({status.timezone})"),
        (_("Result"), status.result),
        (_("Source"), status.source),
        (_("As of"), status.as_of.isoformat()),
        (_("Data through"), status.data_through.isoformat() if status.data_through else _("unknown")),
        (_("Tabs"), ", ".join(status.tabs)),
        *status.extra,
    ]
    rows = [(text(_("kpi sync status"), True),)] + [(text(k, True), text(v)) for k, v in pairs]
    return TabLayout(key, title, tuple(rows), frozen_rows=1, frozen_cols=0, widths=(LABEL_WIDTH, TEXT_WIDTH * 2))

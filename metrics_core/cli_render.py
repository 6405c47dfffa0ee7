"""Rich rendering of answers for the terminal (edge layer; prints, computes nothing)."""

from __future__ import annotations

from typing import Any, Sequence

from rich.console import Console
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from .formatting import fmt_change, fmt_points
from .periods import period_label, window_label
from .result import MetricResult

MAX_ROWS = 25


def _change_text(r: MetricResult, locale: str) -> Text:
    c = r.comparison
    if c is None:
        return Text("")
    colour = "green" if c.improved else ("red" if c.improved is False else "white")
    arrow = "▲" if (c.absolute or 0) > 0 else ("▼" if (c.absolute or 0) < 0 else "•")
    label = "vs last year" if c.kind == "last-year" else "vs"
    # rates move in percentage points: "+1.8 pp" says more than "+7.3 %" of a 25 % win rate
    delta = fmt_points(c.absolute, locale) if r.format == "percent" else fmt_change(c.relative, locale)
    return Text.assemble((f"{arrow} {delta}", colour),
                         f"  {label} {c.formatted} ({window_label(c.period, locale)})")


def render_result(out: Console, r: MetricResult, kpi: Any) -> None:
    locale = kpi.definitions.locale.locale
    cal = kpi.calendar
    head = Text.assemble((r.formatted, "bold cyan"), "  ", (f"{period_label(r.period, cal, locale)}", "bold"),
                         f" · {window_label(r.period, locale)}")
    lines: list[Text] = [head, _change_text(r, locale)]
    if r.counted:
        lines.append(Text(f"counts: {r.counted}", style="dim"))
    if r.filters:
        lines.append(Text("filters: " + ", ".join(f"{k} in ({', '.join(v)})" for k, v in r.filters.items()), style="dim"))
    if r.target:
        t = r.target
        style = "green" if t.status in ("met", "on_track", "ahead") else "red"
        pace = f", on pace for {t.projected_formatted}" if t.projected_formatted else ""
        lines.append(Text.assemble("target ", (f"{t.formatted}: {t.status.replace('_', ' ')}", style), pace))
    if r.small_sample:
        lines.append(Text(f"⚠ small sample: only {r.sample_size} rows behind this number", style="yellow"))
    out.print(Panel(Text("\n").join([x for x in lines if x.plain]), title=f"{r.label}", title_align="left",
                    subtitle=f"as of {r.as_of.isoformat()}" + (" · cached" if r.cached else ""), subtitle_align="right"))
    if r.breakdown is not None and len(r.breakdown):
        _table(out, r.breakdown, list(r.dimensions), locale, show_prev=r.comparison is not None,
               percent=r.format == "percent")
    if r.series is not None and len(r.series):
        _table(out, r.series, ["label", *r.dimensions], locale, show_prev=False)


def _table(out: Console, df: Any, keys: Sequence[str], locale: str, *, show_prev: bool, percent: bool = False) -> None:
    t = Table(show_edge=False, pad_edge=False)
    for k in keys:
        t.add_column(k)
    t.add_column("value", justify="right")
    if show_prev and "change" in df.columns:
        t.add_column("change", justify="right")
    for _, row in df.head(MAX_ROWS).iterrows():
        cells = ["(none)" if row[k] is None else str(row[k]) for k in keys] + [row["formatted"]]
        if show_prev and "change" in df.columns:
            if percent:
                prev = row.get("previous")
                cells.append(fmt_points(row["value"] - prev) if prev == prev and prev is not None and row["value"] is not None else "–")
            else:
                cells.append(fmt_change(row["change"], locale) if row["change"] == row["change"] and row["change"] is not None else "–")
        t.add_row(*cells)
    out.print(t)
    if len(df) > MAX_ROWS:
        out.print(f"… and {len(df) - MAX_ROWS} more rows (use --json for all)", style="dim")


def render_sql(out: Console, sql: str, params: dict, dialect: str | None) -> None:
    if out.is_terminal:
        out.print(Syntax(sql, "sql", word_wrap=True))
    else:
        print(sql)
    if params:
        print("-- parameters: " + ", ".join(f"{k} = {v!r}" for k, v in params.items()))


def render_metrics(out: Console, infos: Sequence[Any]) -> None:
    if not out.is_terminal:  # piped: one plain line per metric, never cut
        for i in infos:
            print(f"{i.name}\t{i.label}\t{i.type}\t{i.format}\t{i.description}")
        return
    t = Table(show_edge=False, pad_edge=False)
    for col in ("metric", "label", "type", "format", "description"):
        t.add_column(col, overflow="fold")
    for i in infos:
        t.add_row(i.name, i.label, i.type, i.format, i.description)
    out.print(t)

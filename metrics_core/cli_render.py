"""Rich rendering of answers for the terminal (edge layer; prints, computes nothing)."""

from __future__ import annotations

from typing import Any, Sequence

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .columns import Columns
from .errors import redact
from .formatting import fmt_change, fmt_date, fmt_points, fmt_value, status_words, superscript
from .i18n import _, active_locale, ngettext, use_locale
from .periods import period_label, window_label
from .result import MetricResult

MAX_ROWS = 25


def _change_text(r: MetricResult, locale: str) -> Text:
    c = r.comparison
    if c is None:
        return Text("")
    colour = "green" if c.improved else ("red" if c.improved is False else "white")
    arrow = "▲" if (c.absolute or 0) > 0 else ("▼" if (c.absolute or 0) < 0 else "•")
    # rates move in percentage points: "+1.8 pp" says more than "+7.3 %" of a 25 % win rate
    delta = fmt_points(c.absolute, locale) if r.format == "percent" else fmt_change(c.relative, locale)
    window = window_label(c.period, locale)
    if c.kind == "last-year":
        # TRANSLATORS: the comparison after a change, e.g. "vs last year $1,200 (Jul 1 – Sep 30, 2025)"
        against = _("vs last year {value} ({window})").format(value=c.formatted, window=window)
    else:
        # TRANSLATORS: the comparison after a change, e.g. "vs $1,200 (Apr 1 – Jun 30, 2026)"
        against = _("vs {value} ({window})").format(value=c.formatted, window=window)
    return Text.assemble((f"{arrow} {delta}", colour), f"  {against}")


def render_result(out: Console, r: MetricResult, kpi: Any) -> None:
    """The answer as a panel (and its breakdown or series as a table), in the active language."""
    locale = active_locale() or kpi.definitions.locale.locale
    with use_locale(locale):
        _render_result(out, r, kpi, locale)


def _render_result(out: Console, r: MetricResult, kpi: Any, locale: str) -> None:
    cal = kpi.calendar
    name, window = period_label(r.period, cal, locale), window_label(r.period, locale)
    # the name of a range is its window: print it once ("1–27 lis 2026", not "1–27 lis 2026 · 1–27 lis 2026")
    head = Text.assemble((r.formatted, "bold cyan"), "  ", (name, "bold"), "" if name == window else f" · {window}")
    lines: list[Text] = [head, _change_text(r, locale)]
    if r.counted:
        # TRANSLATORS: what the number counts, e.g. "counts: 412 won deals of 1,508 closed deals"
        lines.append(Text(_("counts: {what}").format(what=r.counted), style="dim"))
    if r.where:
        lines.append(Text(_("filters: {filters}").format(filters=r.where), style="dim"))
    elif r.filters:
        # TRANSLATORS: one filter of the answer, e.g. "region in (EMEA, APAC)"
        each = [_("{dimension} in ({values})").format(dimension=k, values=", ".join(v)) for k, v in r.filters.items()]
        lines.append(Text(_("filters: {filters}").format(filters=", ".join(each)), style="dim"))
    if r.target:
        t = r.target
        style = "green" if t.status in ("met", "on_track", "ahead") else "red"
        pace = _(", on pace for {value}").format(value=t.projected_formatted) if t.projected_formatted else ""
        # TRANSLATORS: a target and its status, e.g. "target $1,000,000: behind pace"
        target = _("target {value}: {status}").format(value=t.formatted, status=status_words(t.status))
        lines.append(Text.assemble((target, style), pace))
    if r.small_sample:
        n = r.sample_size or 0
        lines.append(Text(ngettext("⚠ small sample: only {count} row behind this number",
                                   "⚠ small sample: only {count} rows behind this number", n).format(count=n),
                          style="yellow"))
    for note in r.notes:  # prorated or left-out windows, maturing cohorts: already whole sentences
        lines.append(Text("ⓘ " + note, style="yellow"))
    # TRANSLATORS: the day an answer is computed for, e.g. "as of Nov 27, 2026"
    subtitle = _("as of {date}").format(date=fmt_date(r.as_of, locale)) + (" · " + _("cached") if r.cached else "")
    out.print(Panel(Text("\n").join([x for x in lines if x.plain]), title=Text(r.label), title_align="left",
                    subtitle=subtitle, subtitle_align="right"))
    if r.breakdown_columns is not None and len(r.breakdown_columns):
        _table(out, r.breakdown_columns, list(r.dimensions), locale, show_prev=r.comparison is not None,
               percent=r.format == "percent")
    if r.series_columns is not None and len(r.series_columns):
        _table(out, r.series_columns, ["label", *r.dimensions], locale, show_prev=False)


def _table(out: Console, rows: Columns, keys: Sequence[str], locale: str, *, show_prev: bool,
           percent: bool = False) -> None:
    t = Table(show_edge=False, pad_edge=False)
    for k in keys:
        t.add_column(_("period") if k == "label" else k)
    t.add_column(_("value"), justify="right")
    show_change = show_prev and "change" in rows
    if show_change:
        t.add_column(_("change"), justify="right")
    rows_shown = rows.records()[:MAX_ROWS]
    marks = footnote_marks(rows_shown)
    flagged = any(_flag(row, locale) or row.get("excluded") for row in rows_shown)
    if flagged:
        # TRANSLATORS: a table column header: a row's own fine print (small sample, maturing)
        t.add_column(_("note"))
    for row in rows_shown:
        cells = [_("(none)") if row[k] is None else str(row[k]) for k in keys] + [row["formatted"]]
        if show_change:
            cells.append(_change_cell(row, locale, percent))
        if flagged:
            # TRANSLATORS: a breakdown row or bucket some of whose rows were left out; a footnote mark follows
            left = _("rows left out") + " " + marks[id(row)] if id(row) in marks else ""
            cells.append(", ".join(x for x in (_flag(row, locale), left) if x))
        t.add_row(*(Text(c) for c in cells))  # data values print as themselves, never as markup
    out.print(t)
    for row in rows_shown:  # which rows lost rows, and why: one footnote per row concerned
        if id(row) in marks:
            name = " / ".join(_("(none)") if row[k] is None else str(row[k]) for k in keys)
            out.print(Text(f"{marks[id(row)]} {name}: " + " ".join(e["note"] for e in row["excluded"])),
                      style="yellow")
    if len(rows) > MAX_ROWS:
        more = len(rows) - MAX_ROWS
        out.print(ngettext("… and {count} more row (use --json for all)", "… and {count} more rows (use --json for all)",
                           more).format(count=more), style="dim")


def footnote_marks(rows: Sequence[dict[str, Any]]) -> dict[int, str]:
    """A numbered footnote mark ("¹") for each row some of whose rows were left out, by ``id(row)``."""
    marks: dict[int, str] = {}
    for row in rows:
        if row.get("excluded"):
            marks[id(row)] = superscript(len(marks) + 1)
    return marks


def _flag(row: Any, locale: str) -> str:
    """A breakdown row's or series bucket's own fine print: few rows behind it, a cohort still converting."""
    parts = []
    if row.get("small_sample") is True:
        # TRANSLATORS: a breakdown row resting on few rows, e.g. "small sample (3)"
        parts.append(_("small sample ({count})").format(count=int(row.get("sample_size") or 0)))
    share = row.get("maturing")
    if share is not None and share == share and share > 0:
        # TRANSLATORS: a conversion cohort still inside its window, e.g. "maturing (37.2%)"
        parts.append(_("maturing ({share})").format(share=fmt_value(share, "percent", locale)))
    return ", ".join(parts)


def _change_cell(row: dict[str, Any], locale: str, percent: bool) -> str:
    """Rates change in points ("+1.8 pp"), everything else relatively ("+7.3%"); "–" when unknown."""
    value, prev, change = row["value"], row.get("previous"), row.get("change")
    if percent:
        return fmt_points(value - prev, locale) if value is not None and prev is not None else "–"
    return fmt_change(change, locale) if change is not None else "–"


def render_sql(out: Console, sql: str, params: dict, dialect: str | None) -> None:
    sql = redact(sql)  # a source: {sql: ...} or a path could hold a secret
    if out.is_terminal:
        from rich.syntax import Syntax  # Pygments: only for highlighted SQL on a terminal

        out.print(Syntax(sql, "sql", word_wrap=True))
    else:
        print(sql)
    if params:
        print(redact("-- parameters: " + ", ".join(f"{k} = {v!r}" for k, v in params.items())))


def render_metrics(out: Console, infos: Sequence[Any]) -> None:
    if not out.is_terminal:  # piped: one plain line per metric, never cut
        for i in infos:
            print(f"{i.name}\t{i.label}\t{i.type}\t{i.format}\t{i.description}")
        return
    t = Table(show_edge=False, pad_edge=False)
    for col in (_("metric"), _("label"), _("type"), _("format"), _("description")):
        t.add_column(col, overflow="fold")
    for i in infos:
        t.add_row(*(Text(str(x)) for x in (i.name, i.label, i.type, i.format, i.description)))
    out.print(t)


def render_many(out: Console, many: Any, kpi: Any) -> None:
    """Several metrics of one question: a table with a row per metric, then the breakdown and the series
    side by side (a column per metric), then each metric's fine print."""
    locale = active_locale() or kpi.definitions.locale.locale
    with use_locale(locale):
        _render_many(out, many, kpi, locale)


def _render_many(out: Console, many: Any, kpi: Any, locale: str) -> None:
    results = many.results
    first = results[0]
    name, window = period_label(first.period, kpi.calendar, locale), window_label(first.period, locale)
    # TRANSLATORS: the day an answer is computed for, e.g. "as of Nov 27, 2026"
    as_of = _("as of {date}").format(date=fmt_date(first.as_of, locale))
    title = Text.assemble((name, "bold"), "" if name == window else f" · {window}", ("  " + as_of, "dim"))
    compare = any(r.comparison is not None for r in results)
    t = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for col in (_("metric"), _("value")) + ((_("change"), _("previous")) if compare else ()):
        t.add_column(col, justify="left" if col == _("metric") else "right")
    for r in results:
        cells = [r.label, r.formatted]
        if compare:
            c = r.comparison
            row = {"value": r.value, "previous": c.value if c else None, "change": c.relative if c else None}
            cells += [_change_cell(row, locale, r.format == "percent"), c.formatted if c else "–"]
        t.add_row(*(Text(x) for x in cells))
    out.print(t)
    for part in ("breakdown", "series"):
        keys, rows = many.wide(part)
        if rows:
            _wide_table(out, results, keys, rows)
    for r in results:
        for line in ([_("small sample ({count})").format(count=r.sample_size or 0)] if r.small_sample else []) + list(r.notes):
            out.print(Text(f"ⓘ {r.label}: {line}", style="yellow"))


def _wide_table(out: Console, results: Sequence[MetricResult], keys: Sequence[str], rows: list) -> None:
    t = Table(show_edge=False, pad_edge=False)
    for k in keys:
        t.add_column(_("period") if k == "label" else k)
    for r in results:
        t.add_column(r.label, justify="right")
    for key, recs in rows[:MAX_ROWS]:
        cells = [_("(none)") if v is None else str(v) for v in key]
        cells += ["–" if rec is None else rec["formatted"] for rec in recs]
        t.add_row(*(Text(c) for c in cells))  # data values print as themselves, never as markup
    out.print(t)
    if len(rows) > MAX_ROWS:
        more = len(rows) - MAX_ROWS
        out.print(ngettext("… and {count} more row (use --json for all)", "… and {count} more rows (use --json for all)",
                           more).format(count=more), style="dim")

"""A MultiResult (several metrics in one question) -> Slack Block Kit (pure: no Slack, no I/O).

    blocks = render_many_blocks(many, query="win_rate, cac last-quarter by segment")
    text = render_many_text(many)      # "Q3 2026: Win rate 26.6% · Customer acquisition cost $20,671"

Layout: header (the metrics' labels) · window and filters · a table with a row per metric (value and
change) · the breakdown and the series side by side (a column per metric) · each metric's fine print ·
footer · Share. Trend, Explain and Follow are about one metric: ask for it alone to get them.
Every table is packed by ``render_table.grid_blocks`` so the message always fits Slack's limits.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from metrics_core import MultiResult
from metrics_core.i18n import gettext as _, use_locale
from metrics_core.periods import Calendar

from .labels import cut, delta_text, esc, period_name, window_text
from .render import HEADER_CHARS, _context, _footer, _notes, action_buttons
from .render_table import grid_blocks

LABEL_WIDTH = 14


def render_many_text(many: MultiResult, cal: Calendar | None = None, locale: str = "en_US") -> str:
    with use_locale(locale):
        first = many.results[0]
        values = " · ".join(f"{r.label} {r.formatted}" for r in many.results)
        return f"{period_name(first.period, cal, locale)}: {values}"


def render_many_blocks(many: MultiResult, *, query: str = "", freshness: date | None = None,
                       calendar: Calendar | None = None, locale: str = "en_US", ephemeral: bool = True,
                       buttons: bool = True, shared_by: str | None = None, max_rows: int = 30,
                       ref: str | None = None) -> list[dict[str, Any]]:
    """The answer message's blocks, in ``locale`` (words from its catalog, numbers and dates from Babel)."""
    with use_locale(locale):
        results = many.results
        first = results[0]
        header = cut(", ".join(r.label for r in results), HEADER_CHARS)
        blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}}]
        lines = [f"*{esc(window_text(first.period, calendar, locale))}*"]
        if first.filters:
            where = _(" and ").join(f"{k} = {', '.join(v)}" for k, v in first.filters.items())
            # TRANSLATORS: the filters of an answer, e.g. "where region = EMEA and segment = SMB"
            lines.append(_("where {filters}").format(filters=esc(where)))
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": cut("\n".join(lines), 3000)}})
        blocks += _totals(many, locale, max_rows)
        for part in ("breakdown", "series"):
            keys, rows = many.wide(part)
            if rows:
                blocks += _side_by_side(many, keys, rows, max_rows)
        notes = [f"*{esc(r.label)}*: {note}" for r in results for note in _notes(r, locale)]
        if notes:
            blocks.append(_context(notes))
        blocks.append(_context([_footer(first, query, freshness, shared_by, locale)]))
        if buttons and ephemeral:
            share = action_buttons(query, first.as_of, share=True, ref=ref)
            share["elements"] = [e for e in share["elements"] if e["action_id"] == "kpi_share"]
            blocks.append(share)
        return blocks[:50]


def _totals(many: MultiResult, locale: str, max_rows: int) -> list[dict[str, Any]]:
    compare = any(r.comparison is not None for r in many.results)
    # TRANSLATORS: table column headers: a metric, its value, the change against the previous period
    head = [_("metric"), _("value")] + ([_("vs prev")] if compare else [])
    rows = []
    for r in many.results:
        prev = r.comparison.value if r.comparison is not None else None
        rows.append([r.label, r.formatted] + ([delta_text(r.value, prev, r.format, locale) or "–"] if compare else []))
    return grid_blocks(head, rows, keys=1, max_rows=max_rows)


def _side_by_side(many: MultiResult, keys: list[str], rows: list, max_rows: int) -> list[dict[str, Any]]:
    head = [_("period") if k == "label" else k for k in keys] + [cut(r.label, LABEL_WIDTH) for r in many.results]
    body = [["∅" if v is None else str(v) for v in key] + ["–" if rec is None else str(rec["formatted"]) for rec in recs]
            for key, recs in rows]
    return grid_blocks(head, body, keys=len(keys), max_rows=max_rows)

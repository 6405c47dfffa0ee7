"""A MetricResult -> Slack Block Kit (pure: no Slack, no I/O; golden-tested in tests/bot/snapshots).

    blocks = render_blocks(result, query="win_rate last-quarter by region", freshness=date(2026, 11, 26))
    text = render_text(result)            # the notification / fallback text

Layout: header (label: big number) · window and change vs the previous period (coloured by whether
higher is better) · target status and pace · what was counted, small-sample warning · breakdown
table (cut to Slack's limits) · footer with data freshness · Trend / Explain / Follow (Unfollow when
the asker follows the metric; App Home, ``home.py``) / Share / Show records (the rows behind the number,
for metrics whose parts are measures) buttons.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from metrics_core.formatting import fmt_count, fmt_date
from metrics_core.i18n import gettext as _, ngettext, pgettext, use_locale
from metrics_core.periods import Calendar
from metrics_core.result import MetricResult

from .labels import change_line, cut, esc, esc_code, excerpt, period_name, target_line, window_text
from .render_table import table_blocks

HEADER_CHARS = 150
BUTTON_VALUE_CHARS = 2000
ACTION_TREND, ACTION_EXPLAIN, ACTION_SHARE = "kpi_trend", "kpi_explain", "kpi_share"
ACTION_FOLLOW, ACTION_UNFOLLOW = "kpi_follow", "kpi_unfollow"
ACTION_WHY = "kpi_why"
ACTION_RECORDS = "kpi_records"
ROW_ROLES = ("value", "numerator", "denominator", "base", "converted")  # components that are measures' rows


def render_text(result: MetricResult, cal: Calendar | None = None, locale: str = "en_US") -> str:
    with use_locale(locale):
        return f"{result.label} ({period_name(result.period, cal, locale)}): {result.formatted}"


def render_blocks(result: MetricResult, *, query: str = "", freshness: date | None = None,
                  calendar: Calendar | None = None, locale: str = "en_US", ephemeral: bool = True,
                  buttons: bool = True, shared_by: str | None = None, max_rows: int = 30,
                  ref: str | None = None, followed: bool = False) -> list[dict[str, Any]]:
    """The answer message's blocks. ``ephemeral`` adds the Share button; ``shared_by`` a "shared by" line;
    ``ref`` is what the buttons carry instead of a question too long for them (``refs.py``);
    ``followed``: the asker follows the metric, so its button says Unfollow.

    Words come from the catalog of ``locale``, numbers and dates from Babel for it.
    """
    with use_locale(locale):
        blocks: list[dict[str, Any]] = [_header(result), _summary(result, calendar, locale)]
        notes = _notes(result, locale)
        if notes:
            blocks.append(_context(notes))
        if result.dimensions:
            title = cut(result.label, 14)
            blocks += table_blocks(result.breakdown, result.dimensions, fmt=result.format,
                                   value_title=title, max_rows=max_rows)
        blocks.append(_context([_footer(result, query, freshness, shared_by, locale)]))
        if buttons:
            records = bool(result.components) and all(c.role in ROW_ROLES for c in result.components)
            blocks.append(action_buttons(query or result.metric, result.as_of, share=ephemeral, ref=ref,
                                         follow=(result.metric, followed),
                                         why=result.comparison is not None and result.comparison.value is not None,
                                         records=records))
        return blocks


def _header(result: MetricResult) -> dict[str, Any]:
    text = cut(f"{result.label}: {result.formatted}", HEADER_CHARS)
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def _summary(result: MetricResult, cal: Calendar | None, locale: str) -> dict[str, Any]:
    lines = [f"*{esc(window_text(result.period, cal, locale))}*"]
    if result.filters or result.where:
        where = result.where or _(" and ").join(f"{k} = {', '.join(v)}" for k, v in result.filters.items())
        # TRANSLATORS: the filters of an answer, e.g. "where region = EMEA and segment = SMB"
        lines.append(_("where {filters}").format(filters=esc(where)))
    if change := change_line(result, cal, locale):
        lines.append(change)
    if result.target is not None:
        lines.append(target_line(result.target, locale))
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut("\n".join(lines), 3000)}}


def _notes(result: MetricResult, locale: str = "en_US") -> list[str]:
    notes = []
    if result.counted:
        notes.append(esc(result.counted))
    if result.small_sample:
        if result.sample_size is not None:
            n = result.sample_size
            notes.append(":warning: " + ngettext("Small sample ({count} row): read with care.",
                                                 "Small sample ({count} rows): read with care.", n)
                         .format(count=fmt_count(n, locale)))
        else:
            notes.append(":warning: " + _("Small sample: read with care."))
    for note in getattr(result, "notes", ()):  # prorated or left-out windows, maturing cohorts (whole sentences)
        notes.append(":information_source: " + esc(note))
    return notes


def _footer(result: MetricResult, query: str, freshness: date | None, shared_by: str | None,
            locale: str = "en_US") -> str:
    parts = []
    if shared_by:
        parts.append(_("Shared by {user}").format(user=f"<@{shared_by}>"))
    # TRANSLATORS: the last day with data, e.g. "Data through Nov 30, 2026"
    parts.append(_("Data through {date}").format(date=fmt_date(freshness, locale)) if freshness
                 else _("Data freshness unknown"))
    # TRANSLATORS: the day an answer is computed for, e.g. "as of Nov 27, 2026"
    parts.append(_("as of {date}").format(date=fmt_date(result.as_of, locale)))
    if query:
        parts.append(f"`{esc_code(excerpt(query, 200))}`")
    return " · ".join(parts)


def _context(texts: list[str]) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": cut(t, 3000)} for t in texts[:10]]}


def button_value(query: str, as_of: date, *, ref: str | None = None) -> str:
    """What a button carries back: the question (or ``ref``, its key in ``refs.QuestionRefs`` when it is
    too long for a button) and its as-of day, so a click answers the same question."""
    if ref is not None:
        return json.dumps({"ref": ref, "as_of": as_of.isoformat()})
    value = json.dumps({"q": query, "as_of": as_of.isoformat()}, ensure_ascii=False)
    if len(value) <= BUTTON_VALUE_CHARS:
        return value
    return json.dumps({"q": cut(query, BUTTON_VALUE_CHARS // 6 - 40), "as_of": as_of.isoformat()})  # no store


def fits_in_button(query: str, as_of: date) -> bool:
    return len(json.dumps({"q": query, "as_of": as_of.isoformat()}, ensure_ascii=False)) <= BUTTON_VALUE_CHARS


def action_buttons(query: str, as_of: date, *, share: bool, ref: str | None = None,
                   follow: tuple[str, bool] | None = None, why: bool = False, records: bool = False) -> dict[str, Any]:
    """Trend, Explain, Why? (only when the answer has a compared value: it splits that change), Follow, Share
    and Show records (``records``: the rows behind the number, ``render_records.py``)."""
    value = button_value(query, as_of, ref=ref)
    names = [(_("Trend"), ACTION_TREND), (_("Explain"), ACTION_EXPLAIN)] + ([(_("Why?"), ACTION_WHY)] if why else [])
    elements = [{"type": "button", "text": {"type": "plain_text", "text": label}, "action_id": action, "value": value}
                for label, action in names]
    if follow is not None:
        elements.append(follow_button(*follow))
    if share:
        elements.append({"type": "button", "text": {"type": "plain_text", "text": pgettext("button", "Share")},
                         "action_id": ACTION_SHARE, "value": value})
    if records:
        elements.append({"type": "button", "text": {"type": "plain_text", "text": pgettext("button", "Show records")},
                         "action_id": ACTION_RECORDS, "value": value})
    return {"type": "actions", "block_id": "kpi_actions", "elements": elements}


def follow_button(metric: str, followed: bool) -> dict[str, Any]:
    """Follow (or Unfollow) ``metric`` on the clicker's App Home; the button carries the metric's name."""
    label = pgettext("button", "Unfollow") if followed else pgettext("button", "Follow")
    return {"type": "button", "text": {"type": "plain_text", "text": label},
            "action_id": ACTION_UNFOLLOW if followed else ACTION_FOLLOW, "value": json.dumps({"m": metric})}

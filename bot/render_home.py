"""The App Home tab as a Block Kit view (pure: no Slack, no I/O; golden-tested in tests/bot/snapshots).

    view = render_home([HomeItem("win_rate", result=r), HomeItem("cac", error="...")],
                       as_of=date(2026, 11, 27), freshness=date(2026, 11, 26), locale="pl_PL")
    client.views_publish(user_id="U0ALICE", view=view)

Layout: header · when it was computed and how fresh the data is · one section per followed metric
(label: value, its window, change vs the previous period, target status and pace; an Unfollow button
beside it) · or, with nothing followed, how to follow a metric. Slack allows 100 blocks in a view, so
at most ``MAX_FOLLOWED`` metrics are shown (the rest are counted).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Sequence

from metrics_core.formatting import fmt_date
from metrics_core.i18n import gettext as _, ngettext, use_locale
from metrics_core.periods import Calendar
from metrics_core.result import MetricResult

from .labels import change_line, cut, esc, esc_code, target_line, window_text
from .render import follow_button

MAX_FOLLOWED = 40  # 2 blocks each at most, under Slack's 100 blocks a view


@dataclass(frozen=True)
class HomeItem:
    """One followed metric: its answer, or the one-line reason there is none (a user error, a reference)."""

    metric: str
    result: MetricResult | None = None
    error: str | None = None


def render_home(items: Sequence[HomeItem], *, as_of: date, freshness: date | None = None,
                calendar: Calendar | None = None, locale: str = "en_US") -> dict[str, Any]:
    """The ``views.publish`` view for one user's Home tab, in ``locale``."""
    with use_locale(locale):
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": _("Metrics you follow")}},
            _context(_stamp(as_of, freshness, locale))]
        if not items:
            blocks.append(_section(_("You follow no metric yet. Ask one, e.g. `/kpi win_rate this-quarter`, and "
                                     "press *Follow* under the answer: it shows up here with its target and pace.")))
        for item in items[:MAX_FOLLOWED]:
            blocks.append(_item(item, calendar, locale))
        if len(items) > MAX_FOLLOWED:
            more = len(items) - MAX_FOLLOWED
            blocks.append(_context(ngettext("... and {count} more metric (unfollow some to see it)",
                                            "... and {count} more metrics (unfollow some to see them)",
                                            more).format(count=more)))
        return {"type": "home", "blocks": blocks}


def _stamp(as_of: date, freshness: date | None, locale: str) -> str:
    # the same words as an answer's footer: "as of Nov 27, 2026 · Data through Nov 26, 2026"
    fresh = (_("Data through {date}").format(date=fmt_date(freshness, locale)) if freshness
             else _("Data freshness unknown"))
    return " · ".join([_("as of {date}").format(date=fmt_date(as_of, locale)), fresh])


def _item(item: HomeItem, cal: Calendar | None, locale: str) -> dict[str, Any]:
    r = item.result
    if r is None:
        text = f"*{esc(item.metric)}*\n:warning: {esc_code(item.error or '')}"
    else:
        lines = [f"*{esc(r.label)}: {esc(r.formatted)}*", esc(window_text(r.period, cal, locale))]
        if change := change_line(r, cal, locale):
            lines.append(change)
        lines.append(target_line(r.target, locale) if r.target is not None
                     else ":white_circle: " + _("No target for this period"))
        text = "\n".join(lines)
    return {"type": "section", "block_id": f"follow_{cut(item.metric, 200)}",
            "text": {"type": "mrkdwn", "text": cut(text, 3000)}, "accessory": follow_button(item.metric, True)}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut(text, 3000)}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": cut(text, 3000)}]}

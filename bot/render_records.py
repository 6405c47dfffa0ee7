"""The rows behind an answer -> Slack Block Kit, for the Show records button (pure: no Slack, no I/O).

    reply = records_reply(kpi.rows(question, limit=20), question, cal, "en_US")

    *closed deals* · Q3 2026 · where segment = SMB: *595 rows* (the first 20)
    • <https://crm.example.com/deals/D1|D1> · Jul 2, 2026 · SMB · EMEA · won
    ...
    all of them: `kpi rows "win_rate last-quarter where segment = SMB" --csv`

The first column (the primary key) links to the row when its table has a ``url:`` template.
"""

from __future__ import annotations

from typing import Any

from metrics_core.formatting import fmt_count
from metrics_core.i18n import gettext as _, ngettext
from metrics_core.periods import Calendar

from .labels import cut, esc, esc_code, excerpt, window_text
from .messages import Reply

SHOWN = 20  # rows posted; the total is always counted
PER_SECTION = 10  # lines per section block: each section's text stays under Slack's 3,000 characters
LINE_CHARS = 280


def records_reply(r: Any, question: str, cal: Calendar | None, locale: str = "en_US") -> Reply:
    """``r``: a ``Records`` (``KPI.rows``); ephemeral, like every answer to a button."""
    total = ngettext("{count} row", "{count} rows", r.total).format(count=fmt_count(r.total, locale))
    head = f"*{esc(r.label)}* · {esc(window_text(r.period, cal, locale))}"
    if r.where:
        head += " · " + _("where {filters}").format(filters=esc(r.where))
    head += f": *{total}*"
    if len(r.rows) < r.total:
        # TRANSLATORS: after the row count of Show records, e.g. "595 rows (the first 20)"
        head += " " + _("(the first {shown})").format(shown=fmt_count(len(r.rows), locale))
    lines = [_line(cells, url) for cells, url in zip(r.cells(locale), r.urls)]
    blocks: list[dict[str, Any]] = [_section(head)]
    for i in range(0, len(lines), PER_SECTION):
        blocks.append(_section("\n".join(lines[i:i + PER_SECTION])))
    if not lines:
        blocks.append(_section(_("no rows")))
    columns = " · ".join(esc(c) for c in r.columns)
    more = _("all of them: {command}").format(command=esc_code(f'`kpi rows "{excerpt(question, 200)}" --csv`'))
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": cut(f"{columns}\n{more}", 3000)}]})
    return Reply(text=f"{r.label}: {total}", blocks=blocks)


def _line(cells: list[str], url: str | None) -> str:
    """One row: its first cell (linked when the table has url:), then the others, cut without breaking the link."""
    first, rest = (cells[0], cells[1:]) if cells else ("", [])
    shown = esc(cut(first, 60)) or "–"
    if url:
        shown = f"<{url.replace('|', '%7C').replace('>', '%3E')}|{shown}>"
    others = cut(" · ".join(c for c in rest if c), LINE_CHARS)
    return "• " + shown + (" · " + esc(others) if others else "")


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut(text, 3000)}}

"""The bot's other replies as Block Kit: help, metric list, explanation, errors (pure).

Every function returns a ``Reply`` (text fallback + blocks + whether it is ephemeral), the one shape
the Slack handlers and ``kpi ask`` send or print.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from metrics_core.formatting import fmt_change
from metrics_core.i18n import active_locale, gettext as _, ngettext

from .labels import cut, esc, esc_code, excerpt, fenced, shorten_quotes

MAX_BLOCKS = 50


def usage_line() -> str:
    """The question grammar in one line, in the active language (the Polish one lists Polish words)."""
    return _("`/kpi <metric> [period] [by dim[, dim]] [where dim=value [and ...]] [vs previous|last-year]`\n"
             "e.g. `/kpi win_rate last-quarter by region`, `/kpi cac ytd where segment=SMB vs last-year`")


@dataclass(frozen=True)
class Reply:
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    ephemeral: bool = True
    ok: bool = True

    def message(self, **extra: Any) -> dict[str, Any]:
        """The body for an ack, ``respond()`` or ``chat.postMessage`` (minus the channel)."""
        return {"response_type": "ephemeral" if self.ephemeral else "in_channel",
                "text": self.text, "blocks": self.blocks, **extra}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut(text, 3000)}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": cut(text, 3000)}]}


def error_reply(message: str, *, usage: bool = True) -> Reply:
    """A user error (unknown metric, bad period, access refused): shown as it is, ephemeral; long user
    text it quotes is cut to an excerpt."""
    message = shorten_quotes(message)
    blocks = [_section(f":warning: {esc_code(message)}")]  # messages may quote `code`
    if usage:
        blocks.append(_context(_("Usage: {usage}").format(usage=usage_line()) + "\n" + _("`/kpi help` · `/kpi list`")))
    return Reply(text=message, blocks=blocks, ok=False)


def internal_error_reply(ref: str) -> Reply:
    msg = _("Something broke on our side (ref {ref}). It has been logged; please try again later.").format(ref=ref)
    return Reply(text=msg, blocks=[_section(f":boom: {msg}")], ok=False)


def working_reply(query: str) -> Reply:
    short = excerpt(query, 200)
    return Reply(text=_("Working on `{question}`...").format(question=short),
                 blocks=[_context(":hourglass_flowing_sand: " + _("Working on `{question}`...").format(question=esc_code(short)))])


def busy_reply(pending: int) -> Reply:
    """The final answer when the answer queue is full: nothing else follows for this request."""
    msg = ngettext("kpi is busy right now ({count} question ahead of yours). Please try again in a minute.",
                   "kpi is busy right now ({count} questions ahead of yours). Please try again in a minute.",
                   pending).format(count=pending)
    return Reply(text=msg, blocks=[_context(f":hourglass: {msg}")], ok=False)


def help_reply(shortcuts: Sequence[tuple[str, str]] = ()) -> Reply:
    lines = ["*" + _("Ask for a sales metric") + "*", usage_line(),
             _("Periods: today, this-month, last-quarter, ytd, last-7-days, 2026-Q3, 2026-09, fy2027"),
             _("`/kpi list` shows the metrics · `/kpi explain <metric>` shows how one is computed"),
             _("Mention me too: `@kpi what was win rate last quarter by region?`")]
    if shortcuts:
        lines.append(_("Shortcuts: {list}").format(list=", ".join(f"`{cmd}` ({m})" for cmd, m in shortcuts[:40])))
    return Reply(text=_("kpi help"), blocks=[_section("\n".join(lines))])


def list_reply(metrics: Sequence[Any], shortcuts: dict[str, str], locked: frozenset[str] = frozenset()) -> Reply:
    """One line per metric (:lock: when not available here); sections under 3000 characters, 50 blocks."""
    lines = []
    for m in metrics:
        cmd = f" · `{shortcuts[m.name]}`" if m.name in shortcuts else ""
        cmd += " :lock: " + _("not available here") if m.name in locked else ""
        syn = _(" (also: {synonyms})").format(synonyms=", ".join(m.synonyms[:3])) if m.synonyms else ""
        lines.append(f"*{esc(m.label)}* `{m.name}`{cmd}{esc(syn)}\n{esc(cut(m.description or m.formula, 200))}")
    count = ngettext("{count} metric", "{count} metrics", len(metrics)).format(count=len(metrics))
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": count}}]
    chunk: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > 2900:
            blocks.append(_section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(_section("\n".join(chunk)))
    return Reply(text=count, blocks=blocks[:MAX_BLOCKS])


def why_reply(why: Any) -> Reply:
    """What moved a number (``metrics_core.WhyResult``): the summary, then each factor or dimension value."""
    lines = []
    for f in sorted(why.factors, key=lambda f: -abs(f.log_share)):
        share = fmt_change(f.share, active_locale() or "en_US")
        # TRANSLATORS: one factor of a change in Slack, e.g. "Avg deal size: $7,000 → $4,667, −$215 (share +112%)"
        lines.append(_("{factor}: {before} → {after}, {effect} (share {share})").format(
            factor=esc(f.label), before=f.before_formatted, after=f.after_formatted, effect=f.effect_formatted,
            share=share))
    for s in why.segments[:10]:
        lines.append(f"{esc(str(s.value))}: {s.total_formatted}")
    title = _("Why {metric} moved").format(metric=why.label)
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": cut(title, 150)}},
                                    _section(esc(why.summary))]
    if lines:
        blocks.append(_section(cut("\n".join(f"• {line}" for line in lines), 3000)))
    return Reply(text=why.summary, blocks=blocks)


def explain_reply(explanation: Any) -> Reply:
    """Definition, formula, components (the core's text) and the SQL it runs, cut to Slack's limits."""
    m = explanation.metric
    title = _("How {metric} is computed").format(metric=m.label)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": cut(title, 150)}},
        _section(f"{esc(m.description)}\n*" + _("Formula:") + f"* `{esc_code(m.formula)}`"),
        _section(fenced(explanation.text))]
    if explanation.sql:
        more = _("... (cut here; the whole SQL: kpi explain {metric})").format(metric=m.name)
        blocks += [_context(_("SQL it runs:")), _section(fenced(explanation.sql, more=more))]
    return Reply(text=title, blocks=blocks)

"""Slash commands: ``/kpi <query|help|list|explain m>`` and one shortcut per metric (``/cac last-quarter``).

One listener for every command (bolt matches a regex), so shortcuts follow the definitions on reload.
The ack listener answers within the budget or says "working on it"; the lazy listener then delivers
through ``respond()`` (the response_url). See ``budget.py``.
"""

from __future__ import annotations

import html
import re
import time
from typing import Any

from slack_bolt import App

from .access import Asker
from .answer import answer_command, answer_query
from .context import MAIN_COMMAND, BotContext, asker_of, request_key
from .messages import Reply, error_reply, working_reply
from .provider import Snapshot


_TYPOGRAPHY = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "\u00a0": " "})


def clean_text(text: str) -> str:
    """What the user typed: Slack escapes &, <, > as entities, and phones type curly quotes."""
    return html.unescape(text).translate(_TYPOGRAPHY).strip()


def answer_slash(snap: Snapshot, command: str, text: str, asker: Asker) -> Reply:
    """The reply for one slash command invocation (pure apart from the core call)."""
    text = clean_text(text)
    if command == MAIN_COMMAND:
        return answer_command(snap, text, asker)
    metric = snap.shortcuts.get(command)
    if metric is None:
        return error_reply(f"{command} is not a kpi command here (try `{MAIN_COMMAND} list`)")
    return answer_query(snap, f"{metric} {text}".strip(), asker)


def register(app: App, ctx: BotContext) -> None:
    def ack_command(ack: Any, body: dict[str, Any], context: Any) -> None:
        snap = ctx.current()
        command, text = body.get("command", ""), body.get("text", "")
        work = lambda: answer_slash(snap, command, text, asker_of(body))  # noqa: E731
        waited = time.monotonic() - context.get("received_at", time.monotonic())
        budget = max(0.05, snap.config.ack_budget_seconds - waited)
        reply = ctx.rendezvous.ack_side(request_key(body), work, budget)
        ack(**(reply or working_reply(f"{command} {text}".strip())).message())

    def deliver_command(body: dict[str, Any], respond: Any) -> None:
        reply = ctx.rendezvous.lazy_side(request_key(body))
        if reply is not None:
            respond(**reply.message(replace_original=True))

    app.command(re.compile(r"^/.+"))(ack=ack_command, lazy=[deliver_command])

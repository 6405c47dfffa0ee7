"""Slash commands: ``/kpi <query|help|list|explain m>`` and one shortcut per metric (``/cac last-quarter``).

One listener for every command (bolt matches a regex), so shortcuts follow the definitions on reload.
The listener runs on the thread that acks (bolt's ``process_before_response``); the answer is computed
on the bot's ``AnswerPool``. The ack carries the answer when it is ready within the budget counted
from the request's arrival, else says "working on it" and the worker delivers the answer through
``respond()`` (the response_url); a full queue acks "busy, try again". See ``budget.py``.
"""

from __future__ import annotations

import html
import logging
import re
import time
import uuid
from typing import Any

from slack_bolt import App

from metrics_core.i18n import gettext as _, use_locale

from .access import Asker
from .answer import answer_command, answer_query
from .context import MAIN_COMMAND, BotContext, asker_of, team_of
from .messages import Reply, busy_reply, error_reply, internal_error_reply, working_reply
from .provider import Snapshot
from .user_locale import speaking
from .sync_command import answer_sync

log = logging.getLogger("kpi.bot")

_TYPOGRAPHY = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "\u00a0": " "})


def clean_text(text: str) -> str:
    """What the user typed: Slack escapes &, <, > as entities, and phones type curly quotes."""
    return html.unescape(text).translate(_TYPOGRAPHY).strip()


def answer_slash(snap: Snapshot, command: str, text: str, asker: Asker, *, syncs: Any = None) -> Reply:
    """The reply for one slash command invocation (pure apart from the core call; ``/kpi sync`` writes)."""
    text = clean_text(text)
    head, _space, rest = text.partition(" ")
    if command == MAIN_COMMAND and head.lower() == "sync":
        return answer_sync(snap, rest, asker, syncs)
    if command == MAIN_COMMAND:
        return answer_command(snap, text, asker)
    metric = snap.shortcuts.get(command)
    if metric is None:
        with use_locale(speaking(snap, asker)):
            return error_reply(_("{command} is not a kpi command here (try `{main} list`)")
                               .format(command=command, main=MAIN_COMMAND))
    return answer_query(snap, f"{metric} {text}".strip(), asker)


def ack_reply(ctx: BotContext, body: dict[str, Any], respond: Any, arrived_at: float, client: Any = None) -> Reply:
    """What the ack says: the answer when ready in time, else "working on it" (the answer follows
    through ``respond``), or "busy" when the queue is full (nothing follows)."""
    snap = ctx.current()
    command, text = str(body.get("command", "")), str(body.get("text", ""))
    asker = asker_of(body)
    job = ctx.pool.submit(lambda: answer_slash(snap, command, text, ctx.who(snap, client, asker, team_of(body)),
                                              syncs=ctx.syncs),
                          lambda reply: respond(**reply.message(replace_original=True)))
    with use_locale(snap.locale):  # the ack's own words; the answer speaks the asker's language
        if job is None:
            return busy_reply(ctx.pool.pending)
        reply = job.take(ctx.pool.ack_wait(job, arrived_at, snap.config.ack_budget_seconds))
        return reply or working_reply(f"{command} {text}".strip())


def register(app: App, ctx: BotContext) -> None:
    def ack_command(ack: Any, body: dict[str, Any], context: Any, respond: Any, client: Any) -> None:
        arrived_at = context.get("received_at") or time.monotonic()
        try:
            reply = ack_reply(ctx, body, respond, arrived_at, client)
        except Exception:  # noqa: BLE001 - the ack must go out whatever happened; the trace is logged
            ref = uuid.uuid4().hex[:6]
            log.exception("command failed before its answer started (ref %s)", ref)
            reply = internal_error_reply(ref)
        ack(**reply.message())

    app.command(re.compile(r"^/.+"))(ack_command)

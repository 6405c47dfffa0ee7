"""Events: ``@kpi what was win rate last quarter by region?`` answered in a thread.

Bolt acks events at once; the listener then runs on bolt's pool. The free words become the core's
grammar (``mention.to_query``); an answer goes in the thread, a user error to the asker only.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from .access import Asker
from .answer import answer_query, guarded
from .context import BotContext
from .mention import to_query
from .messages import Reply


def answer_mention(ctx: BotContext, text: str, asker: Asker) -> Reply:
    snap = ctx.current()

    def run() -> Reply:
        query = to_query(snap.kpi, text, cal=snap.calendar)
        return answer_query(snap, query, asker, ephemeral=False)
    return guarded(run)


def register(app: App, ctx: BotContext) -> None:
    @app.event("app_mention")
    def on_mention(event: dict[str, Any], client: Any) -> None:
        asker = Asker(event.get("user", ""), event.get("channel", ""))
        reply = answer_mention(ctx, event.get("text", ""), asker)
        thread = event.get("thread_ts") or event.get("ts")
        if reply.ok:
            client.chat_postMessage(channel=asker.channel_id, thread_ts=thread, text=reply.text, blocks=reply.blocks)
        else:
            client.chat_postEphemeral(channel=asker.channel_id, user=asker.user_id, text=reply.text,
                                      blocks=reply.blocks)

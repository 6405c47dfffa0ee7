"""Buttons under an answer: Trend (chart upload), Explain (formula, components, SQL), Why? (what moved the
number, ``KPI.why``), Share (post in channel), Show records (the first rows behind the number, ephemeral,
with links when the table has ``url:``).

Each click is acked at once; the work runs on the bot's answer pool. A button carries its question and its
as-of day (``render.button_value``), so a click answers exactly what was shown. Access is checked again
for the channel the click came from.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import date
from typing import Any, Callable, Iterator

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from metrics_core.errors import KpiUserError
from metrics_core.i18n import gettext as _, use_locale

from .answer import answer_explain, answer_query, answer_why, guarded, metric_of, trend_args
from .chart import trend_png
from .context import BotContext, asker_of
from .messages import Reply, busy_reply, error_reply
from .render import ACTION_EXPLAIN, ACTION_RECORDS, ACTION_SHARE, ACTION_TREND, ACTION_WHY
from .render_records import SHOWN, records_reply
from .user_locale import speaking


def question_of(body: dict[str, Any], refs: Any) -> tuple[str, date | None]:
    """The question and as-of day a button carries, inline or by reference (``refs.py``)."""
    value = json.loads(body["actions"][0]["value"])
    as_of = date.fromisoformat(value["as_of"]) if value.get("as_of") else None
    if "ref" in value:
        query = refs.get(str(value["ref"])) if refs is not None else None
        if query is None:
            raise KpiUserError(_("this button's question is no longer kept (the bot restarted since); "
                                 "ask again with `/kpi ...`"))
        return query, as_of
    return str(value["q"]), as_of


_CANNOT_POST = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}


@contextmanager
def posting() -> Iterator[None]:
    """Slack refusing to post where the bot is not invited is the user's to fix, not a bug."""
    try:
        yield
    except SlackApiError as e:
        if e.response.get("error") in _CANNOT_POST:
            raise KpiUserError(_("I cannot post in this channel ({error}): invite me with `/invite @kpi` first.")
                               .format(error=e.response["error"])) from e
        raise


def register(app: App, ctx: BotContext) -> None:
    def trend(body: dict[str, Any], client: Any, respond: Any) -> None:
        query, as_of = question_of(body, ctx.current().refs)
        snap = ctx.current()
        asker = ctx.locales.for_asker(snap, client, asker_of(body))

        def run() -> Reply:
            metric = metric_of(snap, query)
            snap.policy.check(metric, asker, public=True)  # the chart is posted in the channel
            by, grain, where = trend_args(snap, query)  # the chart keeps the question's filters
            condition = snap.kpi.plan(query).query.condition  # and the richer ones (!=, >, or ...)
            result = snap.kpi.trend(metric, grain=grain, count=12, by=by, where=where, condition=condition,
                                    as_of=as_of)
            with posting():
                # TRANSLATORS: a trend chart's title in Slack, e.g. "Win rate: last 12 months" ({grain}s: months)
                title = _("{metric}: last 12 {grain}s").format(metric=result.label, grain=grain)
                comment = _("{user} asked for the {metric} trend").format(user=f"<@{asker.user_id}>",
                                                                         metric=result.label)
                client.files_upload_v2(channel=asker.channel_id, file=trend_png(result),
                                       filename=f"{metric}-trend.png", title=title, initial_comment=comment)
            return Reply(text=_("chart posted"))
        with use_locale(speaking(snap, asker)):
            reply = guarded(run)
        if not reply.ok:
            respond(**reply.message(replace_original=False))

    def explain(body: dict[str, Any], client: Any, respond: Any) -> None:
        query, _as_of = question_of(body, ctx.current().refs)
        reply = answer_explain(ctx.current(), query, ctx.locales.for_asker(ctx.current(), client, asker_of(body)))
        respond(**reply.message(replace_original=False))

    def why(body: dict[str, Any], client: Any, respond: Any) -> None:
        query, as_of = question_of(body, ctx.current().refs)
        reply = answer_why(ctx.current(), query, ctx.locales.for_asker(ctx.current(), client, asker_of(body)), as_of=as_of)
        respond(**reply.message(replace_original=False))

    def share(body: dict[str, Any], client: Any, respond: Any) -> None:
        query, as_of = question_of(body, ctx.current().refs)
        asker = asker_of(body)  # shared in the channel: in the definitions' language, not the sharer's

        def run() -> Reply:
            reply = answer_query(ctx.current(), query, asker, as_of=as_of, ephemeral=False,
                                 shared_by=asker.user_id)
            if reply.ok:
                with posting():
                    client.chat_postMessage(channel=asker.channel_id, text=reply.text, blocks=reply.blocks)
            return reply
        reply = guarded(run)
        if reply.ok:
            respond(delete_original=True)
        else:
            respond(**reply.message(replace_original=False))

    def records(body: dict[str, Any], client: Any, respond: Any) -> None:
        """Show records: the first rows behind the answer, to the clicker only, under the same access rules."""
        query, as_of = question_of(body, ctx.current().refs)
        snap = ctx.current()
        asker = ctx.locales.for_asker(snap, client, asker_of(body))

        def run() -> Reply:
            snap.policy.check(metric_of(snap, query), asker)
            found = snap.kpi.rows(query, limit=SHOWN, as_of=as_of)
            return records_reply(found, query, snap.kpi.calendar, speaking(snap, asker))
        with use_locale(speaking(snap, asker)):
            reply = guarded(run)
        respond(**reply.message(replace_original=False))

    def on_click(handler: Callable[[dict[str, Any], Any, Any], None]) -> Callable[..., None]:
        """Ack at once; the work runs on the answer pool (a full pool says so instead)."""
        def listener(ack: Any, body: dict[str, Any], client: Any, respond: Any) -> None:
            ack()
            if not ctx.pool.run_later(lambda: _guard_click(handler, body, client, respond)):
                respond(**busy_reply(ctx.pool.pending).message(replace_original=False))
        listener.__name__ = handler.__name__
        return listener

    app.action(ACTION_TREND)(on_click(trend))
    app.action(ACTION_EXPLAIN)(on_click(explain))
    app.action(ACTION_WHY)(on_click(why))
    app.action(ACTION_SHARE)(on_click(share))
    app.action(ACTION_RECORDS)(on_click(records))


def _guard_click(handler: Callable[[dict[str, Any], Any, Any], None], body: dict[str, Any], client: Any,
                 respond: Any) -> None:
    """A button whose value cannot be read (forged, or from an older version) is answered, not raised."""
    try:
        handler(body, client, respond)
    except KpiUserError as e:
        respond(**error_reply(str(e), usage=False).message(replace_original=False))
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):
        respond(**error_reply(_("this button's question could not be read; ask again with `/kpi ...`"),
                              usage=False).message(replace_original=False))

"""The App Home tab and the Follow buttons (layer: bot surface, like commands/events/actions).

    app_home_opened (tab "home")    -> views.publish: each followed metric's value, target and pace,
                                       computed afresh on every open (the answer cache keeps it cheap)
    Follow on an answer             -> stored per (team, user) in the state database (store.FollowStore),
                                       an ephemeral "you follow ..." with an Unfollow button, Home republished
    Unfollow (an answer or the Home) -> removed, Home republished

The Home tab belongs to no channel, so a metric that ``slack.access`` opens to some channels only is
shown there as that rule's refusal; a metric listed for the user is shown. Everything runs on the
answer pool after the ack, in the user's language (``user_locale``).
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import date
from typing import Any, Callable

from slack_bolt import App

from metrics_core.errors import KpiUserError
from metrics_core.i18n import gettext as _, use_locale
from metrics_core.periods import today

from .access import Asker
from .answer import guarded
from .context import BotContext, asker_of, team_of
from .messages import Reply, busy_reply, error_reply, internal_error_reply
from .render import ACTION_FOLLOW, ACTION_UNFOLLOW, follow_button
from .render_home import MAX_FOLLOWED, HomeItem, render_home
from .user_locale import speaking

log = logging.getLogger("kpi.bot.home")


def home_view(ctx: BotContext, team: str, user: str, client: Any = None, *,
              as_of: date | None = None) -> dict[str, Any]:
    """The Home view of ``user`` in workspace ``team`` (its answers computed now)."""
    snap = ctx.current()
    asker = ctx.locales.for_asker(snap, client, Asker(user_id=user))
    locale = speaking(snap, asker)
    with use_locale(locale):
        items = [_item(snap, metric, asker, as_of) for metric in ctx.follows.metrics(team, user)[:MAX_FOLLOWED]]
        more = ctx.follows.metrics(team, user)[MAX_FOLLOWED:]
        items += [HomeItem(m) for m in more]  # counted, not computed
    return render_home(items, as_of=as_of or today(snap.calendar), freshness=snap.kpi.freshness(),
                       calendar=snap.calendar, locale=locale)


def _item(snap: Any, metric: str, asker: Asker, as_of: date | None) -> HomeItem:
    try:
        snap.policy.check(metric, asker)  # no channel: only a rule listing the user opens a restricted metric
        return HomeItem(metric, result=snap.kpi.query(metric, as_of=as_of))
    except KpiUserError as e:
        return HomeItem(metric, error=str(e))
    except Exception:  # noqa: BLE001 - one broken metric must not blank the whole Home
        ref = uuid.uuid4().hex[:6]
        log.exception("home: %s failed (ref %s)", metric, ref)
        return HomeItem(metric, error=internal_error_reply(ref).text)


def publish_home(ctx: BotContext, client: Any, team: str, user: str) -> None:
    client.views_publish(user_id=user, view=home_view(ctx, team, user, client))


def followed_reply(label: str, metric: str, followed: bool) -> Reply:
    """The ephemeral answer to a Follow/Unfollow click, with the button that undoes it."""
    text = (_("You follow {metric}: it is on kpi's Home tab, with its target and pace.") if followed
            else _("You no longer follow {metric}.")).format(metric=label)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f":pushpin: {text}"},
               "accessory": follow_button(metric, followed)}]
    return Reply(text=text, blocks=blocks)


def _button_metric(body: dict[str, Any]) -> str:
    return str(json.loads(body["actions"][0]["value"])["m"])


def register(app: App, ctx: BotContext) -> None:
    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any], body: dict[str, Any], client: Any) -> None:
        if event.get("tab", "home") != "home":  # the Messages tab opens this event too
            return
        team, user = str(body.get("team_id", "")), str(event.get("user", ""))
        ctx.pool.run_later(lambda: publish_home(ctx, client, team, user))  # full pool: the old view stays

    def toggle(follow: bool) -> Callable[..., None]:
        def work(body: dict[str, Any], client: Any, respond: Any) -> None:
            snap, team = ctx.current(), team_of(body)
            asker = ctx.locales.for_asker(snap, client, asker_of(body))
            from_home = (body.get("container") or {}).get("type") == "view"
            metric = _button_metric(body)  # unreadable: answered by _guard

            def run() -> Reply:
                info = snap.kpi.metric_info(metric)
                if follow:
                    snap.policy.check(info.name, asker)
                    ctx.follows.follow(team, asker.user_id, info.name)
                else:
                    ctx.follows.unfollow(team, asker.user_id, info.name)
                return followed_reply(info.label, info.name, follow)
            with use_locale(speaking(snap, asker)):
                reply = guarded(run)
            if not from_home:
                respond(**reply.message(replace_original=False))
            if reply.ok:
                publish_home(ctx, client, team, asker.user_id)

        def listener(ack: Any, body: dict[str, Any], client: Any, respond: Any) -> None:
            ack()
            if not ctx.pool.run_later(lambda: _guard(work, body, client, respond)):
                respond(**busy_reply(ctx.pool.pending).message(replace_original=False))
        listener.__name__ = "follow" if follow else "unfollow"
        return listener

    app.action(ACTION_FOLLOW)(toggle(True))
    app.action(ACTION_UNFOLLOW)(toggle(False))


def _guard(work: Callable[..., None], body: dict[str, Any], client: Any, respond: Any) -> None:
    """A button whose value cannot be read (forged, from an older version) is answered, not raised."""
    try:
        work(body, client, respond)
    except (KeyError, IndexError, ValueError, TypeError) as e:
        log.warning("follow button not understood: %s", e)
        if (body.get("container") or {}).get("type") != "view":
            respond(**error_reply(_("this button could not be read; ask again with `/kpi ...`"),
                                  usage=False).message(replace_original=False))

"""Alerts that speak when their state changes (crossed / recovered), not on every run (layer: bot logic).

    transition = evaluate(snap, alert, store)    # "crossed", "recovered" or None
    run_alert(client, snap, alert, store)        # evaluate and post to the alert's channel

The first run of a new alert posts only when it is already firing. A result that cannot tell (no value,
no target, no comparison) leaves the state as it was. An alert on a metric the channel may not see is
never posted (and logged).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any, Literal

from metrics_core.i18n import gettext as _, use_locale

from .config import Alert
from .conditions import parse_condition
from .labels import esc
from .render import render_blocks, render_text
from .store import AlertStore

log = logging.getLogger("kpi.bot.alerts")
Transition = Literal["crossed", "recovered"]


def evaluate(snap: Any, alert: Alert, store: AlertStore, *, as_of: date | None = None
             ) -> tuple[Transition | None, Any]:
    result = snap.kpi.query(f"{alert.metric} {alert.period}", as_of=as_of)
    firing = parse_condition(alert.when).firing(result)
    if firing is None:
        log.info("alert %s: cannot tell from %s (no value / target / comparison)", alert.key, result.formatted)
        return None, result
    before = store.get(alert.key)
    store.put(alert.key, firing, result.value)
    if before == firing or (before is None and not firing):
        return None, result
    return ("crossed" if firing else "recovered"), result


def alert_blocks(alert: Alert, transition: Transition, result: Any, snap: Any) -> list[dict[str, Any]]:
    icon = ":rotating_light:" if transition == "crossed" else ":white_check_mark:"
    with use_locale(snap.locale):
        what = dict(metric=f"*{esc(result.label)}*", condition=f"_{esc(alert.when)}_", period=esc(alert.period))
        # TRANSLATORS: an alert, e.g. "*Win rate* is now _below target_ (this-quarter)"
        line = (_("{metric} is now {condition} ({period})") if transition == "crossed"
                else _("{metric} is no longer {condition} ({period})")).format(**what)
    head = {"type": "section", "text": {"type": "mrkdwn", "text": f"{icon} {line}"}}
    return [head, *render_blocks(result, query=f"{alert.metric} {alert.period}", freshness=snap.kpi.freshness(),
                                 calendar=snap.calendar, locale=snap.locale, ephemeral=False)]


def run_alert(client: Any, snap: Any, alert: Alert, store: AlertStore, *, as_of: date | None = None
              ) -> Transition | None:
    if not snap.policy.channel_allowed(alert.metric, alert.channel, alert.channel):
        log.warning("alert %s not posted: %s may not be seen in %s", alert.key, alert.metric, alert.channel)
        return None
    transition, result = evaluate(snap, alert, store, as_of=as_of)
    if transition is not None:
        with use_locale(snap.locale):
            word = _("crossed") if transition == "crossed" else _("recovered")
        text = f"{render_text(result, snap.calendar, snap.locale)} ({word}: {alert.when})"
        client.chat_postMessage(channel=alert.channel, text=text, blocks=alert_blocks(alert, transition, result, snap))
    return transition

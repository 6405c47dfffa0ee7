"""Question -> Reply: the one thin adapter between Slack surfaces and the metrics core (layer: bot logic).

    reply = answer_query(snap, "win_rate last-quarter by region", Asker(user_id="U1", channel_id="C1"))

Steps: find the metric (the first word of the grammar) -> access check -> ``kpi.query`` ->
``render_blocks`` (several metrics: each checked -> ``kpi.query_many`` -> ``render_many_blocks``). Errors are translated here, at the edge, and nowhere else: a ``KpiUserError``
(unknown metric, bad period, access refused) is shown as it is; anything else is logged with its trace
and a short reference the user can quote ("something broke (ref 3f9a2c)").
"""

from __future__ import annotations

import logging
import uuid
from datetime import date
from typing import Any, Callable

from metrics_core.errors import KpiUserError, QueryError
from metrics_core.i18n import gettext as _, use_locale

from .access import Asker
from .messages import Reply, error_reply, explain_reply, help_reply, internal_error_reply, list_reply, why_reply
from .render import fits_in_button, render_blocks, render_text
from .user_locale import speaking

log = logging.getLogger("kpi.bot")


def guarded(fn: Callable[[], Reply]) -> Reply:
    """Run ``fn``; turn user errors into ephemeral replies and internal ones into a logged reference."""
    try:
        return fn()
    except KpiUserError as e:
        return error_reply(str(e), usage=isinstance(e, QueryError))  # usage helps with questions only
    except Exception:  # noqa: BLE001 - the edge: logged with its trace, answered with a reference
        ref = uuid.uuid4().hex[:6]
        log.exception("internal error (ref %s)", ref)
        return internal_error_reply(ref)


def metric_of(snap: Any, query: str) -> str:
    """The canonical metric a question is about, parsed by the core ("win rate this month" -> win_rate).

    When the rest of the question is wrong (a bad period, say) the metric is still found, so access is
    checked before any error could tell something about a metric the asker may not see."""
    if not query.strip():
        raise QueryError(_("ask for a metric, e.g. `win_rate last-quarter` (`/kpi list` shows them all)"))
    try:
        return snap.kpi.plan(query).query.metric
    except QueryError:
        info = snap.kpi.match_metric(query)
        if info is None:
            raise
        return info.name


def metrics_of(snap: Any, query: str) -> tuple[str, ...]:
    """Every metric a question names ("win_rate, cac last-quarter" -> ("win_rate", "cac")); one metric as
    ``metric_of`` finds it when the grammar cannot read the question."""
    try:
        return tuple(snap.kpi.metrics_in(query))
    except QueryError:
        return (metric_of(snap, query),)


def answer_query(snap: Any, query: str, asker: Asker, *, as_of: date | None = None,
                 ephemeral: bool = True, shared_by: str | None = None) -> Reply:
    """The answer in the asker's language (``user_locale.speaking``): words, numbers, dates, errors.
    Several metrics in one question: each one is checked against the access rules before any is answered."""
    locale = speaking(snap, asker)

    def run() -> Reply:
        names = metrics_of(snap, query)
        for name in names:
            snap.policy.check(name, asker, public=not ephemeral)
        if len(names) > 1:
            return _answer_many(snap, query, locale, as_of=as_of, ephemeral=ephemeral, shared_by=shared_by)
        result = snap.kpi.query(query, as_of=as_of)
        blocks = render_blocks(result, query=query, freshness=snap.kpi.freshness(), calendar=snap.calendar,
                               locale=locale, ephemeral=ephemeral, shared_by=shared_by,
                               ref=button_ref(snap, query, result.as_of),
                               followed=ephemeral and result.metric in asker.following)
        return Reply(render_text(result, snap.calendar, locale), blocks, ephemeral=ephemeral)
    with use_locale(locale):
        return guarded(run)


def _answer_many(snap: Any, query: str, locale: str, *, as_of: date | None, ephemeral: bool,
                 shared_by: str | None) -> Reply:
    from .render_many import render_many_blocks, render_many_text

    many = snap.kpi.query_many(query, as_of=as_of)
    as_of_day = many.results[0].as_of
    blocks = render_many_blocks(many, query=query, freshness=snap.kpi.freshness(), calendar=snap.calendar,
                                locale=locale, ephemeral=ephemeral, shared_by=shared_by,
                                ref=button_ref(snap, query, as_of_day))
    return Reply(render_many_text(many, snap.calendar, locale), blocks, ephemeral=ephemeral)


def button_ref(snap: Any, query: str, as_of: date) -> str | None:
    """A server-side key for a question too long to ride in a button (Slack: 2000 characters), else None."""
    refs = getattr(snap, "refs", None)
    return None if refs is None or fits_in_button(query, as_of) else refs.put(query)


def answer_command(snap: Any, text: str, asker: Asker, *, as_of: date | None = None) -> Reply:
    """``/kpi <text>``: help, list, explain <metric>, why <question>, doctor (admin channel), or a query."""
    text = " ".join(text.split())
    head, _sep, rest = text.partition(" ")
    with use_locale(speaking(snap, asker)):
        if head.lower() in ("", "help", "pomoc"):
            return help_reply(sorted(snap.shortcuts.items()))
        if head.lower() in ("list", "lista"):
            return guarded(lambda: _list(snap, asker))
        if head.lower() in ("explain", "wyjaśnij", "wyjasnij"):
            return answer_explain(snap, rest, asker)
        if head.lower() in ("why", "dlaczego") and rest:
            return answer_why(snap, rest, asker, as_of=as_of)
        if head.lower() == "doctor" and not rest:
            from .doctor import answer_doctor  # it imports this module's guarded()

            return answer_doctor(snap, asker, as_of=as_of)
        return answer_query(snap, text, asker, as_of=as_of)


def _list(snap: Any, asker: Asker) -> Reply:
    metrics = snap.kpi.metrics()
    locked = frozenset(m.name for m in metrics if not snap.policy.allowed(m.name, asker))
    return list_reply(metrics, {m: c for c, m in snap.shortcuts.items()}, locked)


def answer_explain(snap: Any, query: str, asker: Asker) -> Reply:
    def run() -> Reply:
        name = metric_of(snap, query)
        snap.policy.check(name, asker)
        return explain_reply(snap.kpi.explain(name))
    with use_locale(speaking(snap, asker)):
        return guarded(run)


def answer_why(snap: Any, query: str, asker: Asker, *, as_of: date | None = None) -> Reply:
    """The "Why?" button: the change of the answer's number against its comparison, split (ephemeral)."""
    def run() -> Reply:
        snap.policy.check(metric_of(snap, query), asker)
        return why_reply(snap.kpi.why(query, as_of=as_of))
    with use_locale(speaking(snap, asker)):
        return guarded(run)


def trend_args(snap: Any, query: str) -> tuple[tuple[str, ...], str, dict[str, tuple[str, ...]]]:
    """(by, grain, where) of a question for its 12-period trend: "win_rate ytd by region grain week
    where source=webinar" -> (("region",), "week", {"source": ("webinar",)}); grain defaults to month."""
    plan = snap.kpi.plan(query)
    return tuple(plan.query.dimensions), plan.grain or "month", dict(plan.query.filters)

"""Digests and alerts: schedule texts in the calendar timezone, state-change alerts with a local store."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from bot.alerts import run_alert
from bot.app import make_client
from bot.conditions import parse_condition
from bot.config import Alert, Digest
from bot.digests import run_digest
from bot.provider import KpiProvider, snapshot_of
from bot.scheduler import schedule_jobs
from bot.schedule import parse_schedule
from bot.store import AlertStore
from metrics_core.errors import QueryError
from slack_requests import check_limits
from slack_doubles import AS_OF, FakeKPI, make_result

BERLIN = ZoneInfo("Europe/Berlin")


def blocks_of(call) -> list:  # type: ignore[no-untyped-def]
    blocks = call.params["blocks"]
    return json.loads(blocks) if isinstance(blocks, str) else blocks


@pytest.mark.parametrize("text, now, expected", [
    ("every Monday 09:00", datetime(2026, 11, 27, 12, tzinfo=BERLIN), datetime(2026, 11, 30, 9, tzinfo=BERLIN)),
    ("every day 8:30", datetime(2026, 11, 27, 12, tzinfo=BERLIN), datetime(2026, 11, 28, 8, 30, tzinfo=BERLIN)),
    ("every weekday 09:00", datetime(2026, 11, 27, 12, tzinfo=BERLIN), datetime(2026, 11, 30, 9, tzinfo=BERLIN)),
    ("every Mon, Thu 17:00", datetime(2026, 11, 27, 12, tzinfo=BERLIN), datetime(2026, 11, 30, 17, tzinfo=BERLIN)),
    ("every month on the 1st 09:00", datetime(2026, 11, 27, 12, tzinfo=BERLIN), datetime(2026, 12, 1, 9, tzinfo=BERLIN)),
    ("0 9 * * 1", datetime(2026, 11, 27, 12, tzinfo=BERLIN), datetime(2026, 11, 30, 9, tzinfo=BERLIN)),
    ("0 7 * * 0", datetime(2026, 11, 27, 12, tzinfo=BERLIN), datetime(2026, 11, 29, 7, tzinfo=BERLIN)),
])
def test_schedule_forms_fire_in_the_calendar_timezone(text, now, expected) -> None:
    trigger = parse_schedule(text, "Europe/Berlin")
    assert trigger.get_next_fire_time(None, now) == expected


@pytest.mark.parametrize("bad", ["every 9:00", "every Funday 09:00", "at nine", "0 25 * * *", "every day 24:00"])
def test_bad_schedules_say_what_is_allowed(bad) -> None:
    with pytest.raises(QueryError, match="schedule"):
        parse_schedule(bad, "UTC")


@pytest.mark.parametrize("when, value, previous, firing", [
    ("below target", 0.40, 0.38, True), ("below target", 0.50, 0.38, False),
    ("above 0.45", 0.50, 0.4, True), ("below 45%", 0.44, 0.4, True),
    ("change beyond 10%", 0.30, 0.40, True), ("change beyond 10%", 0.41, 0.40, False),
    ("drop beyond 5%", 0.50, 0.40, False), ("rise beyond 5%", 0.50, 0.40, True),
])
def test_conditions(when, value, previous, firing) -> None:
    assert parse_condition(when).firing(make_result(value=value, previous=previous, target=0.45)) is firing


def test_condition_that_cannot_tell_is_none() -> None:
    assert parse_condition("below target").firing(make_result(target=None)) is None
    assert parse_condition("change beyond 5%").firing(make_result(previous=None)) is None


def test_alert_posts_only_when_the_state_changes(slack, settings, tmp_path) -> None:
    kpi = FakeKPI(value=0.50)  # target 0.45 in the double: ok
    snap, client = snapshot_of(kpi), make_client(settings)
    alert = Alert(metric="win_rate", when="below target", channel="#sales", name="wr")
    store = AlertStore(tmp_path / "bot.sqlite3")
    assert run_alert(client, snap, alert, store, as_of=AS_OF) is None  # first run, ok: silent
    kpi.value = 0.40
    assert run_alert(client, snap, alert, store, as_of=AS_OF) == "crossed"
    assert run_alert(client, snap, alert, store, as_of=AS_OF) is None  # still firing: silent
    kpi.value = 0.47
    store.close()
    store = AlertStore(tmp_path / "bot.sqlite3")  # state survives a restart
    assert run_alert(client, snap, alert, store, as_of=AS_OF) == "recovered"
    posts = slack.calls_to("chat.postMessage")
    texts = [c.params["text"] for c in posts]
    assert len(texts) == 2 and "crossed" in texts[0] and "recovered" in texts[1]
    for post in posts:
        check_limits(blocks_of(post))
    assert "is now _below target_" in blocks_of(posts[0])[0]["text"]["text"]


def test_new_alert_already_firing_posts_once(slack, settings) -> None:
    snap = snapshot_of(FakeKPI(value=0.30))
    alert = Alert(metric="win_rate", when="below target", channel="#sales")
    store = AlertStore(":memory:")
    assert run_alert(make_client(settings), snap, alert, store, as_of=AS_OF) == "crossed"
    assert run_alert(make_client(settings), snap, alert, store, as_of=AS_OF) is None


def test_digest_posts_each_metric_with_its_breakdown(slack, settings) -> None:
    snap = snapshot_of(FakeKPI())
    digest = Digest(channel="#sales", schedule="every Monday 09:00", metrics=("win_rate", "cac"),
                    period="last-week", by=("region",))
    assert run_digest(make_client(settings), snap, digest, as_of=AS_OF) == 2
    posts = slack.calls_to("chat.postMessage")
    assert [p.params["channel"] for p in posts] == ["#sales", "#sales"]
    assert "```region" in str(posts[0].params["blocks"])
    for post in posts:
        check_limits(blocks_of(post))


SECTION = {"timezone": "Europe/Berlin",
           "digests": [{"channel": "#sales", "schedule": "every Monday 09:00", "metrics": ["win_rate"]}],
           "alerts": [{"metric": "win_rate", "when": "below target", "channel": "#sales", "name": "wr"}]}


def test_jobs_follow_the_definitions_on_reload(slack, settings) -> None:
    kpis = [FakeKPI(slack=SECTION), FakeKPI(slack={**SECTION, "alerts": []})]
    provider = KpiProvider(lambda: kpis.pop(0))
    scheduler = BackgroundScheduler(timezone="UTC")
    ids = schedule_jobs(scheduler, make_client(settings), provider, AlertStore(":memory:"))
    assert ids == ["digest:0:#sales", "alert:wr"]
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job("digest:0:#sales")
        assert str(job.trigger.timezone) == "Europe/Berlin"
        provider.on_reload.append(lambda _s: schedule_jobs(scheduler, make_client(settings), provider,
                                                           AlertStore(":memory:")))
        assert provider.reload()
        assert [j.id for j in scheduler.get_jobs()] == ["digest:0:#sales"]
    finally:
        scheduler.shutdown(wait=False)


def test_scheduled_job_failures_are_logged_not_raised(slack, settings, caplog) -> None:
    from bot.scheduler import _job

    slack.refuse("chat.postMessage", "not_in_channel")
    provider = KpiProvider.static(FakeKPI())
    digest = Digest(channel="#sales", schedule="every day 09:00", metrics=("win_rate",))
    _job(run_digest, make_client(settings), provider, digest)
    assert any("not_in_channel" in r.getMessage() and "#sales" in r.getMessage() for r in caplog.records)
    _job(run_digest, None, provider, digest)  # a bug (no client): logged with a reference
    assert any("failed (ref" in r.getMessage() and r.exc_info for r in caplog.records)

"""The fast clock of ``kpi serve`` (KPI_CLOCK_SPEED): fire times always move forward."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from apscheduler.triggers.cron import CronTrigger

from bot.service.clock import FastTrigger


@pytest.mark.parametrize("speed", [151200.0, 86400.0, 3600.0, 7.0])
def test_each_fire_time_is_later_than_the_previous(speed: float) -> None:
    """Regression: at speed 151200 the mapped-back fire time rounded to the previous one, so
    APScheduler's run-time loop spun forever and the end-to-end digest never posted."""
    start = datetime(2026, 11, 30, 19, 5, 16, 178_123, tzinfo=timezone.utc)
    trigger = FastTrigger(CronTrigger(day_of_week="mon", hour=9, timezone="Europe/Warsaw"), speed, start=start)
    fire = trigger.get_next_fire_time(None, start)
    assert fire is not None and fire >= start
    for _ in range(20):
        nxt = trigger.get_next_fire_time(fire, fire)
        assert nxt is not None and nxt > fire
        # a week of virtual time is a week / speed of real time (± the hour a DST change moves 09:00)
        assert abs((nxt - fire) - timedelta(weeks=1) / speed) <= timedelta(hours=1) / speed + timedelta(microseconds=2)
        fire = nxt

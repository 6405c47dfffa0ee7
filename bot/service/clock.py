"""Schedules on a faster clock, for tests and demos (``KPI_CLOCK_SPEED=3600``: an hour a second).

    trigger = FastTrigger(parse_schedule("every day 08:00", "Europe/Warsaw"), speed=86400)

Time is mapped from the moment the service started: virtual = start + (real - start) * speed. The
trigger computes the next fire time in virtual time and maps it back, so "every day 08:00" fires
about once a second at speed 86400, and the calendar's timezone still decides which instant is 08:00.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from apscheduler.triggers.base import BaseTrigger


class FastTrigger(BaseTrigger):
    def __init__(self, inner: Any, speed: float, start: datetime | None = None) -> None:
        self.inner, self.speed = inner, speed
        self.start = start or datetime.now(timezone.utc)

    def _virtual(self, real: datetime) -> datetime:
        return self.start + (real - self.start) * self.speed

    def _real(self, virtual: datetime) -> datetime:
        return self.start + (virtual - self.start) / self.speed

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        prev = self._virtual(previous_fire_time) if previous_fire_time else None
        vnow = self._virtual(now)
        nxt = self.inner.get_next_fire_time(prev, vnow)
        # Mapping back rounds to the microsecond, so a fire time can come back as the previous one
        # (real -> virtual lands a hair before the virtual instant, and the inner trigger returns it
        # again): APScheduler's run-time loop then never ends. Step the inner trigger past it.
        while nxt is not None and previous_fire_time is not None and self._real(nxt) <= previous_fire_time:
            nxt = self.inner.get_next_fire_time(nxt, max(vnow, nxt + timedelta(microseconds=1)))
        return self._real(nxt) if nxt else None

    def __str__(self) -> str:
        return f"{self.inner} x{self.speed:g}"

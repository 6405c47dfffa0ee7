"""The ack budget's rendezvous: whichever side runs first, an answer is delivered exactly once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from bot.budget import Rendezvous


def make() -> Rendezvous:
    return Rendezvous(ThreadPoolExecutor(4), budget=0.3)


def test_fast_work_is_answered_in_the_ack_and_the_lazy_side_stays_quiet() -> None:
    r = make()
    assert r.ack_side("k", lambda: "answer") == "answer"
    assert r.lazy_side("k") is None


def test_slow_work_is_left_to_the_lazy_side() -> None:
    r = make()
    assert r.ack_side("k", lambda: time.sleep(0.6) or "late") is None
    assert r.lazy_side("k") == "late"


def test_lazy_side_may_start_first() -> None:
    r = make()
    got: list[object] = []
    t = threading.Thread(target=lambda: got.append(r.lazy_side("k")))
    t.start()
    time.sleep(0.1)
    assert r.ack_side("k", lambda: time.sleep(0.5) or "late") is None
    t.join(5)
    assert got == ["late"]


def test_slots_are_released() -> None:
    r = make()
    for i in range(20):
        r.ack_side(f"k{i}", lambda: i)
        r.lazy_side(f"k{i}")
    assert r._slots == {}

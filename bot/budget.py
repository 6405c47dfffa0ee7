"""The 3-second rule: answer in the ack when it is ready within a budget, else via response_url.

Slack shows ``operation_timeout`` when a slash command is not acked within 3000 ms. For each command
the ack listener starts the work on a pool and waits up to ``budget`` seconds (default 2):

* ready in time -> the answer *is* the ack body (one round trip, nothing else posted);
* not ready     -> ack with "working on it"; bolt's lazy listener (started at the same time, on
  another thread) waits for the same work and delivers it with ``respond()`` to the response_url.

Both sides meet on the request's key (Slack's ``trigger_id``) in a ``Rendezvous``.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor, TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


@dataclass
class Slot(Generic[T]):
    future: Future = field(default_factory=Future)
    decided: threading.Event = field(default_factory=threading.Event)
    in_ack: bool = False


class Rendezvous(Generic[T]):
    """Work keyed by request; the ack side decides, the lazy side delivers when the ack could not."""

    def __init__(self, executor: ThreadPoolExecutor, budget: float = 2.0) -> None:
        self.executor, self.budget = executor, budget
        self._slots: dict[str, Slot[T]] = {}
        self._lock = threading.Lock()

    def _slot(self, key: str) -> Slot[T]:
        with self._lock:
            return self._slots.setdefault(key, Slot())

    def ack_side(self, key: str, work: Callable[[], T], budget: float | None = None) -> T | None:
        """Start ``work``; its result when ready within the budget (answered in the ack), else None."""
        slot = self._slot(key)
        inner = self.executor.submit(work)
        inner.add_done_callback(lambda f: _copy(f, slot.future))
        try:
            result = slot.future.result(timeout=self.budget if budget is None else budget)
        except FutureTimeout:
            slot.decided.set()
            return None
        slot.in_ack = True
        slot.decided.set()
        return result

    def lazy_side(self, key: str, timeout: float = 600.0) -> T | None:
        """The result to deliver through response_url, or None when the ack already carried it."""
        slot = self._slot(key)
        try:
            if not slot.decided.wait(timeout=5.0) or slot.in_ack:
                return None
            return slot.future.result(timeout=timeout)
        finally:
            with self._lock:
                self._slots.pop(key, None)


def _copy(src: Future, dst: Future) -> None:
    if src.exception() is not None:
        dst.set_exception(src.exception())
    else:
        dst.set_result(src.result())

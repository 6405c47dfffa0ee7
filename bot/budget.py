"""The 3-second rule under load: ack from arrival, compute on a bounded pool, answer once (layer: bot runtime).

Slack shows ``operation_timeout`` when a request is not acked within 3000 ms *of its sending*. So the
ack side never computes and never queues behind answers:

    pool = AnswerPool(workers=4, max_queue=500)
    job = pool.submit(work, deliver)      # None: the queue is full -> ack "busy, try again" (final)
    wait = pool.ack_wait(job, arrived_at, budget=2.0)   # 0 unless a worker took it at once and time is left
    reply = job.take(wait)                # the answer when ready within ``wait`` (it goes in the ack),
                                          # else None: ack "working on it"; the worker calls deliver()

``arrived_at`` is when the request reached the process (``time.monotonic()``, stamped by the transport
before any queue: see ``transport.py``), not when a thread got round to it. An ack waits only when its
work started on an idle worker and the typical answer time fits what is left of the budget, so at most
``workers`` acks wait at once and every other request is acked as soon as it is read.

Exactly one final answer per job: the result is either taken by the ack or handed to ``deliver``,
decided under one lock (``Job``).
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Generic, TypeVar

T = TypeVar("T")
log = logging.getLogger("kpi.bot")

MIN_WAIT = 0.05  # less than this left of the budget: not worth holding the ack
_MISSING = object()


class Job(Generic[T]):
    """One answer. ``take`` (ack side) and ``run`` (worker side) meet under a lock: exactly one of them
    ends up with the result, so it is sent once, in the ack or through ``deliver``."""

    def __init__(self, work: Callable[[], T], deliver: Callable[[T], None], fallback: Callable[[str], T],
                 *, started_at_once: bool) -> None:
        self._work, self._deliver, self._fallback = work, deliver, fallback
        self.started_at_once = started_at_once
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._result: object = _MISSING
        self._handed_off = False

    def run(self) -> None:
        try:
            result = self._work()
        except Exception:  # noqa: BLE001 - work is guarded; this is the last line so an answer still goes out
            ref = uuid.uuid4().hex[:6]
            log.exception("answer failed (ref %s)", ref)
            result = self._fallback(ref)
        with self._lock:
            self._result = result
            deliver = self._handed_off
        self._ready.set()
        if deliver:
            try:
                self._deliver(result)  # type: ignore[arg-type]
            except Exception:  # noqa: BLE001 - e.g. response_url refused: logged, the worker goes on
                log.exception("could not deliver an answer")

    def take(self, timeout: float) -> T | None:
        """The result if ready within ``timeout`` seconds (the caller sends it), else None (the worker
        delivers it when done)."""
        if timeout > 0:
            self._ready.wait(timeout)
        with self._lock:
            if self._result is not _MISSING:
                return self._result  # type: ignore[return-value]
            self._handed_off = True
            return None


class AnswerPool:
    """A fixed pool of answer workers with a bounded queue, apart from the threads that ack."""

    def __init__(self, workers: int = 4, *, max_queue: int = 500,
                 fallback: Callable[[str], object] = lambda ref: None) -> None:
        self.workers, self.max_queue, self.fallback = workers, max_queue, fallback
        self._executor = ThreadPoolExecutor(workers, "kpi-answer")
        self._lock = threading.Lock()
        self._queued = self._running = 0
        self.typical: float | None = None  # moving average of answer seconds

    @property
    def pending(self) -> int:
        with self._lock:
            return self._queued + self._running

    def submit(self, work: Callable[[], T], deliver: Callable[[T], None]) -> Job[T] | None:
        """Queue ``work``; None when ``max_queue`` answers already wait for a worker."""
        with self._lock:
            if self._queued >= self.max_queue:
                return None
            idle = self._queued + self._running < self.workers
            self._queued += 1
        job: Job[T] = Job(work, deliver, self.fallback, started_at_once=idle)  # type: ignore[arg-type]
        # the worker sees the submitter's context variables: the workspace answered (teams.py)
        self._executor.submit(contextvars.copy_context().run, self._run, job)
        return job

    def run_later(self, work: Callable[[], object]) -> bool:
        """Work whose result nobody waits for (buttons, mentions answer by themselves); False when full."""
        job = self.submit(work, lambda _: None)
        if job is None:
            return False
        job.take(0)
        return True

    def ack_wait(self, job: Job, arrived_at: float, budget: float, now: float | None = None) -> float:
        """Seconds the ack may wait for ``job``: what is left of ``budget`` since ``arrived_at`` when the
        answer can be ready in it (a worker took it at once and the typical answer fits), else 0."""
        left = arrived_at + budget - (time.monotonic() if now is None else now)
        if not job.started_at_once or left < MIN_WAIT:
            return 0.0
        if self.typical is not None and self.typical > left:
            return 0.0
        return left

    def _run(self, job: Job) -> None:
        with self._lock:
            self._queued -= 1
            self._running += 1
        start = time.monotonic()
        try:
            job.run()
        finally:
            took = time.monotonic() - start
            with self._lock:
                self._running -= 1
                self.typical = took if self.typical is None else 0.8 * self.typical + 0.2 * took

    def drain(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for queued and running answers to be delivered (a graceful stop);
        False when some are still pending."""
        deadline = time.monotonic() + timeout
        while self.pending and time.monotonic() < deadline:
            time.sleep(0.05)
        return not self.pending

    def shutdown(self, wait: bool = False) -> None:
        self._executor.shutdown(wait=wait, cancel_futures=not wait)

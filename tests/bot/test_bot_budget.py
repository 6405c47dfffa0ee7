"""The ack budget (bot/budget.py): counted from arrival, waits only when the answer can be ready, a bounded
queue, and exactly one final answer per job whichever side gets there first. No wall-clock asserts: the
arrival-based logic is checked with explicit times, and the races with events."""

from __future__ import annotations

import threading

from bot.budget import AnswerPool, Job


def gate() -> tuple[threading.Event, threading.Event]:
    """(started, release): work that waits until the test lets it finish."""
    return threading.Event(), threading.Event()


def blocked_work(started: threading.Event, release: threading.Event, value: str = "answer"):  # noqa: ANN201
    def work() -> str:
        started.set()
        assert release.wait(10)
        return value
    return work


def test_ready_answer_goes_in_the_ack_and_is_not_delivered_again() -> None:
    pool = AnswerPool(2)
    delivered: list[str] = []
    job = pool.submit(lambda: "answer", delivered.append)
    assert job is not None and job.take(5) == "answer"
    pool.shutdown(wait=True)
    assert delivered == []


def test_late_answer_is_delivered_once_by_the_worker() -> None:
    pool = AnswerPool(2)
    started, release = gate()
    delivered: list[str] = []
    job = pool.submit(blocked_work(started, release, "late"), delivered.append)
    assert job is not None and started.wait(5)
    assert job.take(0) is None  # the ack gives up: "working on it"
    release.set()
    pool.shutdown(wait=True)
    assert delivered == ["late"]


def test_result_ready_when_the_ack_gives_up_goes_in_the_ack() -> None:
    """The race: the worker finished just before the ack side decided; the ack carries it, nothing else."""
    delivered: list[str] = []
    job: Job[str] = Job(lambda: "just in time", delivered.append, lambda ref: "x", started_at_once=True)
    job.run()
    assert job.take(0) == "just in time" and delivered == []


def test_budget_is_counted_from_arrival_not_from_pickup() -> None:
    pool = AnswerPool(2)
    started, release = gate()
    job = pool.submit(blocked_work(started, release), lambda r: None)
    assert job is not None and job.started_at_once
    assert pool.ack_wait(job, arrived_at=100.0, budget=2.0, now=100.5) == 1.5
    assert pool.ack_wait(job, arrived_at=100.0, budget=2.0, now=101.99) == 0.0  # under MIN_WAIT left
    assert pool.ack_wait(job, arrived_at=100.0, budget=2.0, now=103.0) == 0.0  # waited in a queue: ack at once
    release.set()
    pool.shutdown(wait=True)


def test_no_wait_when_no_worker_is_idle_or_answers_take_longer_than_what_is_left() -> None:
    pool = AnswerPool(1)
    started, release = gate()
    first = pool.submit(blocked_work(started, release), lambda r: None)
    second = pool.submit(lambda: "queued", lambda r: None)
    assert first is not None and second is not None
    assert first.started_at_once and not second.started_at_once
    assert pool.ack_wait(second, arrived_at=100.0, budget=2.0, now=100.0) == 0.0
    pool.typical = 1.8
    assert pool.ack_wait(first, arrived_at=100.0, budget=2.0, now=100.5) == 0.0  # 1.8 s will not fit in 1.5
    release.set()
    pool.shutdown(wait=True)


def test_queue_is_bounded() -> None:
    pool = AnswerPool(1, max_queue=2)
    started, release = gate()
    jobs = [pool.submit(blocked_work(started, release), lambda r: None) for _ in range(3)]
    assert started.wait(5)
    assert all(j is not None for j in jobs)  # one running, two queued
    assert pool.submit(lambda: "x", lambda r: None) is None  # full: the caller acks "busy"
    assert pool.pending == 3
    release.set()
    pool.shutdown(wait=True)
    assert pool.pending == 0


def test_failing_work_still_gets_one_answer_with_a_reference() -> None:
    pool = AnswerPool(1, fallback=lambda ref: f"broke {ref}")
    delivered: list[str] = []

    def boom() -> str:
        raise RuntimeError("bug")
    job = pool.submit(boom, delivered.append)
    assert job is not None
    in_ack = job.take(0)
    pool.shutdown(wait=True)
    answers = ([in_ack] if in_ack is not None else []) + delivered
    assert len(answers) == 1 and answers[0].startswith("broke ")


def test_many_jobs_each_answered_exactly_once() -> None:
    """Half taken by the ack, half delivered: every job ends in exactly one place."""
    pool = AnswerPool(4, max_queue=1000)
    delivered: list[int] = []
    lock = threading.Lock()

    def deliver(i: int) -> None:
        with lock:
            delivered.append(i)
    jobs = [pool.submit(lambda i=i: i, deliver) for i in range(400)]
    in_ack = [j.take(0.01 if n % 2 else 0) for n, j in enumerate(jobs) if j is not None]
    pool.shutdown(wait=True)
    taken = [r for r in in_ack if r is not None]
    assert sorted(taken + delivered) == list(range(400))

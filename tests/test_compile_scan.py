"""Bucket keys: the CASE tree that places a row in its segment, and the windows' edges (compile_scan)."""

from __future__ import annotations

import bisect
from datetime import date, timedelta

import duckdb
from hypothesis import given, settings, strategies as st

from metrics_core.compile_scan import Edges, event_key, position, snapshot_keys
from metrics_core.periods import Calendar, Period

CAL = Calendar(timezone="America/New_York")
DAYS = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
_con = duckdb.connect(":memory:")


def _eval(sql: str) -> int:
    return _con.execute(f"SELECT {sql}").fetchone()[0]


def _window(s: date, e: date) -> Period:
    return Period(f"{s}..{e}", "range", s, e)


@settings(max_examples=200, deadline=None)
@given(st.lists(DAYS, min_size=0, max_size=40, unique=True), DAYS)
def test_position_counts_the_edges_at_or_before_a_value(edges: list[date], d: date) -> None:
    edges.sort()
    lits = [f"DATE '{e}'" for e in edges]
    assert _eval(position(f"DATE '{d}'", lits)) == bisect.bisect_right(edges, d)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(DAYS, st.integers(0, 400)), min_size=1, max_size=6), DAYS)
def test_a_row_lands_in_every_window_that_holds_it(windows: list[tuple[date, int]], d: date) -> None:
    periods = {pid: _window(s, s + timedelta(days=n)) for pid, (s, n) in enumerate(windows)}
    edges = Edges.of(periods, CAL)
    inside = [pid for pid, p in periods.items() if p.start <= d <= p.end]
    covered = any(edges.dates[lo] <= d < edges.dates[hi] for lo, hi in edges.covered())
    assert covered == bool(inside)  # the WHERE keeps exactly the rows some window holds
    if inside:
        k = _eval(event_key(f"DATE '{d}'", edges, "date"))
        assert [pid for pid, (lo, hi) in edges.windows.items() if lo < k <= hi] == inside


@settings(max_examples=100, deadline=None)
@given(st.lists(DAYS, min_size=1, max_size=5), DAYS, st.one_of(st.none(), DAYS))
def test_snapshot_keys_say_open_at_each_window_end(ends: list[date], start: date, stop: date | None) -> None:
    periods = {pid: _window(e - timedelta(days=30), e) for pid, e in enumerate(ends)}
    edges = Edges.of(periods, CAL)
    stop_sql = f"DATE '{stop}'" if stop else "CAST(NULL AS DATE)"
    a, b, where = snapshot_keys(f"DATE '{start}'", "date", stop_sql, "date", edges)
    a, b, kept = _eval(a), _eval(b), _eval(where)
    for pid, p in periods.items():
        edge = p.end_exclusive
        open_then = start < edge and (stop is None or stop >= edge)
        j = edges.windows[pid][1]
        assert (bool(kept) and a <= j < b) == open_then


def test_timestamp_edges_are_local_midnights_in_utc() -> None:
    edges = Edges.of({0: _window(date(2026, 3, 1), date(2026, 3, 31))}, CAL)
    assert edges.literals("timestamp") == ["TIMESTAMP '2026-03-01 05:00:00'", "TIMESTAMP '2026-04-01 04:00:00'"]
    assert edges.literals("date") == ["DATE '2026-03-01'", "DATE '2026-04-01'"]

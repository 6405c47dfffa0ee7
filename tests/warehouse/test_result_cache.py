"""The result cache: keys, expiry, atomic files, threads, and the --no-cache path."""

from __future__ import annotations

import os
import threading
import sys
import subprocess
from datetime import date, datetime
from decimal import Decimal

import pytest

from metrics_core.cache import CacheKey, ResultCache, cached_run
from metrics_core.columns import Columns


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class CountingBackend:
    """Stands in for a warehouse: counts how often it is asked."""

    url = "postgresql://kpi@db/sales"

    def __init__(self, version: str | None) -> None:
        self.version, self.calls = version, 0

    def run(self, sql: str, params: dict) -> Columns:
        self.calls += 1
        return Columns({"value": [0.25], "day": [date(2026, 11, 1)]})

    def data_version(self) -> str | None:
        return self.version


@pytest.fixture
def frame() -> Columns:
    return Columns({"segment": ["smb", "ent"], "value": [0.5, None], "n": [3, 4],
                    "start": [date(2026, 7, 1), date(2026, 7, 1)]})


def test_round_trip_keeps_values_and_dates(tmp_path, frame):
    cache = ResultCache(tmp_path)
    key = CacheKey.of("SELECT 1", {"p0": "smb"}, "duckdb:///x", "v1")
    assert cache.get(key) is None
    cache.put(key, frame)
    assert cache.get(key) == frame
    assert (cache.stats.hits, cache.stats.misses, cache.stats.writes) == (1, 1, 1)


def test_round_trip_keeps_types_a_string_could_be_confused_with(tmp_path):
    """A date, a timestamp, a decimal and the string spelling of each come back as they went in."""
    cols = Columns({"d": [date(2026, 1, 2), "2026-01-02"], "t": [datetime(2026, 1, 2, 3, 4, 5), "x"],
                    "dec": [Decimal("1.10"), "1.10"], "f": [float("inf"), -0.0], "b": [True, 1]})
    cache = ResultCache(tmp_path)
    key = CacheKey.of("SELECT 1", {}, "u", "v")
    cache.put(key, cols)
    back = cache.get(key)
    assert back == cols
    assert [type(v) for v in back["d"]] == [date, str] and type(back["dec"][0]) is Decimal
    assert [type(v) for v in back["b"]] == [bool, int]


def test_unstorable_values_are_simply_not_cached(tmp_path):
    cache = ResultCache(tmp_path)
    key = CacheKey.of("SELECT 1", {}, "u", "v")
    cache.put(key, Columns({"x": [object()]}))
    assert cache.get(key) is None and cache.stats.writes == 0


def test_a_cached_answer_imports_neither_pandas_nor_pyarrow(tmp_path, frame):
    """The DuckDB path of `kpi query` stays free of pandas/pyarrow, cache hits included."""
    cache = ResultCache(tmp_path)
    key = CacheKey.of("SELECT 1", {}, "u", "v")
    cache.put(key, frame)
    code = ("import sys; from metrics_core.cache import CacheKey, ResultCache; "
            f"c = ResultCache({str(tmp_path)!r}); k = CacheKey.of('SELECT 1', {{}}, 'u', 'v'); "
            "assert c.get(k) is not None; print(sorted(m for m in ('pandas', 'pyarrow', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_key_depends_on_sql_params_url_version_and_param_types():
    base = CacheKey.of("SELECT 1", {"p0": date(2026, 1, 1)}, "u", "v")
    variants = [CacheKey.of("SELECT 2", {"p0": date(2026, 1, 1)}, "u", "v"),
                CacheKey.of("SELECT 1", {"p0": "2026-01-01"}, "u", "v"),
                CacheKey.of("SELECT 1", {"p0": date(2026, 1, 2)}, "u", "v"),
                CacheKey.of("SELECT 1", {"p0": date(2026, 1, 1)}, "u2", "v"),
                CacheKey.of("SELECT 1", {"p0": date(2026, 1, 1)}, "u", "v2")]
    assert len({base.digest, *(v.digest for v in variants)}) == 6
    assert CacheKey.of("S", {"a": 1, "b": 2}, "u", None).digest == CacheKey.of("S", {"b": 2, "a": 1}, "u", None).digest


def test_unversioned_entries_expire_after_ttl(tmp_path, frame):
    clock = Clock()
    cache = ResultCache(tmp_path, ttl_seconds=60, clock=clock)
    key = CacheKey.of("SELECT 1", {}, "spark://local[2]", None)
    cache.put(key, frame)
    clock.now = os.stat(cache.path_for(key)).st_mtime + 59
    assert cache.get(key) is not None
    clock.now += 2
    assert cache.get(key) is None


def test_versioned_entries_also_expire_and_prune_removes_them(tmp_path, frame):
    """The TTL bounds staleness even when a version is known (it may lag, e.g. replicas)."""
    clock = Clock()
    cache = ResultCache(tmp_path, ttl_seconds=60, clock=clock)
    key = CacheKey.of("SELECT 1", {}, "postgresql://db/x", "lsn:0/1")
    cache.put(key, frame)
    clock.now = os.stat(cache.path_for(key)).st_mtime + 30
    assert cache.get(key) is not None
    assert cache.get(CacheKey.of("SELECT 1", {}, "postgresql://db/x", "lsn:0/2")) is None  # new data
    clock.now += 60
    assert cache.get(key) is None
    assert cache.prune() == 1 and not list(tmp_path.rglob("*.json"))


def test_expired_entries_are_removed_as_new_ones_are_written(tmp_path, frame):
    """A long-running bot on a warehouse writes an entry per question and data version: expired ones
    go when a later entry is written (at most once per TTL, by any process sharing the directory)."""
    clock = Clock()
    cache = ResultCache(tmp_path, ttl_seconds=60, clock=clock)
    t0 = clock.now

    def put_at(seconds: float, name: str) -> None:
        clock.now = t0 + seconds
        key = CacheKey.of(f"SELECT '{name}'", {}, "postgresql://db/x", "v1")
        cache.put(key, frame)
        os.utime(cache.path_for(key), (clock.now, clock.now))  # written "now" on the test's clock
        names[cache.path_for(key).name] = name

    def left() -> set[str]:
        return {names[p.name] for p in tmp_path.rglob("*.json")}

    names: dict[str, str] = {}
    for name in "abc":
        put_at(0, name)  # the first write prunes (nothing yet) and starts the clock
    put_at(30, "d")
    assert left() == set("abcd")
    put_at(75, "e")  # due (75 s since): a, b, c are 75 s old, past the 60 s TTL; d is 45 s
    assert left() == set("de")
    put_at(100, "f")  # not due (25 s since): d, 70 s old, waits for the next pruning
    assert left() == set("def")
    put_at(140, "g")  # due: d (110 s) and e (65 s) go, f (40 s) stays
    assert left() == set("fg")
    assert ResultCache(tmp_path, ttl_seconds=60, clock=clock).get(CacheKey.of("SELECT 'f'", {}, "postgresql://db/x", "v1")) == frame


def test_truncated_file_is_a_miss_not_an_error(tmp_path, frame):
    cache = ResultCache(tmp_path)
    key = CacheKey.of("SELECT 1", {}, "u", "v")
    cache.put(key, frame)
    cache.path_for(key).write_bytes(b'{"columns": {"x": [1, ')
    assert cache.get(key) is None


def test_concurrent_writers_and_readers_see_whole_files(tmp_path, frame):
    cache = ResultCache(tmp_path)
    key = CacheKey.of("SELECT 1", {}, "u", "v")
    seen: list[Columns | None] = []

    def work() -> None:
        for _ in range(20):
            cache.put(key, frame)
            seen.append(cache.get(key))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(cols == frame for cols in seen)
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".tmp-")]


def test_cached_run_hits_on_second_call_and_no_cache_bypasses(tmp_path):
    backend = CountingBackend("lsn:0/1")
    cache = ResultCache(tmp_path)
    assert cached_run(cache, backend, "SELECT 1", {"p0": 1})[1] is False
    df, hit = cached_run(cache, backend, "SELECT 1", {"p0": 1})
    assert hit and backend.calls == 1 and df["value"][0] == 0.25
    assert cached_run(cache, backend, "SELECT 1", {"p0": 1}, use_cache=False)[1] is False
    assert backend.calls == 2
    backend.version = "lsn:0/2"  # new data: a new key
    assert cached_run(cache, backend, "SELECT 1", {"p0": 1})[1] is False and backend.calls == 3

"""The result cache: keys, expiry, atomic files, threads, and the --no-cache path."""

from __future__ import annotations

import os
import threading
from datetime import date

import pandas as pd
import pytest

from metrics_core.cache import CacheKey, ResultCache, cached_run


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

    def run(self, sql: str, params: dict) -> pd.DataFrame:
        self.calls += 1
        return pd.DataFrame({"value": [0.25], "day": [date(2026, 11, 1)]})

    def data_version(self) -> str | None:
        return self.version


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({"segment": ["smb", "ent"], "value": [0.5, None], "n": [3, 4],
                         "start": [date(2026, 7, 1), date(2026, 7, 1)]})


def test_round_trip_keeps_values_and_dates(tmp_path, frame):
    cache = ResultCache(tmp_path)
    key = CacheKey.of("SELECT 1", {"p0": "smb"}, "duckdb:///x", "v1")
    assert cache.get(key) is None
    cache.put(key, frame)
    pd.testing.assert_frame_equal(cache.get(key), frame)
    assert (cache.stats.hits, cache.stats.misses, cache.stats.writes) == (1, 1, 1)


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
    assert cache.prune() == 1 and not list(tmp_path.rglob("*.parquet"))


def test_truncated_file_is_a_miss_not_an_error(tmp_path, frame):
    cache = ResultCache(tmp_path)
    key = CacheKey.of("SELECT 1", {}, "u", "v")
    cache.put(key, frame)
    cache.path_for(key).write_bytes(b"PAR1 not really")
    assert cache.get(key) is None


def test_concurrent_writers_and_readers_see_whole_files(tmp_path, frame):
    cache = ResultCache(tmp_path)
    key = CacheKey.of("SELECT 1", {}, "u", "v")
    seen: list[pd.DataFrame | None] = []

    def work() -> None:
        for _ in range(20):
            cache.put(key, frame)
            seen.append(cache.get(key))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(df is not None and df.equals(frame) for df in seen)
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

"""Prometheus metrics of the service, in a registry of its own (layer: bot runtime).

    GET /metrics   kpi_answers_total{surface}          answers given (api)
                   kpi_answer_errors_total{surface,kind}  user / access / internal errors
                   kpi_answer_seconds{surface}         latency histogram
                   kpi_sync_runs_total{trigger,result} Sheets syncs (schedule, api, slack)
                   kpi_sync_seconds                    sync duration histogram
                   kpi_job_failures_total{job}         scheduled jobs that failed
                   kpi_cache_hits_total / kpi_cache_misses_total   the shared answer cache
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Telemetry:
    def __init__(self, cache_stats: Callable[[], Any] = lambda: None) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.answers = Counter("kpi_answers", "Answers given", ["surface"], registry=r)
        self.errors = Counter("kpi_answer_errors", "Questions that got an error", ["surface", "kind"], registry=r)
        self.latency = Histogram("kpi_answer_seconds", "Time to answer a question", ["surface"], registry=r,
                                 buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30))
        self.syncs = Counter("kpi_sync_runs", "Sheets syncs run", ["trigger", "result"], registry=r)
        self.sync_seconds = Histogram("kpi_sync_seconds", "Sheets sync duration", registry=r,
                                      buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300))
        self.job_failures = Counter("kpi_job_failures", "Scheduled jobs that failed", ["job"], registry=r)
        r.register(_CacheCollector(cache_stats))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _CacheCollector:
    """Reads the shared ResultCache's own counters at scrape time (none when there is no cache)."""

    def __init__(self, stats: Callable[[], Any]) -> None:
        self.stats = stats

    def collect(self) -> Iterator[CounterMetricFamily]:
        s = self.stats()
        yield CounterMetricFamily("kpi_cache_hits", "Answers served from the cache", value=getattr(s, "hits", 0))
        yield CounterMetricFamily("kpi_cache_misses", "Answers the engine computed", value=getattr(s, "misses", 0))

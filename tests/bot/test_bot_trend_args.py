"""The Trend button charts the question as asked: its breakdown, grain and filters (the filters were
once dropped, so a chart of "win_rate where source=webinar" showed every source)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from bot.answer import trend_args
from metrics_core import KPI

ROOT = Path(__file__).resolve().parents[2]


def test_trend_args_keep_breakdown_grain_and_filters() -> None:
    snap = SimpleNamespace(kpi=KPI.from_path(ROOT / "definitions.yaml"))  # plan() reads no data
    by, grain, where = trend_args(snap, "win_rate ytd by region where source=webinar grain week")
    assert (by, grain, where) == (("region",), "week", {"source": ("webinar",)})
    assert trend_args(snap, "cac last-quarter") == ((), "month", {})

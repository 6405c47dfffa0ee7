"""Trend charts: PNG bytes from a trend result (plain, by a dimension, empty)."""

from __future__ import annotations

from dataclasses import replace

import matplotlib.pyplot as plt
from metrics_core.columns import Columns

from bot.chart import trend_png
from slack_doubles import make_trend

PNG = b"\x89PNG\r\n\x1a\n"


def test_plain_trend_is_a_png() -> None:
    assert trend_png(make_trend()).startswith(PNG)


def test_trend_by_dimension_draws_the_largest_groups_only() -> None:
    base = make_trend()
    rows = [{"label": f"M{m}", "region": f"R{g}", "value": g + m / 10} for m in range(12) for g in range(9)]
    result = replace(base, series_columns=Columns.from_records(rows), dimensions=("region",))
    before = set(plt.get_fignums())
    png = trend_png(result, max_lines=6)
    assert png.startswith(PNG) and set(plt.get_fignums()) == before  # figures are closed


def test_empty_trend_still_renders() -> None:
    assert trend_png(replace(make_trend(), series_columns=Columns())).startswith(PNG)

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


def _with_maturing(shares: list) -> object:
    base = make_trend(count=len(shares))
    recs = [dict(r, maturing=s) for r, s in zip(base.series_columns.records(), shares)]
    return replace(base, series_columns=Columns.from_records(recs))


def test_maturing_buckets_are_drawn_apart_with_a_legend_entry() -> None:
    """lead_to_win_rate's last two months are still inside the 90-day window: pale hollow points on a
    dashed line, labelled "still maturing"; the closed months keep the solid line."""
    from bot.chart import BLUE, PALE, trend_figure

    fig = trend_figure(_with_maturing([0.0, 0.0, 0.0, 0.0, 0.4, 1.0]))
    try:
        ax = fig.axes[0]
        lines = {ln.get_label(): ln for ln in ax.get_lines()}
        solid = ax.get_lines()[0]
        assert list(solid.get_xdata()) == [0, 1, 2, 3] and solid.get_color() == BLUE and solid.get_linestyle() == "-"
        marked = lines["still maturing"]
        assert list(marked.get_xdata()) == [4, 5] and marked.get_markerfacecolor() == "white"
        assert marked.get_markeredgecolor() == PALE != BLUE
        dashed = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
        assert [list(ln.get_xdata()) for ln in dashed] == [[3, 4, 5]]  # joins the last closed month
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["still maturing"]
        assert [t.get_text() for t in ax.get_xticklabels()][-1] == "May 2026"
    finally:
        plt.close(fig)


def test_no_maturing_bucket_no_legend() -> None:
    from bot.chart import trend_figure

    for shares in ([0.0] * 4, [None] * 4):
        fig = trend_figure(_with_maturing(shares))
        try:
            ax = fig.axes[0]
            assert ax.get_legend() is None and len(ax.get_lines()) == 1
            assert list(ax.get_lines()[0].get_xdata()) == [0, 1, 2, 3]
        finally:
            plt.close(fig)

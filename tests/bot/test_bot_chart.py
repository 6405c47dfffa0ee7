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


def test_maturing_buckets_are_marked_on_every_line_of_a_breakdown() -> None:
    """lead_to_win_rate by segment: each segment's open months dashed in its own colour with hollow points,
    one "still maturing" legend entry after the segments; a segment with no open month stays solid."""
    from bot.chart import trend_figure

    base = make_trend(count=4)
    shares = {"SMB": [0.0, 0.0, 0.3, 1.0], "ENT": [0.0, 0.0, 0.0, 1.0], "MM": [0.0] * 4}
    recs = [dict(r, segment=seg, value=r["value"] + i / 10, maturing=shares[seg][n])
            for n, r in enumerate(base.series_columns.records()) for i, seg in enumerate(shares)]
    fig = trend_figure(replace(base, series_columns=Columns.from_records(recs), dimensions=("segment",)))
    try:
        ax = fig.axes[0]
        solid = {ln.get_label(): ln for ln in ax.get_lines() if not ln.get_label().startswith("_")}
        assert {k: list(v.get_xdata()) for k, v in solid.items()} == {"SMB": [0, 1], "ENT": [0, 1, 2],
                                                                      "MM": [0, 1, 2, 3]}
        dashed = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
        assert [(list(ln.get_xdata()), ln.get_color()) for ln in dashed] == [
            ([2, 3], solid["ENT"].get_color()), ([1, 2, 3], solid["SMB"].get_color())]  # largest group first
        hollow = [ln for ln in ax.get_lines() if ln.get_markerfacecolor() == "white"]
        assert [list(ln.get_xdata()) for ln in hollow] == [[3], [2, 3]]
        legend = ax.get_legend()
        assert [t.get_text() for t in legend.get_texts()] == ["MM", "ENT", "SMB", "still maturing"]
        assert legend.legend_handles[-1].get_linestyle() == "--"
        assert [t.get_text() for t in ax.get_xticklabels()] == [r["label"] for r in base.series_columns.records()]
    finally:
        plt.close(fig)


def test_a_breakdown_with_nothing_maturing_has_no_maturing_entry() -> None:
    from bot.chart import trend_figure

    base = make_trend(count=3)
    recs = [dict(r, segment=seg, maturing=None) for r in base.series_columns.records() for seg in ("A", "B")]
    fig = trend_figure(replace(base, series_columns=Columns.from_records(recs), dimensions=("segment",)))
    try:
        ax = fig.axes[0]
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["A", "B"]
        assert not [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    finally:
        plt.close(fig)


def test_the_maturing_legend_entry_is_translated() -> None:
    from bot.chart import trend_figure
    from metrics_core.i18n import use_locale

    base = make_trend(count=2)
    recs = [dict(r, segment="A", maturing=s) for r, s in zip(base.series_columns.records(), (0.0, 0.5))]
    with use_locale("pl_PL"):
        fig = trend_figure(replace(base, series_columns=Columns.from_records(recs), dimensions=("segment",)))
    try:
        assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["A", "jeszcze dojrzewa"]
    finally:
        plt.close(fig)


def test_small_sample_buckets_are_annotated_on_every_line() -> None:
    """A bucket resting on few rows says "n=3" above its point, with one legend entry; the others say nothing."""
    from bot.chart import trend_figure

    base = make_trend(count=3)
    one = [dict(r, small_sample=s, sample_size=n) for r, s, n in zip(base.series_columns.records(), (False, True, False),
                                                                        (40, 3, 50))]
    fig = trend_figure(replace(base, series_columns=Columns.from_records(one)))
    try:
        notes = [(t.get_text(), t.xy) for t in fig.axes[0].texts]
        assert notes == [("n=3", (1, one[1]["value"]))]
        assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["n=…: a small sample, read with care"]
    finally:
        plt.close(fig)
    recs = [dict(r, segment=seg, small_sample=seg == "B", sample_size=2 if seg == "B" else 90)
            for r in base.series_columns.records() for seg in ("A", "B")]
    fig = trend_figure(replace(base, series_columns=Columns.from_records(recs), dimensions=("segment",)))
    try:
        assert [(t.get_text(), t.xy[0]) for t in fig.axes[0].texts] == [("n=2", 0), ("n=2", 1), ("n=2", 2)]
        assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [
            "A", "B", "n=…: a small sample, read with care"]
    finally:
        plt.close(fig)


def test_the_small_sample_legend_entry_is_translated() -> None:
    from bot.chart import trend_figure
    from metrics_core.i18n import use_locale

    base = make_trend(count=2)
    recs = [dict(r, small_sample=True, sample_size=4) for r in base.series_columns.records()]
    with use_locale("pl_PL"):
        fig = trend_figure(replace(base, series_columns=Columns.from_records(recs)))
    try:
        assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["n=…: mała próba, czytaj ostrożnie"]
    finally:
        plt.close(fig)

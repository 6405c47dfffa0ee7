"""A trend MetricResult -> PNG bytes (matplotlib, Agg backend: no display needed; layer: bot presentation).

    png = trend_png(kpi.trend("win_rate", grain="month", count=12))
    fig = trend_figure(result)   # the same chart as a Figure, for tests (close it)

``result.series`` has one row per bucket (start, label, value[, dimension columns]); with a
breakdown, the largest ``max_lines`` groups get a line each. A conversion's buckets whose window is
still open (``maturing`` > 0) are drawn pale and dashed, with a "still maturing" legend entry; with a
breakdown, each group's open buckets are dashed in the group's colour, with hollow points. A bucket
resting on few rows (``small_sample``) is annotated "n=3" above its point, with a legend entry.
"""

from __future__ import annotations

import io
from typing import Any, Callable, assert_never

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from metrics_core.formatting import fmt_value  # noqa: E402
from metrics_core.i18n import active_locale, gettext as _  # noqa: E402
from metrics_core.result import FormatKind  # noqa: E402



BLUE, PALE = "#1264a3", "#a9c7e4"


def trend_png(result: Any, *, max_lines: int = 6, dpi: int = 110) -> bytes:
    fig = trend_figure(result, max_lines=max_lines, dpi=dpi)
    try:
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()
    finally:
        plt.close(fig)


def trend_figure(result: Any, *, max_lines: int = 6, dpi: int = 110) -> Any:
    """The chart as a matplotlib Figure (the caller closes it): tests read its artists, not pixels."""
    series = result.series
    fig, ax = plt.subplots(figsize=(8, 4), dpi=dpi)
    try:
        if series is None or series.empty:
            ax.text(0.5, 0.5, _("no data"), ha="center", va="center", transform=ax.transAxes)
        elif result.dimensions:
            _plot_groups(ax, series, result.dimensions, max_lines)
        else:
            _plot_one(ax, series)
        _legend_small(ax)
        fmt = _axis_format(result)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt(v)))
        # TRANSLATORS: a chart title, e.g. "Win rate by month"
        ax.set_title(_("{metric} by {grain}").format(metric=result.label, grain=_grain_word(result.grain)),
                     loc="left", fontsize=12)
        ax.grid(axis="y", alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
        fig.autofmt_xdate(rotation=45)
        fig.tight_layout()
        return fig
    except BaseException:
        plt.close(fig)
        raise


def _plot_one(ax: Any, series: Any) -> None:
    """One line; buckets whose conversion window is still open (``maturing`` > 0) drawn pale and dashed,
    with a legend entry, so a low recent rate reads as "not yet", not "worse"."""
    labels = [str(x) for x in series["label"]]
    values = list(series["value"])
    x = list(range(len(labels)))
    shares = list(series["maturing"]) if "maturing" in series.columns else [None] * len(x)
    open_ = [i for i, s in enumerate(shares) if s is not None and s == s and float(s) > 0]
    closed = [i for i in x if i not in open_]
    ax.plot([x[i] for i in closed], [values[i] for i in closed], marker="o", color=BLUE)
    if open_:
        # the dashed part starts at the last closed bucket before the first open one, so the line joins up
        lead = [i for i in closed if i < open_[0]][-1:]
        ax.plot([x[i] for i in lead + open_], [values[i] for i in lead + open_], color=PALE, linestyle="--")
        ax.plot([x[i] for i in open_], [values[i] for i in open_], marker="o", linestyle="none", color=PALE,
                markerfacecolor="white", markeredgecolor=PALE, markersize=8,
                # TRANSLATORS: the legend of a chart's pale points: a conversion rate that may still rise
                label=_("still maturing"))
        ax.legend(fontsize=8, frameon=False)
    ax.set_xticks(x, labels)
    _mark_to_date(ax, series, x)
    _mark_small(ax, series, x)


def _grain_word(grain: str | None) -> str:
    words = {"day": _("day"), "week": _("week"), "month": _("month"), "quarter": _("quarter"), "year": _("year"),
             "fiscal_quarter": _("fiscal quarter"), "fiscal_year": _("fiscal year")}
    return words.get(grain or "", _("period"))


def _axis_format(result: Any) -> Callable[[float], str]:
    """Axis numbers as the reader writes them (Babel, the active locale): 25%, $12,000 / 12 000 zł, 45 dni."""
    kind: FormatKind = result.format
    locale = active_locale() or "en_US"
    currency = result.currency or "USD"
    match kind:
        case "percent" | "currency" | "days" | "months" | "ratio" | "number":
            decimals = {"percent": 0, "currency": 0, "days": 0, "months": 1, "ratio": 1, "number": 0}[kind]
            return lambda v: fmt_value(v, kind, locale, currency=currency, decimals=decimals)
        case _:
            assert_never(kind)


def _mark_to_date(ax: Any, series: Any, x: list[int]) -> None:
    """A hollow last point when the last bucket is still running ("Nov 2026 to date")."""
    if "to_date" in series.columns and len(series) and bool(series["to_date"].iloc[-1]):
        ax.plot([x[-1]], [series["value"].iloc[-1]], marker="o", markersize=9, markerfacecolor="white",
                color=BLUE, linestyle="none")


def _mark_small(ax: Any, series: Any, x: list[int]) -> None:
    """A bucket resting on few rows (``small_sample``) says so above its point: "n=3"."""
    if "small_sample" not in series.columns:
        return
    sizes = series["sample_size"] if "sample_size" in series.columns else [None] * len(x)
    for i, (flag, n, v) in enumerate(zip(series["small_sample"], sizes, series["value"])):
        if flag == True and v is not None and v == v:  # noqa: E712 (numpy booleans)
            # TRANSLATORS: above a chart's point resting on few rows, e.g. "n=3"
            ax.annotate(_("n={count}").format(count=int(n or 0)), (x[i], v), textcoords="offset points",
                        xytext=(0, 7), ha="center", fontsize=7, color="grey", gid="small_sample")


def _legend_small(ax: Any) -> None:
    """One legend entry saying what "n=3" above a point means, after the lines' own entries."""
    from matplotlib.lines import Line2D

    if not any(t.get_gid() == "small_sample" for t in ax.texts):
        return
    old = ax.get_legend()
    handles = list(old.legend_handles) if old is not None else []
    names = [t.get_text() for t in old.get_texts()] if old is not None else []
    handles.append(Line2D([], [], linestyle="none", marker="$n$", color="grey"))
    # TRANSLATORS: a chart's legend entry explaining "n=3" above a point
    names.append(_("n=…: a small sample, read with care"))
    ax.legend(handles, names, fontsize=8, frameon=False)


def _plot_groups(ax: Any, series: Any, dims: tuple[str, ...], max_lines: int) -> None:
    """A line per group (the largest ``max_lines``), in its own colour; a group's buckets whose conversion
    window is still open drawn dashed with hollow points, and one "still maturing" legend entry for all."""
    from matplotlib.lines import Line2D

    key = series[list(dims)].astype(str).agg(" / ".join, axis=1)
    frame = series.assign(_group=key)
    top = frame.groupby("_group")["value"].sum().sort_values(ascending=False).index[:max_lines]
    labels = list(dict.fromkeys(str(x) for x in series["label"]))  # every bucket, in time order
    where = {label: i for i, label in enumerate(labels)}
    any_open = False
    for name in top:
        part = frame[frame["_group"] == name]
        x = [where[str(v)] for v in part["label"]]
        values = list(part["value"])
        shares = list(part["maturing"]) if "maturing" in part.columns else [None] * len(x)
        open_ = [i for i, s in enumerate(shares) if s is not None and s == s and float(s) > 0]
        closed = [i for i in range(len(x)) if i not in open_]
        (line,) = ax.plot([x[i] for i in closed], [values[i] for i in closed], marker="o", label=name)
        _mark_small(ax, part.reset_index(drop=True), x)
        if open_:
            any_open = True
            lead = [i for i in closed if i < open_[0]][-1:]  # the dashed part joins the solid one
            color = line.get_color()
            ax.plot([x[i] for i in lead + open_], [values[i] for i in lead + open_], color=color, linestyle="--",
                    alpha=0.6, label="_nolegend_")
            ax.plot([x[i] for i in open_], [values[i] for i in open_], marker="o", linestyle="none", color=color,
                    markerfacecolor="white", markeredgecolor=color, markersize=8, label="_nolegend_")
    handles, names = ax.get_legend_handles_labels()
    if any_open:
        handles.append(Line2D([], [], color="grey", linestyle="--", marker="o", markerfacecolor="white",
                              markeredgecolor="grey"))
        names.append(_("still maturing"))
    ax.set_xticks(range(len(labels)), labels)
    ax.legend(handles, names, fontsize=8, frameon=False)

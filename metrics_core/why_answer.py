"""`kpi why "pipeline_velocity last-month"`: answer both windows, then split the change (layer: facade).

The question is planned like any other (its comparison: ``vs ...``, else the definitions' default).
Without a breakdown one statement answers the metric and its factors for both windows (a derived
metric's sub-metrics, a ratio's numerator and denominator are components of the answer); with
``by <dimension>`` each window is asked by that dimension. The arithmetic is ``why`` (pure).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .assemble import Request
from .compile import MetricQuery, Slot
from .errors import QueryError
from .formatting import fmt_change, fmt_count, fmt_points
from .i18n import _
from .models import DerivedMetric
from .why import (Factor, SegmentEffect, WhyResult, contributions, log_attribution, product_factors,
                  shift_share)

if TYPE_CHECKING:
    from .api import KPI

BLANK = "(blank)"


def explain_change(kpi: "KPI", text: str, *, as_of: Any = None, use_cache: bool = True) -> WhyResult:
    req = kpi.plan(text, as_of=as_of)
    q = req.query
    cmp = next((s for s in q.slots if s.role == "comparison"), None)
    if cmp is None or req.compare_kind is None:
        raise QueryError(_("'why' compares two periods: ask with vs previous, vs last-year or vs a period "
                           "(not vs none)"))
    if len(q.dimensions) > 1:
        raise QueryError(_("'why' splits a change by one dimension at a time (got {dimensions})").format(
            dimensions=", ".join(q.dimensions)))
    current = q.slots[0]
    if q.dimensions:
        return _by_dimension(kpi, req, current, cmp, use_cache)
    two = replace(req, query=MetricQuery(q.metric, (current, cmp), (), q.filters, q.condition), grain=None)
    r = kpi._answer(two, use_cache)
    base = _base(kpi, q.metric, r.value, r.comparison.value, current.period, cmp.period, req.compare_kind)
    m = kpi.definitions.metrics[q.metric]
    now = {c.role: c for c in r.components}
    then = {c.role: c for c in r.comparison.components}
    if isinstance(m, DerivedMetric):
        found = product_factors(m.expr, kpi.definitions.sql_dialect)
        if found is None:
            raise QueryError(_("'why' splits products and ratios of metrics; {metric} = {formula} is not one").format(
                metric=q.metric, formula=m.expr))
        days = {"period_days": (float(cmp.period.days), float(current.period.days))}
        raw = [(n, *(days[n] if n == "period_days" else (then[n].value, now[n].value)), e) for n, e in found]
        labels = {n: _("days in the period") if n == "period_days" else kpi.definitions.metric_label(n) for n, _e in found}
        fmt = {n: (lambda v: fmt_count(v, kpi._asm.locale)) if n == "period_days"
               else (lambda v, n=n: kpi._asm.metric_fmt(n, v)) for n, _e in found}
        kind = "product"
    elif "numerator" in now and "denominator" in now:
        raw = [(now[k].name, then[k].value, now[k].value, e) for k, e in (("numerator", 1), ("denominator", -1))]
        labels = {now[k].name: now[k].label for k in ("numerator", "denominator")}
        fmt = {now[k].name: (lambda v, f=kpi.definitions.measures[now[k].name].format: kpi._asm.fmt(v, f))
               if now[k].name in kpi.definitions.measures else (lambda v: fmt_count(v, kpi._asm.locale))
               for k in ("numerator", "denominator")}
        kind = "ratio"
    else:
        raise QueryError(_("{metric} is one measure, with nothing to split it into; ask by a dimension "
                           "(e.g. by segment)").format(metric=q.metric))
    parts, total = log_attribution(raw, base.before, base.after)
    factors = tuple(Factor(n, labels[n], e, b, a, s, share, effect, fmt[n](b), fmt[n](a),
                           signed(kpi, q.metric, effect))
                    for (n, b, a, e), (s, share, effect) in zip(raw, parts))
    result = replace(base, kind=kind, factors=factors, log_change=total, notes=r.notes)
    return replace(result, summary=summary(kpi, result), headline=biggest_words(result))


def _by_dimension(kpi: "KPI", req: Request, current: Slot, cmp: Slot, use_cache: bool) -> WhyResult:
    q = req.query
    dim = q.dimensions[0]
    answers, cols = [], None
    for slot in (cmp, current):
        one = MetricQuery(q.metric, (Slot(0, "current", slot.period),), q.dimensions, q.filters, q.condition)
        answers.append(kpi._answer(Request(one, None, None, req.as_of, req.notes), use_cache))
        cols = kpi.compiled(one)
    before, after = answers
    m = kpi.definitions.metrics[q.metric]
    comps = {c.role: c for c in after.components}
    base = _base(kpi, q.metric, after.value, before.value, current.period, cmp.period, req.compare_kind or "")
    if "numerator" in comps and "denominator" in comps:
        num_col, den_col = _ratio_columns(cols, comps["numerator"].name, comps["denominator"].name, q.metric)
        rows0, rows1 = (_rows(a, dim, (num_col, den_col)) for a in (before, after))
        keys = sorted(set(rows0) | set(rows1), key=str)
        segs = shift_share([(k, *rows0.get(k, (0.0, 0.0)), *rows1.get(k, (0.0, 0.0))) for k in keys])
        kind = "mix"
    elif m.type == "simple" and kpi.definitions.measures[m.measure].agg in ("count", "sum"):  # type: ignore[union-attr]
        rows0, rows1 = (_rows(a, dim, ("value",)) for a in (before, after))
        keys = sorted(set(rows0) | set(rows1), key=str)
        segs = contributions([(k, rows0.get(k, (0.0,))[0], rows1.get(k, (0.0,))[0]) for k in keys])
        kind = "additive"
    else:
        raise QueryError(_("'why' by a dimension splits rates (a numerator over a denominator) and counts or "
                           "sums; {metric} is neither").format(metric=q.metric))
    segs = [replace(s, value=BLANK if s.value is None else s.value, total_formatted=signed(kpi, q.metric, s.total))
            for s in segs]
    effects = {"rate_effect": sum(s.rate_effect for s in segs), "mix_effect": sum(s.mix_effect for s in segs),
               "interaction": sum(s.interaction for s in segs)} if kind == "mix" else {}
    result = replace(base, kind=kind, dimension=dim, segments=tuple(segs), notes=after.notes, **effects)
    return replace(result, summary=summary(kpi, result), headline=biggest_words(result))


def _ratio_columns(compiled: Any, num: str, den: str, metric: str) -> tuple[str, str]:
    if metric in compiled.conversion_cols:
        return compiled.conversion_cols[metric]
    return compiled.measure_cols[num], compiled.measure_cols[den]


def _rows(result: Any, dim: str, cols: tuple[str, ...]) -> dict[Any, tuple[float, ...]]:
    table = result.breakdown_columns
    if table is None:
        return {}
    return {r[dim]: tuple(float(r.get(c) or 0.0) for c in cols) for r in table.records()}


def _base(kpi: "KPI", metric: str, after: float | None, before: float | None, period: Any, compared: Any,
          compare_kind: str) -> WhyResult:
    if after is None or before is None:
        raise QueryError(_("{metric} has no value in one of the two periods: nothing to explain").format(metric=metric))
    return WhyResult(metric, kpi.definitions.metric_label(metric), "ratio", period, compared, compare_kind,
                     before, after, after - before, None, kpi._asm.metric_fmt(metric, before),
                     kpi._asm.metric_fmt(metric, after), signed(kpi, metric, after - before))


def signed(kpi: "KPI", metric: str, v: float) -> str:
    """A change in the metric's units with its sign: '+1.8 pp' for a rate, '−$367' for money."""
    if kpi.definitions.metrics[metric].format.kind == "percent":
        return fmt_points(v, kpi._asm.locale)
    sign = "+" if v > 0 else ("−" if v < 0 else "±")
    return sign + kpi._asm.metric_fmt(metric, abs(v))


def biggest_words(r: WhyResult) -> str:
    """The biggest factor or mover in a few words (the Sheets status tab's "why" column)."""
    big = r.biggest
    if isinstance(big, Factor):
        # TRANSLATORS: the biggest factor of a change, e.g. "Avg deal size $4,667 → $7,000 (−$215)"
        return _("{factor} {before} → {after} ({effect})").format(
            factor=big.label, before=big.before_formatted, after=big.after_formatted, effect=big.effect_formatted)
    if isinstance(big, SegmentEffect):
        if r.kind == "mix":
            effects = {_("rate"): r.rate_effect or 0.0, _("mix"): r.mix_effect or 0.0,
                       _("rate and mix together"): r.interaction or 0.0}
            main = max(effects, key=lambda k: abs(effects[k]))
            # TRANSLATORS: e.g. "mostly rate; top mover segment SMB (−16.7 pp)"
            return _("mostly {effect}; top mover {dimension} {value} ({change})").format(
                effect=main, dimension=r.dimension, value=big.value, change=big.total_formatted)
        return _("top mover {dimension} {value} ({change})").format(dimension=r.dimension, value=big.value,
                                                                   change=big.total_formatted)
    return ""


def summary(kpi: "KPI", r: WhyResult) -> str:
    """One or two sentences: how the metric moved, and what moved it most."""
    loc = kpi._asm.locale
    rel = fmt_change(r.change / r.before, loc) if r.before else "–"
    if r.change > 0:
        head = _("{metric} rose from {before} to {after} ({change}, {relative}).")
    elif r.change < 0:
        head = _("{metric} fell from {before} to {after} ({change}, {relative}).")
    else:
        head = _("{metric} did not change ({after}).")
    text = head.format(metric=r.label, before=r.before_formatted, after=r.after_formatted, change=r.change_formatted,
                       relative=rel)
    words = biggest_words(r)
    if not words:
        return text
    # TRANSLATORS: after how a metric moved, e.g. "Biggest factor: Avg deal size $7,000 → $4,667 (−$215)."
    return text + " " + _("Biggest factor: {words}.").format(words=words)

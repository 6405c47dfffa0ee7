"""`kpi doctor`: what each finding does to the metrics, as numbers (layer: facade).

Every finding gets a shift in the (at most three) metrics reading the measures it touches (ratios,
conversions, simple metrics, derived ones through their sub-metrics; not cumulative ones; up to six
are computed and those the finding moves are shown first), in the checked period; what "shift" means depends on whether the rows have a known fix:

========================  ========  ==========================================================
finding                   how       shift
========================  ========  ==========================================================
unmapped_near (read by    mapped    value now -> value with the typo mapped like its neighbour
a measure), never_matches           (the filter's literal replaced by what the mapping gives)
negative_value,           left_out  value now -> value without those rows
date_order, future_date
duplicate_key             dedup.    value now -> value with each key counted once (earliest row)
grain_undeclared          prorated  the last complete week: value now -> with the month prorated
no_value, join_unmatched, share     value now; the rows' share of each affected measure
blank_dimension,                    (numerator, denominator) in the period: sum or count for
unmapped_* (otherwise)              sum/count measures, rows for the others and for no_value
no_time                   never     the rows' share of the measure over all time (no period has them)
stale                     coverage  value now; days of the period the table has data for
========================  ========  ==========================================================

All numbers of the checked period come from ONE statement: ``compile_query`` over the real metrics
plus the variants ``doctor_whatif`` adds (each table read once per shape, on the connection's
engine). The prorated week is a second statement. Should the batch fail on an engine, each finding
is tried on its own so one odd variant costs only its own shift.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from . import doctor_specs
from .catalog import Catalog
from .compile import MetricQuery, Slot, compile_query, needs
from .statement import complete
from .doctor_whatif import Spec, WhatIf, bind
from .formatting import fmt_count, fmt_value
from .i18n import _
from .errors import KpiError
from .models import ConversionMetric, CumulativeMetric, DerivedMetric, RatioMetric, SimpleMetric
from .periods import Period, period_label, resolve_period

if TYPE_CHECKING:
    from .api import KPI
    from .doctor import Finding

log = logging.getLogger(__name__)
MAX_METRICS = 3  # metrics shown per finding: those it moves first, then ratios (the ones people argue about) ...
CANDIDATES = 6  # metrics computed per finding to choose them from (variants share one statement)
FIXED = ("mapped", "left_out", "deduplicated", "prorated")


@dataclass(frozen=True)
class Part:
    """The finding's rows in one measure: ``rows`` of ``total`` (unit: value | rows | days)."""

    measure: str
    rows: float | None
    total: float | None
    unit: str

    @property
    def share(self) -> float | None:
        return None if not self.total or self.rows is None else self.rows / self.total

    def to_json(self) -> dict[str, Any]:
        return {"measure": self.measure, "rows": self.rows, "total": self.total, "share": self.share, "unit": self.unit}


@dataclass(frozen=True)
class Shift:
    metric: str
    period: str  # the window as the reader writes it ("Apr 2026"; "" for all time)
    now: float | None
    fixed: float | None
    now_formatted: str
    fixed_formatted: str
    how: str  # mapped | left_out | deduplicated | prorated | share | never | coverage
    text: str
    parts: tuple[Part, ...] = ()

    @property
    def change(self) -> float | None:
        return None if self.now is None or self.fixed is None else self.fixed - self.now

    def to_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "period": self.period, "how": self.how, "now": self.now, "fixed": self.fixed,
                "change": self.change, "now_formatted": self.now_formatted, "fixed_formatted": self.fixed_formatted,
                "parts": [p.to_json() for p in self.parts], "text": self.text}


# -- planning ------------------------------------------------------------------------------------

@dataclass
class _Plan:
    finding: int
    how: str
    metrics: list[str]
    spec: Spec | None = None
    variants: dict[str, str] | None = None  # metric -> its variant (fixed kinds)
    shares: dict[str, tuple[str, str]] | None = None  # measure -> (rows metric, whole metric)
    moves: list[str] | None = None  # every metric it moves (for a column read through a join)


def with_shifts(kpi: "KPI", findings: list["Finding"], period: str, as_of: date) -> list["Finding"]:
    """``findings`` with ``shifts`` filled in."""
    window = resolve_period(period, kpi.calendar, as_of)
    # the last whole week inside the checked period: the window a monthly table cuts (issue 12's "cac last-week")
    week = resolve_period("last-week", kpi.calendar, window.end_exclusive)
    plans = [p for k, f in enumerate(findings) if (p := _guarded_plan(kpi, k, f, window, as_of))]
    main = [p for p in plans if p.how != "prorated"]
    weekly = [p for p in plans if p.how == "prorated"]
    values = _values(kpi, main, window)
    weeks = _values(kpi, weekly, week) if weekly else {}
    out = list(findings)
    for p in plans:
        got = weeks if p.how == "prorated" else values
        shifts = _shown(_shifts(kpi, findings[p.finding], p, got, week if p.how == "prorated" else window))
        f = out[p.finding]
        out[p.finding] = replace(f, shifts=tuple(shifts), metrics=f.metrics or tuple(sorted(p.moves or ())))
    return out


def _guarded_plan(kpi: "KPI", k: int, f: "Finding", window: Period, as_of: date) -> _Plan | None:
    """A finding the shift cannot be planned for (definitions the doctor did not foresee) keeps its
    counts and gets no shift: the report is never lost to one of them."""
    try:
        return _plan(kpi, k, f, window, as_of)
    except Exception as e:  # noqa: BLE001 - logged; the finding stays without a shift
        log.info("doctor shift for %s %s.%s not planned: %s", f.check, f.table, f.subject, type(e).__name__)
        return None


def _plan(kpi: "KPI", k: int, f: "Finding", window: Period, as_of: date) -> _Plan | None:
    spec = doctor_specs.spec(kpi, f, as_of, k)
    how = spec.how if spec else {"no_time": "never", "stale": "coverage"}.get(f.check)
    if how is None:
        return None
    measures = spec.measures if spec else tuple(f.detail.get("measures", ()))
    allowed = f.metrics
    if spec and spec.dims:  # a column read through a join: the metrics that break down by it
        allowed = tuple(m for m in kpi.definitions.metrics if set(spec.dims) & set(kpi.catalog.metric_dimensions(m)))
    metrics = _metrics(kpi, measures, allowed, limit=CANDIDATES)
    return _Plan(k, how, metrics, spec, moves=_metrics(kpi, measures, allowed, limit=None)) if metrics else None


def _metrics(kpi: "KPI", measures: tuple[str, ...], allowed: tuple[str, ...], limit: int | None) -> list[str]:
    """Metrics reading these measures (derived ones through their sub-metrics): ratios first, then
    conversions, simple and derived metrics, each by name. Cumulative metrics (their windows are
    widened) are left out."""
    rank = {RatioMetric: 0, ConversionMetric: 1, SimpleMetric: 2, DerivedMetric: 3}
    found = [(rank[type(m)], name) for name, m in kpi.definitions.metrics.items()
             if type(m) in rank and name in allowed and _plain(kpi, name) and set(reads(kpi, name)) & set(measures)]
    return [name for _r, name in sorted(found)][:limit]


def reads(kpi: "KPI", metric: str) -> list[str]:
    """The measures a metric reads, through derived metrics and conversions (numerator first)."""
    try:
        measures, conversions = needs(kpi.catalog, metric)
    except KpiError:  # a cycle: validation reports it
        return []
    for c in conversions:
        measures += [m for m in kpi.catalog.metric_refs(c)[0] if m not in measures]
    return measures


def _plain(kpi: "KPI", name: str, seen: tuple[str, ...] = ()) -> bool:
    """No cumulative metric anywhere below (its windows differ from the checked period's)."""
    if name in seen or isinstance(kpi.definitions.metrics.get(name), CumulativeMetric):
        return False
    return all(_plain(kpi, s, (*seen, name)) for s in kpi.catalog.metric_refs(name)[1])


# -- one statement -------------------------------------------------------------------------------

def _values(kpi: "KPI", plans: list[_Plan], window: Period) -> dict[str, float | None]:
    """Every metric the plans need (real and variant) in ``window``, from one statement; on an engine
    error, plan by plan (a plan that still fails gets no shift)."""
    if not plans:
        return {}
    try:
        return _run(kpi, plans, window)
    except Exception as e:  # noqa: BLE001 - a driver's own error types; see the fallback
        log.info("doctor shifts in one statement failed (%s); trying each finding alone", type(e).__name__)
    out: dict[str, float | None] = {}
    for p in plans:
        try:
            out.update(_run(kpi, [p], window))
        except Exception as e:  # noqa: BLE001
            log.info("doctor shift for finding %s failed: %s", p.finding, type(e).__name__)
    return out


def _run(kpi: "KPI", plans: list[_Plan], window: Period) -> dict[str, float | None]:
    w = WhatIf(kpi.catalog)
    names: list[str] = []
    for p in plans:
        names += p.metrics
        if p.spec is None:
            continue
        if p.how in FIXED:
            p.variants = {m: v for m in p.metrics if (v := w.metric(p.finding, m, p.spec))}
            names += list(p.variants.values())
        else:
            p.shares = {m: w.share_metric(p.finding, m, p.spec) for m in _affected(kpi, p)}
            names += [x for pair in p.shares.values() for x in pair]
    names = list(dict.fromkeys(names))
    defs = w.definitions()
    compiled = compile_query(Catalog(defs), kpi.calendar, MetricQuery(names[0], (Slot(0, "current", window),)),
                             kpi.dialect, base_dir=kpi.loaded.base_dir, also=tuple(names[1:]))
    mine = {n: v for p in plans if p.spec for n, v in p.spec.params.items()}
    rows = _rows(complete(compiled, kpi.backend.run(bind(compiled.sql, mine, kpi.dialect), {**compiled.params, **mine}),
                          kpi.backend.run))
    row = next((r for r in rows if int(r["pid"]) == 0), {})
    out = {m: _num(row.get(c)) for m, c in compiled.metric_cols.items()}
    for m, c in compiled.measure_cols.items():
        out[f"{m}#n"] = _num(row.get(c + "_n"))
    return out


def _affected(kpi: "KPI", p: _Plan) -> list[str]:
    """The measures of the plan's metrics its rows are in (numerator and denominator of a ratio)."""
    spec = p.spec
    assert spec is not None
    out = []
    for m in p.metrics:
        out += [x for x in reads(kpi, m) if x in spec.measures and x not in out]
    return out


def _rows(frame: Any) -> list[dict]:
    from .doctor import _records

    return _records(frame)


def _num(v: Any) -> float | None:
    try:
        return None if v is None else float(v)
    except (TypeError, ValueError):
        return None


# -- the shifts in words -------------------------------------------------------------------------

def _shifts(kpi: "KPI", f: "Finding", p: _Plan, got: dict[str, float | None], window: Period) -> list[Shift]:
    asm, locale = kpi._asm, kpi._asm.locale
    label = period_label(window, kpi.calendar, locale)
    out = []
    for metric in p.metrics:
        if metric not in got and p.how != "never":
            continue  # its statement failed
        now = got.get(metric)
        words = dict(metric=metric, period=label, now=asm.metric_fmt(metric, now))
        fixed, parts = None, ()
        if p.how in FIXED:
            variant = (p.variants or {}).get(metric)
            if variant is None or variant not in got:
                continue
            fixed = got[variant]
            words["fixed"] = asm.metric_fmt(metric, fixed)
            text = _fixed_text(p.how, words)
        elif p.how == "share":
            if any(rows not in got for rows, _whole in (p.shares or {}).values()):
                continue  # its statement failed
            parts = tuple(_part(kpi, m, *(p.shares or {})[m], got, p.spec.unit if p.spec else "value")
                          for m in reads(kpi, metric) if m in (p.shares or {}))
            text = _("{metric} {period}: {now}; these rows are {parts}").format(parts=_parts(kpi, parts, locale), **words)
        elif p.how == "never":  # all time, no period: the share only
            measure, now = f.subject, None
            words["now"] = ""
            parts = (Part(measure, float(f.count), float(f.detail.get("scope_rows") or 0), "rows"),)
            label = ""
            # TRANSLATORS: e.g. "win_rate: these rows are 14.3% of won (1 of 7), counted in no period"
            text = _("{metric}: these rows are {parts}, counted in no period").format(
                metric=metric, parts=_parts(kpi, parts, locale))
        else:  # coverage: the period's days the table has rows for
            newest = date.fromisoformat(f.detail["newest"])
            covered = max(0, min(window.days, (newest - window.start).days + 1))
            parts = (Part(f.subject, float(covered), float(window.days), "days"),)
            # TRANSLATORS: e.g. "new_leads Apr 2026: 0, from data covering 0 of 30 days"
            text = _("{metric} {period}: {now}, from data covering {covered} of {days} days").format(
                covered=fmt_count(covered, locale), days=fmt_count(window.days, locale), **words)
        out.append(Shift(metric, label, now, fixed, words["now"], words.get("fixed", ""), p.how, text, parts))
    return out


def _shown(shifts: list[Shift]) -> list[Shift]:
    """The metrics a finding moves before those it leaves as they are (each group in rank order), at most three."""
    def moved(s: Shift) -> bool:
        if s.how in FIXED:
            return s.now_formatted != s.fixed_formatted
        return s.how != "share" or any(p.rows for p in s.parts)

    return sorted(shifts, key=lambda s: not moved(s))[:MAX_METRICS]


def _fixed_text(how: str, words: dict[str, str]) -> str:
    if words["now"] == words["fixed"]:
        # TRANSLATORS: a doctor finding that does not move a metric, e.g. "sales_cycle_days Apr 2026: 25.0 days, unchanged"
        return _("{metric} {period}: {now}, unchanged").format(**words)
    if how == "mapped":
        # TRANSLATORS: e.g. "win_rate Apr 2026: 80.0% → 83.3% if these values were mapped"
        return _("{metric} {period}: {now} → {fixed} if these values were mapped").format(**words)
    if how == "deduplicated":
        # TRANSLATORS: e.g. "new_leads Mar 2026: 2 → 1 with each duplicate counted once"
        return _("{metric} {period}: {now} → {fixed} with each duplicate counted once").format(**words)
    if how == "prorated":
        # TRANSLATORS: e.g. "cac 4–10 May 2026: $100.00 → $14.29 if the month were prorated by days"
        return _("{metric} {period}: {now} → {fixed} if the month were prorated by days").format(**words)
    # TRANSLATORS: e.g. "avg_deal_size Apr 2026: $867 → $1,500 without these rows"
    return _("{metric} {period}: {now} → {fixed} without these rows").format(**words)


def _part(kpi: "KPI", measure: str, rows_metric: str, whole_metric: str, got: dict[str, float | None],
          unit: str) -> Part:
    """Sum and count measures: the rows' part of the value; others (avg, max ...) and rows with no value: of the rows."""
    if unit == "value" and kpi.definitions.measures[measure].agg in ("count", "sum"):
        return Part(measure, got.get(rows_metric) or 0.0, got.get(whole_metric), "value")
    return Part(measure, got.get(f"{rows_metric}#n") or 0.0, got.get(f"{measure}#n"), "rows")


def _parts(kpi: "KPI", parts: tuple[Part, ...], locale: str) -> str:
    def amount(p: Part, v: float | None) -> str:
        if p.unit == "value" and v is not None and not float(v).is_integer():
            return fmt_value(v, "number", locale)
        return fmt_count(v or 0, locale)

    shown = []
    for p in parts:
        # TRANSLATORS: one measure's part, e.g. "25.0% of won (1 of 4)"; rows/total are counts or sums
        shown.append(_("{share} of {measure} ({rows} of {total})").format(
            share=fmt_value(p.share, "percent", locale), measure=_label(kpi, p), rows=amount(p, p.rows),
            total=amount(p, p.total)))
    return ", ".join(shown) if shown else "–"


def _label(kpi: "KPI", p: Part) -> str:
    """A measure's label (its plural form for the total, "won deals"); a day count's column name as is."""
    if p.measure in kpi.definitions.measures:
        return kpi._asm._label_for(p.measure, p.total)
    return p.measure

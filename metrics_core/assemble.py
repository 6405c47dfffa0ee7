"""Rows of one compiled statement -> a MetricResult (layer: facade helpers; pure).

The statement returns one row per (window, breakdown value) plus a total row per window (g=1
when broken down). This module picks the rows apart: the asked window's total is the value,
the comparison window's total the previous value, the rest the breakdown and the series; it
formats every number and says in words what was counted. Rows are plain dicts and the tables
plain ``Columns``: no pandas on the way from the engine to the terminal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Mapping

from .columns import Columns
from .statement import Compiled, MetricQuery
from .filters import describe, join
from .formatting import fmt_count, fmt_value, plural_category
from .i18n import _, active_locale, ngettext
from .models import ROW_KEYS, ConversionMetric, CumulativeMetric, Definitions, DerivedMetric, FormatDef, RatioMetric, SimpleMetric
from .periods import Calendar, Period, enclosing, period_label, target_kind
from .result import Comparison, Component, MetricResult, TargetStatus
from .result import as_number as _f


@dataclass(frozen=True)
class Request:
    query: MetricQuery
    compare_kind: str | None  # "previous" | "last-year" | "custom" | None
    grain: str | None
    as_of: date
    notes: tuple[str, ...] = ()  # fine print decided before the query ran (prorated or left-out windows)
    maturing: float | None = None  # conversions: share of the asked window's base rows still inside their window
    maturing_rows: dict = field(default_factory=dict)  # breakdown key (raw dimension values) -> share
    maturing_buckets: dict = field(default_factory=dict)  # series bucket pid -> share
    maturing_cells: dict = field(default_factory=dict)  # (series bucket pid, *breakdown values) -> share
    excluded: tuple = ()  # Excluded records: rows the measures leave out of the asked window
    excluded_parts: dict = field(default_factory=dict)  # (pid, breakdown key or None) -> Excluded records


class Assembler:
    def __init__(self, defs: Definitions, cal: Calendar) -> None:
        self.defs, self.cal = defs, cal

    @property
    def locale(self) -> str:
        """The reader's locale: the active one (a Slack user's), else ``locale:`` of the definitions."""
        return active_locale() or self.defs.locale.locale

    def _label_for(self, name: str, count: float | None) -> str:
        """A measure's label after a count ("1 wygrana transakcja", "5 wygranych transakcji")."""
        counts = self.defs.measures[name].agg in ("count", "count_distinct") and count is not None
        return self.defs.measure_label(name, plural_category(count, self.locale) if counts else None)

    def fmt(self, value: float | None, f: FormatDef) -> str:
        return fmt_value(value, f.kind, self.locale, currency=f.currency or self.defs.locale.currency, decimals=f.decimals)

    def metric_fmt(self, name: str, value: float | None) -> str:
        return self.fmt(value, self.defs.metrics[name].format)

    # -- components ----------------------------------------------------------------------------
    def components(self, metric: str, row: Mapping[str, Any], c: Compiled) -> tuple[Component, ...]:
        m = self.defs.metrics[metric]

        def measure(name: str, role: str) -> Component:
            col = c.measure_cols[name]
            md = self.defs.measures[name]
            v = _f(row.get(col))
            return Component(name, role, self._label_for(name, v), v, self.fmt(v, md.format),
                             _rows(row.get(col + "_n")), md.description)

        if isinstance(m, CumulativeMetric):
            m = m.per_window()
        if isinstance(m, SimpleMetric):
            return (measure(m.measure, "value"),)
        if isinstance(m, RatioMetric):
            return (measure(m.numerator, "numerator"), measure(m.denominator, "denominator"))
        if isinstance(m, ConversionMetric):
            conv, base = (_f(row.get(x)) for x in c.conversion_cols[metric])
            label = self._label_for(m.base.measure, base)
            # TRANSLATORS: what a conversion rate counts, e.g. "converted within 30 days"
            converted = _("converted within {window}").format(window=m.within)
            return (Component(m.target.measure, "numerator", converted, conv, fmt_count(conv, self.locale), None),
                    Component(m.base.measure, "denominator", label, base, fmt_count(base, self.locale), int(base or 0)))
        if isinstance(m, DerivedMetric):
            out = []
            for sub, col in c.metric_cols.items():
                if sub == metric:
                    continue
                v = _f(row.get(col))
                out.append(Component(sub, sub, self.defs.metric_label(sub), v, self.metric_fmt(sub, v), None,
                                     self.defs.metrics[sub].description))
            return tuple(out)
        return ()

    def rows_behind(self, metric: str, row: Mapping[str, Any], c: Compiled) -> int | None:
        """``sample_size(components(...))`` without labelling and formatting every component: what each
        breakdown row and series bucket needs (a 12-month series by segment has ~40 of them)."""
        m = self.defs.metrics[metric]
        if isinstance(m, SimpleMetric):
            return int(_f(row.get(c.measure_cols[m.measure] + "_n")) or 0)
        if isinstance(m, RatioMetric):
            return int(_f(row.get(c.measure_cols[m.denominator] + "_n")) or 0)
        if isinstance(m, ConversionMetric):
            return int(_f(row.get(c.conversion_cols[metric][1])) or 0)
        if isinstance(m, DerivedMetric) and c.measure_cols:
            return min(int(_f(row.get(col + "_n")) or 0) for col in c.measure_cols.values())
        return None

    def sample_size(self, comps: tuple[Component, ...], c: Compiled, row: Mapping[str, Any]) -> int | None:
        roles = {comp.role: comp for comp in comps}
        if "denominator" in roles and roles["denominator"].rows is not None:
            return roles["denominator"].rows  # a ratio rests on its denominator's rows
        counts = [comp.rows for comp in comps if comp.rows is not None]
        if not counts and c.measure_cols:  # derived: the thinnest measure behind it
            counts = [_rows(row.get(col + "_n")) for col in c.measure_cols.values()]
        return min(counts) if counts else None

    def counted(self, metric: str, comps: tuple[Component, ...]) -> str:
        m = self.defs.metrics[metric]
        if isinstance(m, CumulativeMetric):
            m = m.per_window()
        if isinstance(m, (RatioMetric, ConversionMetric)) and len(comps) == 2:
            num, den = comps
            part, whole = f"{num.formatted} {num.label}", f"{den.formatted} {den.label}"
            if m.format.kind == "percent":
                # TRANSLATORS: what a rate counts, e.g. "412 won deals of 1,508 closed deals"
                return _("{part} of {whole}").format(part=part, whole=whole)
            return f"{part} ÷ {whole}"
        if isinstance(m, SimpleMetric) and comps:
            comp = comps[0]
            agg = self.defs.measures[comp.name].agg
            rows = comp.rows or 0
            if agg in ("count", "count_distinct", "sum"):
                # TRANSLATORS: how many rows are behind a number, e.g. "(1 row)", "(5 rows)"
                counted = ngettext("({count} row)", "({count} rows)", rows).format(count=fmt_count(rows, self.locale))
                return f"{comp.formatted} {comp.label} {counted}"
            over = f"{fmt_count(rows, self.locale)} {self._label_for(comp.name, rows)}"
            if agg == "percentile":
                p = int((self.defs.measures[comp.name].p or 0) * 100)
                # TRANSLATORS: a percentile over some rows, e.g. "p90 over 310 won deals"
                return _("p{percentile} over {rows}").format(percentile=p, rows=over)
            words = {"avg": _("average over {rows}"), "min": _("min over {rows}"),
                     "max": _("max over {rows}"), "median": _("median over {rows}")}
            return words.get(agg, f"{agg} ({{rows}})").format(rows=over)
        if isinstance(m, DerivedMetric):
            parts = ", ".join(f"{c.name} {c.formatted}" for c in comps)
            # TRANSLATORS: a derived metric's formula and its parts, e.g. "spend / new_customers, with ..."
            return _("{formula}, with {parts}").format(formula=m.expr, parts=parts) if parts else m.expr
        return _("a fixed value from definitions.yaml") if not comps else ""

    # -- targets -------------------------------------------------------------------------------
    def target(self, metric: str, period: Period, value: float | None, where: dict[str, str],
               additive: bool) -> TargetStatus | None:
        m = self.defs.metrics[metric]
        kind = target_kind(period)
        fits = [t for t in m.targets if t.period in ("any", kind)
                and all(where.get(k, "").lower() == v.lower() for k, v in t.where.items())]
        if not fits or value is None:
            return None
        t = max(fits, key=lambda t: (len(t.where), t.period != "any"))
        higher = m.better == "higher"
        projected = None
        if period.to_date and additive and kind:
            full = _full_days(period, self.cal)
            projected = value * full / max(period.days, 1)
        basis = projected if projected is not None else value
        good = basis >= t.value if higher else basis <= t.value
        status = ("on_track" if good else "behind") if period.to_date else ("met" if good else "missed")
        return TargetStatus(t.value, self.metric_fmt(metric, t.value), status,
                            value / t.value if t.value else None, projected,
                            self.metric_fmt(metric, projected) if projected is not None else None, dict(t.where))

    def comparison(self, metric: str, kind: str, period: Period, cur: float | None, prev: float | None,
                   comps: tuple[Component, ...]) -> Comparison:
        absolute = cur - prev if cur is not None and prev is not None else None
        relative = absolute / abs(prev) if absolute is not None and prev else None
        improved = None
        if absolute:
            improved = (absolute > 0) == (self.defs.metrics[metric].better == "higher")
        return Comparison(kind, period, prev, self.metric_fmt(metric, prev), absolute, relative, improved, comps)  # type: ignore[arg-type]

    def label(self, p: Period) -> str:
        return period_label(p, self.cal, self.locale)


def _rows(v: Any) -> int:
    """Rows behind a measure as a whole number. A prorated measure counts each row by the share of its
    month the window covers (7/30 + 7/31 ...), so the count is a float: whole rows only, float noise aside."""
    return int((_f(v) or 0.0) + 1e-9)


def _full_days(p: Period, cal: Calendar) -> int:
    """Length of the whole period a to-date window belongs to (Nov 1..27 -> 30)."""
    kind = target_kind(p)
    if not kind:
        return p.days
    start, end = enclosing(kind, p.start, cal)
    return (end - start).days + 1


def build_result(asm: Assembler, defs: Definitions, req: Request, c: Compiled, table: Columns,
                 cached: bool = False) -> MetricResult:
    """The MetricResult for one statement's rows."""
    q = req.query
    name = q.metric
    m = defs.metrics[name]
    recs = table.rename(str.lower).records()
    slots = {s.pid: s for s in q.slots}
    dim_names = dict(zip(c.dim_cols, q.dimensions))
    broken = bool(q.dimensions)
    totals = {int(r["pid"]): r for r in reversed(recs) if r["g"] == (1 if broken else 0)}  # first row wins
    rows = [r for r in recs if r["g"] == 0] if broken else []
    cur = totals.get(0)
    value = _f(cur["value"]) if cur is not None else None
    comps = asm.components(name, cur, c) if cur is not None else ()
    sample = asm.sample_size(comps, c, cur) if cur is not None else None
    additive = m.type == "simple" and defs.measures[m.measure].agg in ("count", "count_distinct", "sum")
    filters = {k: tuple(v) for k, v in q.filters}
    where = {k: v[0] for k, v in q.filters if len(v) == 1}
    comparison = None
    if 1 in slots:
        prev = totals.get(1)
        pv = _f(prev["value"]) if prev is not None else None
        pcomps = asm.components(name, prev, c) if prev is not None else ()
        comparison = asm.comparison(name, req.compare_kind or "previous", slots[1].period, value, pv, pcomps)
    closed = None if req.maturing is None else 0.0  # a conversion's row with no open window is not maturing
    breakdown = (_breakdown(asm, name, rows, dim_names, additive, slots[0].period, where, c, req.maturing_rows, closed,
                            req.excluded_parts) if broken else None)
    maturing = {**req.maturing_buckets, **req.maturing_cells} if broken else req.maturing_buckets
    series = (_series(asm, name, recs, slots, dim_names, broken, c, maturing, req.excluded_parts)
              if any(s.role == "bucket" for s in q.slots) else None)
    return MetricResult(
        metric=name, label=defs.metric_label(name), description=m.description, format=m.format.kind,
        currency=m.format.currency or defs.locale.currency, better=m.better, period=slots[0].period, as_of=req.as_of,
        value=value, formatted=asm.metric_fmt(name, value), components=comps, comparison=comparison,
        target=asm.target(name, slots[0].period, value, where, additive), dimensions=q.dimensions, filters=filters,
        where=describe(join(q.filters, q.condition)) if q.condition is not None else "",
        breakdown_columns=breakdown, series_columns=series, grain=req.grain, sample_size=sample, small_sample=small(asm, name, sample),
        counted=asm.counted(name, comps), sql=c.sql, params=dict(c.params), dialect=c.dialect, cached=cached,
        notes=req.notes, maturing=req.maturing, excluded=req.excluded)


def small(asm: Assembler, name: str, n: int | None) -> bool:
    """Fewer rows behind a number than ``defaults.small_sample`` (constants are never small)."""
    return asm.defs.metrics[name].type != "constant" and n is not None and n < asm.defs.defaults.small_sample


def _breakdown(asm: Assembler, name: str, rows: list[dict[str, Any]], dim_names: dict[str, str], additive: bool,
               period: Period, where: dict[str, str], c: Compiled, maturing: dict, closed: float | None,
               excluded: dict) -> Columns:
    cols = list(dim_names)
    prev_map = {tuple(r[c] for c in cols): _f(r["value"]) for r in rows if r["pid"] == 1}
    out = []
    for r in (r for r in rows if r["pid"] == 0):
        key = tuple(r[c] for c in cols)
        v = _f(r["value"])
        rec: dict[str, Any] = {dim_names[c]: r[c] for c in cols}
        rec["value"] = v
        rec["formatted"] = asm.metric_fmt(name, v)
        pv = prev_map.get(key)
        rec["previous"] = pv
        rec["change"] = (v - pv) / abs(pv) if v is not None and pv else None
        for col in r:
            if col.startswith(("m", "c")) and col[1:2].isdigit():
                rec[col] = _f(r[col])
        row_where = {**where, **{dim_names[c]: str(rec[dim_names[c]]) for c in cols}}
        t = asm.target(name, period, v, row_where, additive)
        rec["target_value"] = t.target if t and t.where else None
        rec["target_status"] = t.status if t and t.where else None
        n = asm.rows_behind(name, r, c)
        rec["sample_size"] = n
        rec["small_sample"] = small(asm, name, n)
        rec["maturing"] = maturing.get(key, closed)
        rec["excluded"] = [e.to_json() for e in excluded.get((0, key), ())]
        out.append(rec)
    names = [*dim_names.values(), *ROW_KEYS]
    names += sorted({k for rec in out for k in rec} - set(names))
    # highest value first; ties (and rows without a value) by the breakdown's values, None last
    out.sort(key=lambda rec: (rec["value"] is None, -(rec["value"] or 0.0), *(_sortable(rec[d]) for d in dim_names.values())))
    return Columns.from_records(out, names)


def _series(asm: Assembler, name: str, recs: list[dict[str, Any]], slots: dict, dim_names: dict[str, str],
            broken: bool, c: Compiled, maturing: dict, excluded: dict) -> Columns:
    out = []
    labels: dict[int, str] = {}  # a bucket's name, once per bucket (not once per segment)
    for r in recs:
        if r["pid"] < 2 or (broken and r["g"] != 0):
            continue
        pid = int(r["pid"])
        p: Period = slots[pid].period
        if pid not in labels:
            labels[pid] = asm.label(p)
        v = _f(r["value"])
        rec = {"start": p.start, "end": p.end, "label": labels[pid], "to_date": p.to_date,
               **{dim_names[c]: r[c] for c in dim_names}, "value": v, "formatted": asm.metric_fmt(name, v)}
        n = asm.rows_behind(name, r, c)
        key = tuple(r[c] for c in dim_names) if broken else None
        # broken down: the bucket's own share per breakdown value; 0.0 (its bucket closed) or None (not a conversion)
        share = maturing.get((pid, *key), maturing.get(pid)) if key is not None else maturing.get(pid)
        rec.update(sample_size=n, small_sample=small(asm, name, n), maturing=share,
                   excluded=[e.to_json() for e in excluded.get((pid, key), ())])
        out.append(rec)
    out.sort(key=lambda rec: (rec["start"], *(_sortable(rec[d]) for d in dim_names.values())))
    return Columns.from_records(out, ["start", "end", "label", "to_date", *dim_names.values(), "value", "formatted",
                                      "sample_size", "small_sample", "maturing", "excluded"])


def _sortable(v: Any) -> tuple[bool, Any]:
    """A dimension value as a sort key with None last (as pandas' sort_values had it)."""
    return (v is None, v)

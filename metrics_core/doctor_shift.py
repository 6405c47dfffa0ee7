"""`kpi doctor`: what each finding does to the metrics, as numbers (layer: facade).

For a finding whose rows have an obvious "fixed" form, the affected metrics are asked for the
checked period twice: as the data is, and under definitions changed so those rows count as fixed:

* a value close to a mapped one (``'Clossed Won'``) -> mapped like its neighbour (``won``):
  ``win_rate Apr 2026: 80.0% → 83.3% if these values were mapped``;
* a negative value, or dates out of order -> those rows left out of the measures reading them:
  ``avg_deal_size Apr 2026: $867 → $1,500 without these rows``.

Both answers come from the ordinary query path (same compiler, same engine), so the "fixed" number
is exactly what kpi would answer after the fix. Findings whose fix is unknown (a missing amount, a
blank key) keep their row counts only; the doctor says so rather than guess a number.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from .errors import KpiUserError
from .i18n import _
from .models import ConversionMetric, Definitions, RatioMetric, SimpleMetric
from .periods import period_label

if TYPE_CHECKING:
    from .api import KPI
    from .doctor import Finding

MAX_METRICS = 3  # metrics shown per finding: ratios first (the ones people argue about), then by name


@dataclass(frozen=True)
class Shift:
    metric: str
    period: str  # the checked period as the reader writes it
    now: float | None
    fixed: float | None
    now_formatted: str
    fixed_formatted: str
    how: str  # "mapped" | "left_out"
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "period": self.period, "now": self.now, "fixed": self.fixed,
                "now_formatted": self.now_formatted, "fixed_formatted": self.fixed_formatted, "how": self.how,
                "text": self.text}


def with_shifts(kpi: "KPI", findings: list["Finding"], period: str, as_of: date) -> list["Finding"]:
    """``findings`` with ``shifts`` filled where a fix is known."""
    from .api import KPI

    out = []
    for f in findings:
        variant = _variant(kpi.definitions, f)
        if variant is None:
            out.append(f)
            continue
        defs, how, measures = variant
        what_if = KPI(replace(kpi.loaded, defs=defs), backend=kpi.backend, rollups=False)
        shifts = [s for m in _metrics(kpi, measures) if (s := _shift(kpi, what_if, m, period, as_of, how))]
        out.append(replace(f, shifts=tuple(shifts)))
    return out


def _shift(kpi: "KPI", what_if: "KPI", metric: str, period: str, as_of: date, how: str) -> Shift | None:
    try:
        now = kpi.ask(metric, period, compare="none", as_of=as_of)
        fixed = what_if.ask(metric, period, compare="none", as_of=as_of)
    except KpiUserError:  # e.g. a monthly measure refused for this window: no number to compare
        return None
    label = period_label(now.period, kpi.calendar, kpi.definitions.locale.locale)
    words = dict(metric=metric, period=label, now=now.formatted, fixed=fixed.formatted)
    if now.formatted == fixed.formatted:
        # TRANSLATORS: a doctor finding that does not move a metric, e.g. "sales_cycle_days Apr 2026: 25.0 days, unchanged"
        text = _("{metric} {period}: {now}, unchanged").format(**words)
    elif how == "mapped":
        # TRANSLATORS: e.g. "win_rate Apr 2026: 80.0% → 83.3% if these values were mapped"
        text = _("{metric} {period}: {now} → {fixed} if these values were mapped").format(**words)
    else:
        # TRANSLATORS: e.g. "avg_deal_size Apr 2026: $867 → $1,500 without these rows"
        text = _("{metric} {period}: {now} → {fixed} without these rows").format(**words)
    return Shift(metric, label, now.value, fixed.value, now.formatted, fixed.formatted, how, text)


def _metrics(kpi: "KPI", measures: tuple[str, ...]) -> list[str]:
    """Metrics reading these measures directly: ratios and conversions first, then by name."""
    rank = {RatioMetric: 0, ConversionMetric: 1, SimpleMetric: 2}
    found = [(rank.get(type(m), 3), name) for name, m in kpi.definitions.metrics.items()
             if set(kpi.catalog.metric_refs(name)[0]) & set(measures)]
    return [name for _r, name in sorted(found)][:MAX_METRICS]


def _variant(defs: Definitions, f: "Finding") -> tuple[Definitions, str, tuple[str, ...]] | None:
    """(the definitions with the finding's rows fixed, how, the measures it touches), or None."""
    d = f.detail
    if f.check == "unmapped_near":
        col = defs.tables[f.table].columns[f.subject]
        added = {v: t for v, _n in f.values if v is not None and (t := _neighbour(str(v), col)) is not None}
        if not added:
            return None
        col = col.model_copy(update={"values": {**(col.values or {}), **added}})
        table = defs.tables[f.table]
        table = table.model_copy(update={"columns": {**table.columns, f.subject: col}})
        return defs.model_copy(update={"tables": {**defs.tables, f.table: table}}), "mapped", d.get("measures", ())
    # rows with a NULL in the compared values are not the finding's rows: they stay as they are
    if f.check == "negative_value":
        keep = f"(({d['expr']}) IS NULL OR ({d['expr']}) >= 0)"
    elif f.check == "date_order":
        keep = f"({d['then']} IS NULL OR {d['first']} IS NULL OR {d['then']} >= {d['first']})"
    else:
        return None
    measures = tuple(d.get("measures", ()))
    changed = {}
    for name in measures:
        m = defs.measures[name]
        changed[name] = m.model_copy(update={"filter": f"({m.filter}) AND {keep}" if m.filter else keep})
    return defs.model_copy(update={"measures": {**defs.measures, **changed}}), "left_out", measures


def _neighbour(value: str, col: Any) -> str | None:
    """What the mapped value closest to ``value`` becomes ('clossed won' -> 'won'), None when none is close."""
    def key(s: str) -> str:
        return "".join(ch for ch in s.lower() if ch.isalnum())

    best, score = None, 0.85
    for src, dst in (col.values or {}).items():
        for known, target in ((src, dst), (dst, dst)):
            if known is None:
                continue
            r = 1.0 if key(known) == key(value) else difflib.SequenceMatcher(None, key(value), key(known)).ratio()
            if r >= score:
                best, score = target, r
    return best

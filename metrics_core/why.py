"""Why did a number move: the decomposition math and its typed result (layer: compile; pure, no I/O).

Three decompositions, each exact (the parts add up to the whole change, not roughly):

**Product / quotient of metrics** (``pipeline_velocity = open_deals * win_rate * avg_deal_size /
sales_cycle_days``; a ratio is ``numerator^1 * denominator^-1``). Log-change attribution: with
``V = c * prod f_i^e_i`` (c a constant), ``ln(V1/V0) = sum e_i * ln(f_i1/f_i0)``, so factor i's share of
the log change is ``s_i = e_i * ln(f_i1/f_i0)``. In the metric's units it gets
``effect_i = (V1 - V0) * s_i / sum s`` (the logarithmic-mean Divisia index, LMDI); when ``sum s = 0``
(factors moved but cancelled out) ``effect_i = V1 * s_i``, which sums to 0. Every value must be
positive (a log of 0 or of a negative number has no meaning); otherwise ``WhyError``.

**A rate broken down by a dimension** (shift-share, by dimension value i, with ``w = den_i / sum den``
the value's weight and ``r = num_i / den_i`` its rate, so ``R = sum w_i r_i``)::

    rate effect        = sum w0_i * (r1_i - r0_i)          the rates inside the values moved
    mix effect         = sum (w1_i - w0_i) * r0_i          the weights of the values moved
    interaction        = sum (w1_i - w0_i) * (r1_i - r0_i) both at once
    rate + mix + interaction = sum (w1_i r1_i - w0_i r0_i) = R1 - R0

A value with no denominator rows in one period takes the other period's rate there (it enters or
leaves the mix at its own rate); a value whose numerator has rows without denominator rows (a ratio
across two tables) puts that remainder into its rate effect, so each value's three effects still add
up to its contribution ``num1_i / D1 - num0_i / D0``.

**A count or sum broken down by a dimension**: each value's contribution is its own change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

import sqlglot
from sqlglot import exp

from .errors import QueryError
from .i18n import _
from .periods import Period

WhyKind = Literal["product", "ratio", "mix", "additive"]


class WhyError(QueryError):
    """A change that cannot be split this way (a zero or negative value, a sum of metrics)."""


@dataclass(frozen=True)
class Factor:
    """One factor of a product: its values, its share of the log change, its effect in the metric's units."""

    name: str
    label: str
    exponent: int  # +1 multiplies, -1 divides (the cycle length in pipeline velocity)
    before: float
    after: float
    log_share: float  # exponent * ln(after / before)
    share: float | None  # log_share / the total log change (None when that is 0)
    effect: float  # in the metric's units; the effects add up to after - before of the metric
    before_formatted: str = ""
    after_formatted: str = ""
    effect_formatted: str = ""


@dataclass(frozen=True)
class SegmentEffect:
    """One dimension value's part of a change (a rate's shift-share, or a sum's own change)."""

    value: str | None
    rate_before: float | None
    rate_after: float | None
    weight_before: float
    weight_after: float
    rate_effect: float
    mix_effect: float
    interaction: float
    total: float  # rate_effect + mix_effect + interaction
    total_formatted: str = ""


@dataclass(frozen=True)
class WhyResult:
    metric: str
    label: str
    kind: WhyKind
    period: Period
    compared: Period
    compare_kind: str
    before: float
    after: float
    change: float
    log_change: float | None
    before_formatted: str
    after_formatted: str
    change_formatted: str
    factors: tuple[Factor, ...] = ()
    dimension: str | None = None
    segments: tuple[SegmentEffect, ...] = ()  # biggest |total| first
    rate_effect: float | None = None
    mix_effect: float | None = None
    interaction: float | None = None
    summary: str = ""  # one or two sentences in the reader's language: how it moved, and what moved it most
    headline: str = ""  # the biggest factor or mover in a few words (the Sheets status tab's "why" column)
    notes: tuple[str, ...] = field(default=())

    @property
    def biggest(self) -> Factor | SegmentEffect | None:
        if self.factors:
            return max(self.factors, key=lambda f: abs(f.log_share))
        return self.segments[0] if self.segments else None

    def to_json(self) -> dict[str, Any]:
        """The ``kpi why --json`` object (stable keys; see README "Why did it move")."""
        out: dict[str, Any] = {
            "metric": self.metric, "label": self.label, "kind": self.kind, "period": self.period.to_json(),
            "compared": {"kind": self.compare_kind, "period": self.compared.to_json()},
            "before": self.before, "after": self.after, "change": self.change, "log_change": self.log_change,
            "formatted": {"before": self.before_formatted, "after": self.after_formatted, "change": self.change_formatted},
            "summary": self.summary, "headline": self.headline, "notes": list(self.notes),
        }
        if self.factors:
            out["factors"] = [{"name": f.name, "label": f.label, "exponent": f.exponent, "before": f.before,
                               "after": f.after, "log_share": f.log_share, "share": f.share, "effect": f.effect,
                               "formatted": {"before": f.before_formatted, "after": f.after_formatted,
                                             "effect": f.effect_formatted}} for f in self.factors]
        if self.dimension is not None:
            out["dimension"] = self.dimension
            out["effects"] = {"rate": self.rate_effect, "mix": self.mix_effect, "interaction": self.interaction}
            out["segments"] = [{"value": s.value, "rate_before": s.rate_before, "rate_after": s.rate_after,
                                "weight_before": s.weight_before, "weight_after": s.weight_after,
                                "rate_effect": s.rate_effect, "mix_effect": s.mix_effect,
                                "interaction": s.interaction, "total": s.total, "formatted": s.total_formatted}
                               for s in self.segments]
        return out


# -- products ----------------------------------------------------------------------------------------

def product_factors(expr_sql: str, dialect: str) -> list[tuple[str, int]] | None:
    """(metric name, exponent) of a derived expression that is a product / quotient, or None.

    'open_deals * win_rate * avg_deal_size / sales_cycle_days' -> [(open_deals, 1), (win_rate, 1),
    (avg_deal_size, 1), (sales_cycle_days, -1)]; 'a * 365 / period_days' -> [(a, 1), (period_days, -1)]
    (numbers are constant factors); 'a + b' -> None."""
    found: dict[str, int] = {}

    def walk(node: exp.Expression, sign: int) -> bool:
        if isinstance(node, exp.Paren):
            return walk(node.this, sign)
        if isinstance(node, exp.Mul):
            return walk(node.this, sign) and walk(node.expression, sign)
        if isinstance(node, exp.Div):
            return walk(node.this, sign) and walk(node.expression, -sign)
        if isinstance(node, exp.Literal) and not node.is_string:
            return True
        if isinstance(node, exp.Column) and not node.table:
            found[node.name] = found.get(node.name, 0) + sign
            return True
        return False

    tree = sqlglot.parse_one(expr_sql, read=dialect)
    if not walk(tree, 1):
        return None
    return [(name, e) for name, e in found.items() if e != 0]


def log_attribution(factors: Sequence[tuple[str, float | None, float | None, int]], before: float | None,
                    after: float | None) -> tuple[list[tuple[float, float | None, float]], float]:
    """Each factor's (log share, share of the log change, effect in the metric's units), and the total
    log change. ``factors``: (name, before, after, exponent). Raises WhyError on a value <= 0 or missing."""
    for name, b, a, _e in [("", before, after, 1), *factors]:
        for v in (b, a):
            if v is None or not math.isfinite(v) or v <= 0:
                raise WhyError(_("cannot split the change into factors: {name} is {value} in one of the two "
                                 "periods (every factor must be above zero)").format(name=name or _("the metric"),
                                                                                     value="–" if v is None else v))
    logs = [e * math.log(a / b) for _n, b, a, e in factors]  # type: ignore[operator]
    total = sum(logs)
    change = after - before  # type: ignore[operator]
    out = []
    for s in logs:
        share = s / total if abs(total) > 1e-12 else None
        effect = change * s / total if abs(total) > 1e-12 else after * s  # type: ignore[operator]
        out.append((s, share, effect))
    return out, total


# -- breakdowns --------------------------------------------------------------------------------------

def shift_share(rows: Sequence[tuple[Any, float, float, float, float]]) -> list[SegmentEffect]:
    """``rows``: (value, num0, den0, num1, den1). Each value's rate, mix and interaction effect; they add
    up to R1 - R0 with R = sum num / sum den. Raises WhyError when a period has no denominator rows."""
    d0 = sum(r[2] for r in rows)
    d1 = sum(r[4] for r in rows)
    if d0 <= 0 or d1 <= 0:
        raise WhyError(_("cannot split the change: one of the two periods has no rows to divide by"))
    out = []
    for value, n0, den0, n1, den1 in rows:
        w0, w1 = den0 / d0, den1 / d1
        r0 = n0 / den0 if den0 else None
        r1 = n1 / den1 if den1 else None
        a = r0 if r0 is not None else (r1 if r1 is not None else 0.0)
        b = r1 if r1 is not None else a
        rate, mix, inter = w0 * (b - a), (w1 - w0) * a, (w1 - w0) * (b - a)
        contribution = n1 / d1 - n0 / d0
        rate += contribution - (rate + mix + inter)  # numerator rows without denominator rows: the rate's
        out.append(SegmentEffect(value, r0, r1, w0, w1, rate, mix, inter, contribution))
    return sorted(out, key=lambda s: (-abs(s.total), str(s.value)))


def contributions(rows: Sequence[tuple[Any, float, float]]) -> list[SegmentEffect]:
    """``rows``: (value, before, after) of a count or sum: each value's own change, biggest first."""
    out = [SegmentEffect(value, None, None, 0.0, 0.0, 0.0, 0.0, 0.0, (v1 or 0.0) - (v0 or 0.0))
           for value, v0, v1 in rows]
    return sorted(out, key=lambda s: (-abs(s.total), str(s.value)))

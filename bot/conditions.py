"""Alert conditions: "below target", "above 0.3", "below 25%", "change beyond 10%", "drop beyond 5%".

Pure (layer: bot logic). A condition looks at one MetricResult and says whether the alert is firing;
the alert runner (``alerts.py``) only notifies when that state changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from metrics_core.errors import QueryError

Kind = Literal["below_target", "above_target", "below", "above", "change", "drop", "rise"]
_FORM = re.compile(r"(?P<op>below|above|under|over)\s+(?P<num>target|-?[\d.]+\s*%?)"
                   r"|(?P<dir>change|drop|rise)\s+(?:beyond|over|above|of more than)\s+(?P<pct>[\d.]+)\s*%")
HELP = "use 'below target', 'above target', 'below 0.25', 'above 25%', 'change beyond 10%', 'drop beyond 5%' or 'rise beyond 5%'"


@dataclass(frozen=True)
class Condition:
    kind: Kind
    threshold: float | None = None  # absolute value, or relative change as a fraction (0.1 = 10 %)
    text: str = ""

    def firing(self, result: Any) -> bool | None:
        """True/False, or None when the result cannot tell (no value, no target, no comparison)."""
        if self.kind in ("below_target", "above_target"):
            t = result.target
            if t is None or result.value is None:
                return None
            return result.value < t.target if self.kind == "below_target" else result.value > t.target
        if self.kind in ("below", "above"):
            if result.value is None:
                return None
            return result.value < self.threshold if self.kind == "below" else result.value > self.threshold
        rel = result.comparison.relative if result.comparison is not None else None
        if rel is None:
            return None
        if self.kind == "change":
            return abs(rel) > self.threshold
        return rel < -self.threshold if self.kind == "drop" else rel > self.threshold


def parse_condition(text: str) -> Condition:
    s = " ".join(str(text).strip().lower().split())
    m = _FORM.fullmatch(s)
    if not m:
        raise QueryError(f"alert condition {text!r} is not understood: {HELP}")
    if m["op"]:
        op = "below" if m["op"] in ("below", "under") else "above"
        if m["num"] == "target":
            return Condition(f"{op}_target", None, text)  # type: ignore[arg-type]
        num = m["num"].replace(" ", "")
        value = float(num.rstrip("%")) / (100 if num.endswith("%") else 1)
        return Condition(op, value, text)  # type: ignore[arg-type]
    return Condition(m["dir"], float(m["pct"]) / 100, text)  # type: ignore[arg-type]

"""kpi's metrics core: definitions.yaml -> validated model -> one SQL statement per answer.

Public API (everything else is internal; `tests/test_layers.py` keeps bot/ and sheets/ to it):

    from metrics_core import KPI
    kpi = KPI.from_path("definitions.yaml")
    result = kpi.query("win_rate last-quarter by region")     # MetricResult
    many = kpi.query_many("win_rate, cac last-quarter")       # MultiResult (.results: MetricResults)

Names are imported on first use (PEP 562), so `kpi --help` or `kpi validate` do not load pandas
and the SQL compiler they never need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {
    "api": ("KPI", "Explanation", "MetricInfo", "formula"),
    "catalog": ("Catalog",),
    "columns": ("Columns",),
    "doctor": ("DoctorReport", "Finding"),
    "errors": ("AccessDenied", "ConfigError", "DataError", "DefinitionError", "InternalError", "Issue", "KpiError",
               "KpiUserError", "QueryError", "hint_for", "suggest"),
    "formatting": ("fmt_change", "fmt_count", "fmt_points", "fmt_value"),
    "load": ("Loaded", "find_definitions", "load_definitions", "parse_definitions"),
    "models": ("Definitions",),
    "multi": ("MultiResult",),
    "periods": ("Calendar", "Grain", "Period", "buckets", "period_label", "previous_period", "resolve_period",
                "today", "trailing", "window_label", "year_ago"),
    "result": ("Comparison", "Component", "MetricResult", "TargetStatus"),
    "values": ("DimensionValues",),
    "why": ("Factor", "SegmentEffect", "WhyResult"),
    "yamlio": ("line_of",),
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'metrics_core' has no attribute '{name}'")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


if TYPE_CHECKING:  # for type checkers and editors: the same names, imported eagerly
    from .api import KPI, Explanation, MetricInfo, formula  # noqa: F401
    from .catalog import Catalog  # noqa: F401
    from .columns import Columns  # noqa: F401
    from .doctor import DoctorReport, Finding  # noqa: F401
    from .errors import (AccessDenied, ConfigError, DataError, DefinitionError, InternalError, Issue,  # noqa: F401
                         KpiError, KpiUserError, QueryError, hint_for, suggest)
    from .formatting import fmt_change, fmt_count, fmt_points, fmt_value  # noqa: F401
    from .load import Loaded, find_definitions, load_definitions, parse_definitions  # noqa: F401
    from .models import Definitions  # noqa: F401
    from .multi import MultiResult  # noqa: F401
    from .periods import (Calendar, Grain, Period, buckets, period_label, previous_period,  # noqa: F401
                          resolve_period, today, trailing, window_label, year_ago)
    from .result import Comparison, Component, MetricResult, TargetStatus  # noqa: F401
    from .values import DimensionValues  # noqa: F401
    from .why import Factor, SegmentEffect, WhyResult  # noqa: F401
    from .yamlio import line_of  # noqa: F401

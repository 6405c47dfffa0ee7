"""kpi's metrics core: definitions.yaml -> validated model -> one SQL statement per answer.

Public API (everything else is internal; `tests/test_layers.py` keeps bot/ and sheets/ to it):

    from metrics_core import KPI
    kpi = KPI.from_path("definitions.yaml")
    result = kpi.query("win_rate last-quarter by region")     # MetricResult
"""

from .api import KPI, Explanation, MetricInfo, formula
from .catalog import Catalog
from .errors import (AccessDenied, ConfigError, DataError, DefinitionError, InternalError, Issue, KpiError,
                     KpiUserError, QueryError, hint_for, suggest)
from .formatting import fmt_change, fmt_count, fmt_value
from .load import Loaded, find_definitions, load_definitions, parse_definitions
from .models import Definitions
from .periods import (Calendar, Grain, Period, buckets, period_label, previous_period, resolve_period, today,
                      trailing, window_label, year_ago)
from .result import Comparison, Component, MetricResult, TargetStatus
from .yamlio import line_of

__all__ = [
    "KPI", "Explanation", "MetricInfo", "formula", "Catalog",
    "AccessDenied", "ConfigError", "DataError", "DefinitionError", "InternalError", "Issue", "KpiError",
    "KpiUserError", "QueryError", "hint_for", "suggest",
    "fmt_change", "fmt_count", "fmt_value",
    "Loaded", "find_definitions", "load_definitions", "parse_definitions", "Definitions",
    "Calendar", "Grain", "Period", "buckets", "period_label", "previous_period", "resolve_period", "today",
    "trailing", "window_label", "year_ago",
    "Comparison", "Component", "MetricResult", "TargetStatus", "line_of",
]

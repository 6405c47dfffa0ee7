"""Which workbook to build: the ``sheets:`` section, or a sensible default (pure; config layer).

The default, used when definitions.yaml has no ``sheets:`` section (or one without ``tabs:``):

    KPIs by month     every metric x the last 12 months (the current one to date), targets
    KPIs by segment   the metrics that can be split by segment x the last 8 quarters, a block per segment
    Definitions       label, description, formula, format, owner of each metric
    Sync status       last run, result, source
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

from .config import BreakdownConfig, TabConfig, WorkbookConfig, parse_section

PREFERRED_BREAKDOWN = "segment"


def default_tabs(infos: Sequence[Any]) -> list[TabConfig]:
    """A monthly tab of every metric, and a quarterly tab by segment (or the most common dimension)."""
    names = [m.name for m in infos]
    if not names:
        return []
    tabs = [TabConfig(name="KPIs by month", key="monthly", metrics=names, grain="month", periods=12)]
    dim = _breakdown_dimension(infos)
    if dim:
        split = [m.name for m in infos if dim in m.dimensions]
        tabs.append(TabConfig(name=f"KPIs by {dim}", key=f"quarterly-by-{dim}", metrics=split, grain="quarter",
                              periods=8, breakdown=BreakdownConfig(by=dim)))
    return tabs


def _breakdown_dimension(infos: Sequence[Any]) -> str | None:
    counts = Counter(d for m in infos for d in m.dimensions)
    if not counts:
        return None
    return PREFERRED_BREAKDOWN if PREFERRED_BREAKDOWN in counts else counts.most_common(1)[0][0]


def workbook_for(kpi: Any) -> WorkbookConfig:
    """The configured workbook, its tabs defaulted from the metrics when none are listed."""
    sections = getattr(getattr(kpi, "definitions", None), "sections", None) or {}
    cfg = parse_section(sections.get("sheets"))
    if not cfg.tabs:
        cfg = cfg.model_copy(update={"tabs": default_tabs(kpi.metrics())})
    return cfg


def select_tabs(cfg: WorkbookConfig, only: str | None) -> WorkbookConfig:
    """``--tab NAME``: just that tab (by name or key, any case); the status tab is always kept."""
    if not only:
        return cfg
    want = only.strip().lower()
    tabs = [t for t in cfg.tabs if want in (t.name.lower(), t.id.lower())]
    definitions = cfg.definitions_tab if (cfg.definitions_tab or "").lower() == want else None
    quality = cfg.quality_tab if want in ((cfg.quality_tab or "").lower(), "quality") else None
    if not tabs and definitions is None and quality is None:
        from metrics_core.errors import ConfigError, hint_for

        raise ConfigError(f"no tab '{only}' in the workbook" + hint_for(only, cfg.titles(), what="tabs"))
    return cfg.model_copy(update={"tabs": tabs, "definitions_tab": definitions, "quality_tab": quality})

"""The ``sheets:`` section of definitions.yaml: the workbook kpi keeps current (pure; config layer).

Validated with pydantic (``extra="forbid"``); ``validate_section`` is the ``kpi.sections`` entry
point, so ``kpi validate`` lists every problem of the section with its line. When the section is
absent, ``default_workbook`` builds one from the metrics (see sheets/README.md)::

    sheets:
      spreadsheet: 1AbC...xyz            # the id in the sheet's URL: /d/<id>/edit
      tabs:
        - name: KPIs by month
          metrics: [win_rate, avg_deal_size]
          grain: month
          periods: 12
        - name: KPIs by segment
          metrics: [win_rate]
          grain: quarter
          periods: 8
          breakdown: {by: segment, style: blocks, values: [SMB, Mid-Market, Enterprise]}
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from metrics_core.errors import Issue, hint_for
from metrics_core.i18n import gettext as _

_EVERY = re.compile(r"^\s*(\d+)\s*(s|sec|m|min|h|d)\s*$")
_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
_BAD_TITLE = re.compile(r"[\[\]*?/\\:]")  # characters Google Sheets and Excel refuse in tab names


def parse_every(text: str) -> timedelta:
    """``"1h"`` -> 1 hour; ``"15m"``, ``"90s"``, ``"1d"``. At least one minute (Sheets quotas)."""
    m = _EVERY.match(text or "")
    if not m:
        raise ValueError(_("cannot read interval {text!r} (write e.g. 15m, 1h, 1d)").format(text=text))
    seconds = int(m.group(1)) * _UNITS[m.group(2)]
    if seconds < 60:
        raise ValueError(_("interval {text!r} is under one minute (Google allows 60 writes a minute)").format(text=text))
    return timedelta(seconds=seconds)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BreakdownConfig(_Model):
    """One block of rows per dimension value (``blocks``), or the value as a second column (``rows``)."""

    by: str
    style: Literal["blocks", "rows"] = "blocks"
    values: list[str] | None = None  # fixed order: keeps every block in place when values come and go


class TabConfig(_Model):
    """A report tab: metrics (rows) x a run of trailing periods (columns), the last one to date."""

    name: str = Field(min_length=1, max_length=100)
    key: str | None = None  # the tab's identity in the sheet; defaults to name (set it to rename safely)
    metrics: list[str] = Field(min_length=1)
    grain: Literal["day", "week", "month", "quarter", "year", "fiscal_quarter", "fiscal_year"] = "month"
    periods: int = Field(default=12, ge=1, le=120)
    breakdown: BreakdownConfig | None = None
    targets: bool = True  # Target, Status and Why columns for the current period

    @field_validator("name")
    @classmethod
    def _title(cls, v: str) -> str:
        if _BAD_TITLE.search(v):
            raise ValueError(_("tab name {name!r} may not contain any of [ ] * ? / \\ :").format(name=v))
        return v

    @property
    def id(self) -> str:
        return self.key or self.name


class WorkbookConfig(_Model):
    spreadsheet: str | None = None
    credentials: str | None = None  # service-account JSON; else GOOGLE_APPLICATION_CREDENTIALS
    every: str | None = None  # repeat interval for `kpi sheets sync` without --every
    cron: str | None = None  # or a crontab line, e.g. "0 7 * * 1-5"
    tabs: list[TabConfig] = Field(default_factory=list)
    definitions_tab: str | None = "Definitions"
    quality_tab: str | None = "Data quality"  # kpi doctor's findings; null leaves it out
    status_tab: str | None = "Sync status"

    @field_validator("every")
    @classmethod
    def _every(cls, v: str | None) -> str | None:
        if v is not None:
            parse_every(v)
        return v

    @field_validator("cron")
    @classmethod
    def _cron(cls, v: str | None) -> str | None:
        if v is not None:
            from apscheduler.triggers.cron import CronTrigger

            CronTrigger.from_crontab(v)
        return v

    def titles(self) -> list[str]:
        return [t.name for t in self.tabs] + [t for t in (self.definitions_tab, self.quality_tab, self.status_tab) if t]


def parse_section(raw: dict[str, Any] | None) -> WorkbookConfig:
    return WorkbookConfig.model_validate(raw or {})


def validate_section(raw: dict[str, Any], defs: Any, source: str = "definitions.yaml") -> list[Issue]:
    """All problems of the ``sheets:`` section (the ``kpi.sections`` entry point); [] when fine."""
    try:
        cfg = parse_section(raw)
    except ValidationError as e:
        return [_issue_from(err, raw, source) for err in e.errors()]
    return _semantic_issues(cfg, raw, defs, source)


def _issue_from(err: dict[str, Any], raw: Any, source: str) -> Issue:
    loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        msg = _("unknown key '{key}'").format(key=loc[-1]) + hint_for(str(loc[-1]), allowed)
    return Issue(msg, source, _line(raw, loc), "sheets." + ".".join(str(p) for p in loc))


def _allowed_keys(parent: list[Any]) -> list[str]:
    model: type[BaseModel] = WorkbookConfig
    for part in parent:
        if isinstance(part, int):
            continue
        ann = {"tabs": TabConfig, "breakdown": BreakdownConfig}.get(str(part))
        if ann is None:
            break
        model = ann
    return list(model.model_fields)


def _line(raw: Any, loc: list[Any]) -> int | None:
    """The YAML line of the deepest key on ``loc`` that the loader recorded, else None."""
    try:
        from metrics_core import line_of
    except ImportError:  # an older core without line tracking
        return None
    return line_of(raw, loc)


def _semantic_issues(cfg: WorkbookConfig, raw: dict[str, Any], defs: Any, source: str) -> list[Issue]:
    issues: list[Issue] = []
    seen: set[str] = set()
    for title in cfg.titles():
        if title.lower() in seen:
            issues.append(Issue(_("two tabs are named {title!r}").format(title=title), source, _line(raw, ["tabs"]),
                                "sheets.tabs"))
        seen.add(title.lower())
    dims_of, served = _dimensions_of(defs)
    for i, tab in enumerate(cfg.tabs):
        issues += _tab_issues(i, tab, dims_of, served, raw, source)
    return issues


def _tab_issues(i: int, tab: TabConfig, dims_of: dict[str, list[str]], served: set[str], raw: Any,
                source: str) -> list[Issue]:
    issues: list[Issue] = []
    where = ["tabs", i, "metrics"]
    for name in tab.metrics if dims_of else ():
        if name not in dims_of:
            issues.append(Issue(_("unknown metric '{name}'").format(name=name) + hint_for(name, dims_of), source,
                                _line(raw, where),
                                f"sheets.tabs.{i}.metrics"))
    by = tab.breakdown.by if tab.breakdown else None
    if not (by and dims_of):
        return issues
    key, line = f"sheets.tabs.{i}.breakdown.by", _line(raw, ["tabs", i, "breakdown", "by"])
    every = sorted({d for dims in dims_of.values() for d in dims})
    if by not in every and by not in served:  # served: a real dimension that no metric's list allows
        return issues + [Issue(_("unknown dimension '{name}'").format(name=by) + hint_for(by, every), source, line, key)]
    for name in tab.metrics:
        if name in dims_of and by not in dims_of[name]:
            issues.append(Issue(_("metric '{metric}' cannot be broken down by '{dimension}'").format(metric=name, dimension=by)
                                + hint_for(by, dims_of[name], what=_("it can use")), source, line, key))
    return issues


def _dimensions_of(defs: Any) -> tuple[dict[str, list[str]], set[str]]:
    """(metric -> the dimensions it may be broken down by, every dimension some metric's tables have);
    ({}, set()) when the definitions are unknown."""
    metrics = getattr(defs, "metrics", None)
    if not metrics:
        return {}, set()
    from metrics_core import Catalog

    catalog = Catalog(defs)
    return ({str(m): list(catalog.metric_dimensions(m)) for m in metrics},
            {d for m in metrics for d in catalog.served_dimensions(m)})


def section_schema() -> dict[str, Any]:
    """JSON Schema of the ``sheets:`` section, for the core's definitions.schema.json (editor completion)."""
    return WorkbookConfig.model_json_schema()

"""The ``slack:`` section of definitions.yaml: digests, alerts, access rules, commands, admin channel.

Layer: bot configuration (pure; imports only the core's public errors / yamlio helpers).
The core's ``kpi validate`` finds ``validate_section`` through the ``kpi.sections`` entry point and
passes the raw section (a dict that remembers its lines), so problems are reported as
``definitions.yaml:57: slack.digests.0.schedule: ...`` next to the core's own findings.

    slack:
      admin_channel: "#kpi-admin"
      commands: {win_rate: /winrate}          # shortcut names; default "/" + name without "_"
      access:
        - metrics: [cac, clv]
          channels: ["#leadership"]
          users: [U0CFO]
      digests:
        - {channel: "#sales", schedule: every Monday 09:00, metrics: [win_rate], period: last-week, by: [region]}
      alerts:
        - {metric: win_rate, when: below target, period: this-month, channel: "#sales", schedule: every day 08:00}
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Iterator

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from metrics_core import Catalog, Definitions, Issue, QueryError, hint_for, line_of, suggest
from metrics_core.i18n import gettext as _

from .conditions import parse_condition
from .schedule import parse_schedule

_COMMAND = re.compile(r"^/[a-z0-9_\-]{1,31}$")


def _checked(parse: Any, v: str, *args: Any) -> str:
    """Run a parser for its errors only; pydantic reports ValueErrors with the key's location."""
    try:
        parse(v, *args)
    except QueryError as e:
        raise ValueError(str(e)) from e
    return v


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AccessRule(_Model):
    """Who may ask about ``metrics`` (a group): any listed channel OR any listed user OR any listed API key
    (``kpi api keys create --name finance-sheet``). Unlisted metrics are open."""

    metrics: tuple[str, ...] = Field(min_length=1)
    channels: tuple[str, ...] = ()  # channel ids (C0123) or names ("#sales")
    users: tuple[str, ...] = ()  # user ids (U0123)
    keys: tuple[str, ...] = ()  # API key names or ids (the JSON API, the Sheets add-on)


class Digest(_Model):
    channel: str
    schedule: str  # cron "0 9 * * 1" or "every Monday 09:00" (calendar timezone)
    metrics: tuple[str, ...] = Field(min_length=1)
    period: str = "last-week"
    by: tuple[str, ...] = ()
    name: str = ""

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v: str) -> str:
        return _checked(parse_schedule, v, "UTC")


class Alert(_Model):
    metric: str
    when: str  # "below target", "above 0.3", "change beyond 10%", "drop beyond 5%"
    channel: str
    schedule: str = "every day 08:00"
    period: str = "this-month"
    name: str = ""

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v: str) -> str:
        return _checked(parse_schedule, v, "UTC")

    @field_validator("when")
    @classmethod
    def _when(cls, v: str) -> str:
        return _checked(parse_condition, v)

    @property
    def key(self) -> str:
        return self.name or f"{self.metric}:{self.when}:{self.period}:{self.channel}"


class SyncRule(_Model):
    """Who may run ``/kpi sync``: any listed channel OR any listed user (unset: the admin channel only)."""

    channels: tuple[str, ...] = ()
    users: tuple[str, ...] = ()


class SlackConfig(_Model):
    admin_channel: str | None = None
    timezone: str | None = None  # default: the calendar's timezone
    locale: str | None = None  # default: the definitions' locale
    user_locale: bool = False  # answer each user in their Slack language (users.info), numbers and words
    ack_budget_seconds: float = Field(default=2.0, gt=0, le=2.5)  # Slack gives 3 s in all
    commands: dict[str, str] = {}  # metric -> "/shortcut"
    access: tuple[AccessRule, ...] = ()
    digests: tuple[Digest, ...] = ()
    alerts: tuple[Alert, ...] = ()
    sync: SyncRule | None = None

    @field_validator("commands")
    @classmethod
    def _commands(cls, v: dict[str, str]) -> dict[str, str]:
        for metric, cmd in v.items():
            if not _COMMAND.match(cmd):
                raise ValueError(_("{metric}: {command!r} is not a slash command (lowercase, '/' + at most 31 chars)").format(
            metric=metric, command=cmd))
        return v


_ALL_KEYS = sorted({f for m in (SlackConfig, AccessRule, Digest, Alert, SyncRule) for f in m.model_fields})


def parse_section(raw: dict | None) -> SlackConfig:
    """The validated section (raises pydantic's ValidationError; callers wanting issues use validate_section)."""
    return SlackConfig.model_validate(dict(raw or {}))


def validate_section(raw: dict, defs: Any) -> list[Issue]:
    """Every problem of the ``slack:`` section, with file and line (entry point ``kpi.sections``)."""
    source = str(getattr(defs, "source", None) or "definitions.yaml")
    try:
        cfg = parse_section(raw)
    except ValidationError as e:
        return [_issue_of(err, raw, source) for err in e.errors()]
    return _semantic_issues(cfg, raw, defs, source)


def _issue_of(err: dict, raw: Any, source: str) -> Issue:
    loc = tuple(err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        close = suggest(str(loc[-1]), _ALL_KEYS)
        msg = _("unknown key '{key}'").format(key=loc[-1]) + (hint_for(str(loc[-1]), close[:1]) if close else "")
    return Issue(msg, source, _line(raw, loc), "slack." + ".".join(str(p) for p in loc))


def _line(raw: Any, loc: Iterable[Any]) -> int | None:
    return line_of(raw, list(loc))


def _semantic_issues(cfg: SlackConfig, raw: Any, defs: Any, source: str) -> list[Issue]:
    """Names that must exist in the definitions: metrics and dimensions; commands used once."""
    metrics = _metric_dims(defs)
    if metrics is None:  # definitions not loaded (their own issues are reported by the core)
        return []
    problems = [*((loc, _("unknown metric '{name}'").format(name=m) + hint_for(m, metrics)) for loc, m in _metric_refs(cfg)
                  if m not in metrics), *_command_clashes(cfg), *_digest_dims(cfg, metrics)]
    return [Issue(msg, source, _line(raw, loc), "slack." + ".".join(map(str, loc))) for loc, msg in problems]


def _metric_refs(cfg: SlackConfig) -> Iterator[tuple[tuple, str]]:
    """(location, metric name) of every metric the section names."""
    for m in cfg.commands:
        yield ("commands", m), m
    for i, rule in enumerate(cfg.access):
        yield from ((("access", i, "metrics", j), m) for j, m in enumerate(rule.metrics))
    for i, d in enumerate(cfg.digests):
        yield from ((("digests", i, "metrics", j), m) for j, m in enumerate(d.metrics))
    for i, a in enumerate(cfg.alerts):
        yield ("alerts", i, "metric"), a.metric


def _command_clashes(cfg: SlackConfig) -> Iterator[tuple[tuple, str]]:
    seen: dict[str, str] = {}
    for m, cmd in cfg.commands.items():
        if cmd in seen:
            yield ("commands", m), _("{command} is already the command of '{metric}'").format(command=cmd, metric=seen[cmd])
        seen[cmd] = m


def _digest_dims(cfg: SlackConfig, metrics: dict[str, tuple[str, ...] | None]) -> Iterator[tuple[tuple, str]]:
    for i, d in enumerate(cfg.digests):
        for m in d.metrics:
            dims = metrics.get(m)
            for k, dim in enumerate(d.by):
                if dims is not None and dim not in dims:
                    yield ("digests", i, "by", k), _("metric '{metric}' cannot be broken down by '{dimension}'").format(
                        metric=m, dimension=dim) + hint_for(dim, dims)


def _metric_dims(defs: Any) -> dict[str, tuple[str, ...] | None] | None:
    """metric name -> the dimensions it may be broken down by (None when unknown)."""
    if isinstance(defs, Definitions):
        catalog = Catalog(defs)
        return {str(m): tuple(catalog.metric_dimensions(m)) for m in defs.metrics}
    found = getattr(defs, "metrics", None)  # a stand-in (tests): name -> object with .dimensions
    if not isinstance(found, dict):
        return None
    return {str(n): tuple(getattr(m, "dimensions", ()) or ()) for n, m in found.items()}

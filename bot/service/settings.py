"""The settings of ``kpi serve``: environment variables and ``.env``, validated at start (layer: bot edge).

    KPI_DEFINITIONS        definitions.yaml (default ./definitions.yaml)
    KPI_STATE_DIR          state database (API keys, alert state, Slack installations), default .kpi
    KPI_HOST / KPI_PORT    where the API (and Slack's HTTP endpoint) listens, default 127.0.0.1:8080
    KPI_API_RATE_LIMIT     requests a minute per API key, default 120
    KPI_SHUTDOWN_GRACE     seconds to let in-flight answers and a running sync finish, default 60
    KPI_CLOCK_SPEED        run schedules this many times faster (tests and demos), default 1
    SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN, SLACK_API_URL    as for ``kpi slack serve``
    SLACK_CLIENT_ID, SLACK_CLIENT_SECRET   multi-workspace install over Slack OAuth (HTTP mode)
    KPI_TEAM_DEFINITIONS   with those: workspaces with their own definitions, "T0ACME=acme.yaml, T0GLOBEX=globex.yaml"
                           (every other workspace gets KPI_DEFINITIONS)
    GOOGLE_APPLICATION_CREDENTIALS         the service-account key of the Sheets syncs

Without Slack tokens the service runs the API and the schedules that need no Slack (Sheets syncs).
``ServeSettings.load()`` raises one ConfigError listing every problem.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from metrics_core.errors import ConfigError
from metrics_core.i18n import gettext as _, ngettext

from ..settings import DEFAULT_API_URL, Settings as SlackSettings

SlackMode = Literal["socket", "http", "oauth", "off"]
_TEAM_ID = re.compile(r"[TE][A-Z0-9]{2,30}")


class ServeSettings(BaseSettings):
    # An empty value is no value: compose's "${SLACK_APP_TOKEN:-}" or a "GOOGLE_APPLICATION_CREDENTIALS="
    # line in .env leaves the setting unset (not the path "." or an empty token).
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      case_sensitive=False, env_ignore_empty=True)

    kpi_definitions: Path | None = None
    kpi_state_dir: Path = Path(".kpi")
    kpi_host: str = "127.0.0.1"
    kpi_port: int = Field(default=8080, ge=0, lt=65536)
    kpi_api_rate_limit: int = Field(default=120, ge=1)
    kpi_shutdown_grace: float = Field(default=60.0, ge=0)
    kpi_clock_speed: float = Field(default=1.0, gt=0)
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = DEFAULT_API_URL
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    kpi_team_definitions: str = ""
    google_application_credentials: Path | None = None

    @classmethod
    def load(cls, env_file: str | Path | None = ".env", **overrides: object) -> "ServeSettings":
        """Read and check everything; one ConfigError with every problem, one per line."""
        problems: list[str] = []
        try:
            settings = cls(_env_file=env_file, **overrides)  # type: ignore[call-arg]
        except ValidationError as e:
            problems = [_field_problem(err) for err in e.errors()]
            # the rest is still checked: the fields in error at their defaults (arguments win over the environment)
            defaults = {str(err["loc"][0]): cls.model_fields[str(err["loc"][0])].default
                        for err in e.errors() if err["loc"] and str(err["loc"][0]) in cls.model_fields}
            try:
                settings = cls(_env_file=env_file, **{**overrides, **defaults})  # type: ignore[call-arg]
            except ValidationError:
                raise ConfigError(_listed(problems)) from e
        problems += settings.problems()
        if problems:
            raise ConfigError(_listed(problems))
        return settings

    @property
    def slack_mode(self) -> SlackMode:
        if self.slack_client_id and self.slack_client_secret:
            return "oauth"
        if not self.slack_bot_token:
            return "off"
        return "socket" if self.slack_app_token else "http"

    def problems(self) -> list[str]:
        """What is inconsistent between settings (pydantic checked each one alone)."""
        out: list[str] = []
        mode = self.slack_mode
        if mode == "oauth":
            if not self.slack_signing_secret:
                out.append(_("SLACK_SIGNING_SECRET is not set (Slack OAuth installs run in HTTP mode)"))
            if self.slack_app_token:
                out.append(_("SLACK_APP_TOKEN is set with SLACK_CLIENT_ID/SECRET: multi-workspace installs need "
                             "HTTP mode; unset one of them"))
        elif mode != "off":
            problems = _slack_problems(self)
            out += problems
        elif self.slack_app_token or self.slack_signing_secret:
            out.append(_("SLACK_BOT_TOKEN is not set, but other SLACK_ settings are (set it to run the Slack app, "
                         "or unset them to run the API and schedules alone)"))
        elif bool(self.slack_client_id) != bool(self.slack_client_secret):
            out.append(_("set both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (multi-workspace install), or neither"))
        out += self._team_problems(mode)
        creds = self.google_application_credentials
        if creds is not None and not creds.expanduser().is_file():
            out.append(_("GOOGLE_APPLICATION_CREDENTIALS: no such file {path}").format(path=creds))
        return out

    def team_definitions(self) -> dict[str, Path]:
        """``KPI_TEAM_DEFINITIONS`` as {team id: definitions path} (malformed entries are left to problems())."""
        out = {}
        for entry in filter(None, (e.strip() for e in self.kpi_team_definitions.split(","))):
            team, _eq, path = entry.partition("=")
            if team.strip() and path.strip():
                out[team.strip()] = Path(path.strip()).expanduser()
        return out

    def _team_problems(self, mode: str) -> list[str]:
        if not self.kpi_team_definitions.strip():
            return []
        out = []
        if mode != "oauth":
            out.append(_("KPI_TEAM_DEFINITIONS is set, but one definitions file per workspace needs the "
                         "multi-workspace install: set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET too, or unset it"))
        for entry in filter(None, (e.strip() for e in self.kpi_team_definitions.split(","))):
            team, eq, path = (x.strip() for x in entry.partition("="))
            if not eq or not team or not path:
                out.append(_("KPI_TEAM_DEFINITIONS: '{entry}' is not TEAM_ID=path (e.g. T0ACME=acme.yaml)")
                           .format(entry=entry))
            elif not _TEAM_ID.fullmatch(team):
                out.append(_("KPI_TEAM_DEFINITIONS: '{team}' is not a Slack workspace id (T followed by capital "
                             "letters and digits, e.g. T0ACME)").format(team=team))
            elif not Path(path).expanduser().is_file():
                out.append(_("KPI_TEAM_DEFINITIONS: no such file {path} (for workspace {team})")
                           .format(path=path, team=team))
        return out

    def slack(self) -> SlackSettings:
        """The bot's own settings (tokens, API URL, state directory)."""
        api = self.slack_api_url if self.slack_api_url.endswith("/") else self.slack_api_url + "/"
        return SlackSettings(bot_token=self.slack_bot_token or "", signing_secret=self.slack_signing_secret,
                             app_token=self.slack_app_token, api_url=api, port=self.kpi_port,
                             state_dir=self.kpi_state_dir)

    @property
    def state_db(self) -> Path:
        return self.kpi_state_dir / "bot.sqlite3"


def _slack_problems(s: ServeSettings) -> list[str]:
    from ..settings import _problems

    env = {"SLACK_BOT_TOKEN": s.slack_bot_token, "SLACK_SIGNING_SECRET": s.slack_signing_secret,
           "SLACK_APP_TOKEN": s.slack_app_token}
    return _problems(lambda k: (env.get(k) or "").strip() or None)


def _env_name(loc: tuple) -> str:
    return str(loc[0]).upper() if loc else "settings"


def _number(x: object) -> str:
    from babel.numbers import format_decimal

    from metrics_core.i18n import speaking

    try:
        return format_decimal(x, locale=speaking())  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - a locale Babel does not know: the plain number
        return str(x)


def _field_problem(err: dict) -> str:
    """One pydantic error as 'KPI_PORT: must be a whole number, got 'eighty'', in the language spoken."""
    kind, ctx = err["type"], err.get("ctx") or {}
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(err.get("input", ""))[:80])
    what = dict(name=_env_name(err["loc"]), value=shown)  # one line, whatever the value holds
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("{name}: must be a whole number, got '{value}'").format(**what)
    if kind in ("float_parsing", "float_type", "finite_number"):
        return _("{name}: must be a number, got '{value}'").format(**what)
    bounds = {"greater_than_equal": ("ge", _("{name}: must be at least {limit}, got '{value}'")),
              "greater_than": ("gt", _("{name}: must be more than {limit}, got '{value}'")),
              "less_than_equal": ("le", _("{name}: must be at most {limit}, got '{value}'")),
              "less_than": ("lt", _("{name}: must be less than {limit}, got '{value}'"))}
    if kind in bounds and bounds[kind][0] in ctx:
        key, text = bounds[kind]
        return text.format(limit=_number(ctx[key]), **what)
    if kind in ("string_type", "path_type"):
        return _("{name}: must be text, got '{value}'").format(**what)
    # TRANSLATORS: a setting pydantic refused for a reason kpi does not word itself; {detail} is pydantic's (English)
    return _("{name}: not a valid value '{value}' ({detail})").format(detail=err.get("msg", ""), **what)


def _listed(problems: list[str]) -> str:
    n = len(problems)
    head = ngettext("{count} problem in the kpi serve settings:", "{count} problems in the kpi serve settings:", n)
    return head.format(count=n) + "\n  " + "\n  ".join(problems)

"""Runtime settings of the Slack bot, from environment variables (layer: bot edge).

    SLACK_BOT_TOKEN       xoxb-...   always required
    SLACK_SIGNING_SECRET             required in HTTP mode (every request's signature is checked)
    SLACK_APP_TOKEN       xapp-...   set it to run in Socket Mode (no public URL needed)
    SLACK_API_URL                    default https://slack.com/api/ (point it at a test server)
    KPI_BOT_PORT                     HTTP port, default 3000
    KPI_STATE_DIR                    where alert state is kept, default .kpi

``Settings.from_env()`` checks them all at once and raises one ConfigError naming what is missing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Mapping

from metrics_core.errors import ConfigError
from metrics_core.i18n import gettext as _

DEFAULT_API_URL = "https://slack.com/api/"


@dataclass(frozen=True)
class Settings:
    bot_token: str
    signing_secret: str | None = None
    app_token: str | None = None
    api_url: str = DEFAULT_API_URL
    port: int = 3000
    state_dir: Path = Path(".kpi")

    @property
    def mode(self) -> Literal["socket", "http"]:
        return "socket" if self.app_token else "http"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        get = lambda k: (env.get(k) or "").strip() or None  # noqa: E731
        problems = _problems(get)
        if problems:
            raise ConfigError(_("Slack settings are incomplete:") + "\n  " + "\n  ".join(problems))
        api = get("SLACK_API_URL") or DEFAULT_API_URL
        return cls(bot_token=get("SLACK_BOT_TOKEN"), signing_secret=get("SLACK_SIGNING_SECRET"),  # type: ignore[arg-type]
                   app_token=get("SLACK_APP_TOKEN"), api_url=api if api.endswith("/") else api + "/",
                   port=int(get("KPI_BOT_PORT") or 3000), state_dir=Path(get("KPI_STATE_DIR") or ".kpi"))


def _problems(get) -> list[str]:  # type: ignore[no-untyped-def]
    out = []
    bot, app, secret = get("SLACK_BOT_TOKEN"), get("SLACK_APP_TOKEN"), get("SLACK_SIGNING_SECRET")
    if not bot:
        out.append(_("SLACK_BOT_TOKEN is not set (the app's Bot User OAuth Token, xoxb-...)"))
    elif not bot.startswith("xoxb-"):
        out.append(_("SLACK_BOT_TOKEN must be a bot token starting with xoxb-"))
    if app and not app.startswith("xapp-"):
        out.append(_("SLACK_APP_TOKEN must be an app-level token starting with xapp- (scope connections:write)"))
    if not app and not secret:
        out.append(_("SLACK_SIGNING_SECRET is not set (needed in HTTP mode; or set SLACK_APP_TOKEN for Socket Mode)"))
    port = get("KPI_BOT_PORT")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        out.append(_("KPI_BOT_PORT must be a port number, got {port!r}").format(port=port))
    if get("SLACK_CLIENT_ID") and get("SLACK_CLIENT_SECRET"):
        out.append(_("SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are both set: slack_bolt would switch to OAuth "
                     "(multi-workspace) mode, which kpi does not use; unset them"))
    return out

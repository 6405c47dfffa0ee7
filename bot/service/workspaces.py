"""The installed workspaces of a multi-workspace deploy, for the schedules (layer: bot runtime, I/O).

    workspaces = Workspaces(store, teams, slack=settings.slack(), client_id=..., client_secret=...)
    for ws in workspaces.installed():       # Workspace(id="T0ACME", ...), read from the installation store
        provider = workspaces.provider(ws)  # its own definitions (KPI_TEAM_DEFINITIONS) or the shared ones
        client = workspaces.client(ws)      # a WebClient with that workspace's bot token, looked up now

Under Slack OAuth there is no one bot token: each workspace's digests and alerts are posted with the
token bolt stored at its install (``installs.py``), looked up when the job runs, so a re-install or a
rotated token is used at once. A token that expires within two hours (Slack token rotation) is
refreshed first with ``oauth.v2.access`` and the new one saved, as bolt does for incoming requests.
``describe()`` says which workspaces have schedules, for ``kpi serve --check`` and the start log.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from metrics_core.i18n import gettext as _, ngettext

log = logging.getLogger("kpi.serve.workspaces")


@dataclass(frozen=True)
class Workspace:
    id: str  # the team id; the enterprise id for an org-wide install
    enterprise_id: str
    team_id: str
    org_wide: bool = False
    name: str = ""


class WorkspaceGone(Exception):
    """The workspace has no bot token any more (uninstalled since the job was scheduled)."""


class Workspaces:
    def __init__(self, store: Any, teams: Any, *, slack: Any, client_id: str, client_secret: str) -> None:
        self.store, self.teams, self.slack = store, teams, slack
        self.client_id, self.client_secret = client_id, client_secret

    def installed(self) -> list[Workspace]:
        return [Workspace(id=t or e, enterprise_id=e, team_id=t, org_wide=org, name=name)
                for e, t, org, name in self.store.installed() if t or e]

    def provider(self, ws: Workspace) -> Any:
        return self.teams.for_team(ws.id)

    def client(self, ws: Workspace) -> Any:
        from ..app import make_client

        bot = self.store.find_bot(enterprise_id=ws.enterprise_id or None, team_id=ws.team_id or None,
                                  is_enterprise_install=ws.org_wide)
        if bot is None:
            raise WorkspaceGone(_("workspace {team} has no bot token any more (uninstalled?)").format(team=ws.id))
        if bot.bot_refresh_token and bot.bot_token_expires_at is not None:
            bot = self._rotated(bot)
        return make_client(dataclasses.replace(self.slack, bot_token=bot.bot_token))

    def _rotated(self, bot: Any) -> Any:
        from slack_sdk import WebClient
        from slack_sdk.oauth.token_rotation import TokenRotator

        rotator = TokenRotator(client_id=self.client_id, client_secret=self.client_secret,
                               client=WebClient(base_url=self.slack.api_url))
        fresh = rotator.perform_bot_token_rotation(bot=bot, minutes_before_expiration=120)
        if fresh is None:
            return bot
        self.store.save_bot(fresh)
        log.info("workspace %s: bot token refreshed (token rotation)", bot.team_id or bot.enterprise_id)
        return fresh

    def describe(self) -> str:
        """One line: each installed workspace, where its definitions come from and what it schedules."""
        return describe(self.installed(), self.teams)


def _source(teams: Any, ws_id: str) -> str:
    own = teams.by_team.get(ws_id)
    return str(own.path) if own is not None else _("shared definitions")


def _counts(snap: Any) -> str:
    d, a = len(snap.config.digests), len(snap.config.alerts)
    return (ngettext("{count} digest", "{count} digests", d).format(count=d) + ", "
            + ngettext("{count} alert", "{count} alerts", a).format(count=a))


def describe(installed: list[Workspace], teams: Any) -> str:
    """'schedules: T0ACME (acme.yaml): 1 digest, 2 alerts; ...', naming own files not installed yet."""
    parts = [_("{team} ({source}): {counts}").format(team=ws.id, source=_source(teams, ws.id),
                                                     counts=_counts(teams.for_team(ws.id).current()))
             for ws in installed]
    waiting = sorted(set(teams.by_team) - {ws.id for ws in installed})
    if waiting:
        parts.append(_("not installed yet: {teams}").format(teams=", ".join(waiting)))
    if not installed:
        parts.insert(0, _("no workspace has installed the app yet (each one's digests and alerts start "
                          "with its install at /slack/install)"))
    return _("schedules per workspace: {list}").format(list="; ".join(parts))


def installed_in(settings: Any) -> list[Workspace]:
    """The installed workspaces as the state database says, without creating it (``kpi serve --check``)."""
    if not Path(settings.state_db).is_file():
        return []
    from .installs import InstallationStore

    store = InstallationStore(database=str(settings.state_db), client_id=settings.slack_client_id)
    return Workspaces(store, None, slack=None, client_id="", client_secret="").installed()

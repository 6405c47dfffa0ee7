"""Multi-workspace installs over Slack OAuth, kept in the state database (layer: bot runtime, I/O).

    SLACK_CLIENT_ID=... SLACK_CLIENT_SECRET=... SLACK_SIGNING_SECRET=... kpi serve
    -> https://<your host>/slack/install          "Add to Slack" for each workspace
       https://<your host>/slack/oauth_redirect   register it as the app's Redirect URL

bolt's own SQLite installation and state stores, in the state database (``$KPI_STATE_DIR/bot.sqlite3``,
tables ``slack_installations``, ``slack_bots``, ``oauth_states``): each request is answered with the
token of the workspace it came from (bolt's ``InstallationStoreAuthorize``). A workspace listed in
``KPI_TEAM_DEFINITIONS`` is answered from its own definitions file, every other one from the service's
(``bot/teams.py``). The store also lists the installed workspaces and tells listeners of each install
and uninstall (bolt's ``app_uninstalled`` / ``tokens_revoked`` listeners delete the workspace's bot), so
the schedules (``workspaces.py``, ``jobs.py``) follow them as they happen.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from slack_sdk.oauth.installation_store.sqlite3 import SQLite3InstallationStore

from ..manifest import BOT_SCOPES

log = logging.getLogger("kpi.serve.installs")


class InstallationStore(SQLite3InstallationStore):
    """bolt's SQLite installation store, plus ``installed()`` and ``on_save`` listeners (called with the
    workspace id after each install; a failing listener is logged, the install itself stands)."""

    def __init__(self, *, database: str, client_id: str) -> None:
        super().__init__(database=database, client_id=client_id)
        self.on_save: list[Callable[[str], None]] = []
        self.on_delete: list[Callable[[str], None]] = []  # its bot token is gone (app uninstalled, revoked)

    def save(self, installation: Any) -> None:
        super().save(installation)
        self._tell(self.on_save, installation.team_id or installation.enterprise_id or "")

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        super().delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        self._tell(self.on_delete, team_id or enterprise_id or "")

    @staticmethod
    def _tell(listeners: list[Callable[[str], None]], workspace: str) -> None:
        for listener in list(listeners):
            try:
                listener(workspace)
            except Exception:  # noqa: BLE001 - the store changed whatever a listener does
                log.exception("after a change of workspace %s", workspace)

    def installed(self) -> list[tuple[str, str, bool, str]]:
        """Every workspace with a bot token: (enterprise id, team id, org-wide install, workspace name)."""
        with self.connect() as conn:
            rows = conn.execute(
                "select enterprise_id, team_id, max(is_enterprise_install), "
                "(select b.team_name from slack_bots b where b.client_id = s.client_id "
                " and b.enterprise_id = s.enterprise_id and b.team_id = s.team_id order by b.installed_at desc limit 1) "
                "from slack_bots s where client_id = ? group by enterprise_id, team_id order by team_id, enterprise_id",
                [self.client_id]).fetchall()
        return [(e or "", t or "", bool(org), name or "") for e, t, org, name in rows]


def installation_store(settings: Any) -> InstallationStore:
    settings.kpi_state_dir.mkdir(parents=True, exist_ok=True)
    return InstallationStore(database=str(settings.state_db), client_id=settings.slack_client_id)


def oauth_settings(settings: Any, store: InstallationStore | None = None) -> Any:
    from slack_bolt.oauth.oauth_settings import OAuthSettings
    from slack_sdk.oauth.state_store.sqlite3 import SQLite3OAuthStateStore

    store = store or installation_store(settings)
    return OAuthSettings(client_id=settings.slack_client_id, client_secret=settings.slack_client_secret,
                         scopes=list(BOT_SCOPES), installation_store=store,
                         state_store=SQLite3OAuthStateStore(database=store.database, expiration_seconds=600))

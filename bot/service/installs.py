"""Multi-workspace installs over Slack OAuth, kept in the state database (layer: bot runtime, I/O).

    SLACK_CLIENT_ID=... SLACK_CLIENT_SECRET=... SLACK_SIGNING_SECRET=... kpi serve
    -> https://<your host>/slack/install          "Add to Slack" for each workspace
       https://<your host>/slack/oauth_redirect   register it as the app's Redirect URL

bolt's own SQLite installation and state stores, in the state database (``$KPI_STATE_DIR/bot.sqlite3``,
tables ``slack_installations``, ``slack_bots``, ``oauth_states``): each request is answered with the
token of the workspace it came from (bolt's ``InstallationStoreAuthorize``). A workspace listed in
``KPI_TEAM_DEFINITIONS`` is answered from its own definitions file, every other one from the service's
(``bot/teams.py``).
"""

from __future__ import annotations

from typing import Any

from ..manifest import BOT_SCOPES


def oauth_settings(settings: Any) -> Any:
    from slack_bolt.oauth.oauth_settings import OAuthSettings
    from slack_sdk.oauth.installation_store.sqlite3 import SQLite3InstallationStore
    from slack_sdk.oauth.state_store.sqlite3 import SQLite3OAuthStateStore

    settings.kpi_state_dir.mkdir(parents=True, exist_ok=True)
    database = str(settings.state_db)
    return OAuthSettings(client_id=settings.slack_client_id, client_secret=settings.slack_client_secret,
                         scopes=list(BOT_SCOPES),
                         installation_store=SQLite3InstallationStore(database=database,
                                                                     client_id=settings.slack_client_id),
                         state_store=SQLite3OAuthStateStore(database=database, expiration_seconds=600))

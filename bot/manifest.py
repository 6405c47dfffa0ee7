"""A Slack app manifest for the current definitions (pure; printed by ``kpi slack manifest``).

    kpi slack manifest --socket                      # Socket Mode: no public URL
    kpi slack manifest --http https://kpi.example.com/slack/events
"""

from __future__ import annotations

from typing import Any

from metrics_core.i18n import gettext as _, use_locale

from .context import MAIN_COMMAND

BOT_SCOPES = ("app_mentions:read", "chat:write", "chat:write.public", "commands", "files:write")


def build_manifest(snap: Any, *, url: str | None = None, name: str = "kpi") -> dict[str, Any]:
    """Every command (``/kpi`` + one shortcut per metric), the scopes the features need, the mode."""
    with use_locale(snap.locale):  # what Slack shows people: in the definitions' language
        return _manifest(snap, url, name)


def _manifest(snap: Any, url: str | None, name: str) -> dict[str, Any]:
    socket = url is None
    commands = [_command(MAIN_COMMAND, _("Ask for a sales metric"), _("win_rate last-quarter by region"), url)]
    labels = {m.name: m for m in snap.kpi.metrics()}
    for cmd, metric in sorted(snap.shortcuts.items()):
        info = labels.get(metric)
        desc = f"{info.label}: {info.description}" if info and info.description else (info.label if info else metric)
        commands.append(_command(cmd, desc, _("[period] [by dim] [vs previous|last-year]"), url))
    # app_uninstalled / tokens_revoked: a multi-workspace kpi serve drops that workspace's token and schedules
    events = ["app_home_opened", "app_mention", "app_uninstalled", "tokens_revoked"]
    settings: dict[str, Any] = {"event_subscriptions": {"bot_events": events},
                                "interactivity": {"is_enabled": True},
                                "org_deploy_enabled": False, "socket_mode_enabled": socket,
                                "token_rotation_enabled": False}
    if not socket:
        settings["event_subscriptions"]["request_url"] = url
        settings["interactivity"]["request_url"] = url
    return {
        "display_information": {"name": name, "description": _("Sales metrics, answered in Slack")},
        "features": {"bot_user": {"display_name": name, "always_online": True}, "slash_commands": commands[:50],
                     # the Home tab lists the metrics each user follows (home.py)
                     "app_home": {"home_tab_enabled": True, "messages_tab_enabled": False}},
        # users:read lets the bot read each user's language (slack.user_locale)
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES) + (["users:read"] if _user_locale(snap) else [])}},
        "settings": settings,
    }


def _user_locale(snap: Any) -> bool:
    return bool(getattr(getattr(snap, "config", None), "user_locale", False))


def _command(command: str, description: str, hint: str, url: str | None) -> dict[str, Any]:
    out = {"command": command[:32], "description": description[:100], "usage_hint": hint[:100],
           "should_escape": False}
    if url:
        out["url"] = url
    return out

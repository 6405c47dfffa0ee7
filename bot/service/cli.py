"""``kpi serve`` and ``kpi api keys create|list|revoke`` (layer: bot edge; registered by bot.cli).

    kpi serve                              Slack (when configured) + schedules + JSON API on 127.0.0.1:8080
    kpi serve --port 9000 --host 0.0.0.0   listen elsewhere
    kpi serve --check                      validate settings and definitions, list every problem, exit
    kpi api keys create --scope query --metrics win_rate,cac --name finance-sheet
    kpi api keys list
    kpi api keys revoke finance-sheet

The new key is printed once, alone on the last line of stdout; only its scrypt hash is stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from metrics_core.cli import guarded
from metrics_core.i18n import gettext as _, help_gettext as _h, ngettext

DEFINITIONS = typer.Option(None, "--definitions", "-d",
                           help=_h("definitions.yaml (default: $KPI_DEFINITIONS, then ./definitions.yaml)"))


def _export_dotenv(path: Path = Path(".env")) -> None:
    """``.env`` becomes part of the process environment (what is already set wins), so what the
    settings model validated is also what the definitions' ``${VARS}`` (``KPI_SHEETS_SPREADSHEET``,
    a warehouse URL) and the Sheets sync (``GOOGLE_APPLICATION_CREDENTIALS``) read."""
    if path.is_file():
        from dotenv import load_dotenv

        load_dotenv(path, override=False, encoding="utf-8")


def _settings(**overrides: object):  # type: ignore[no-untyped-def]
    from .settings import ServeSettings

    return ServeSettings.load(**{k: v for k, v in overrides.items() if v is not None})


def check(settings_problem: str | None, definitions: Optional[Path],
          teams: dict[str, Path] | None = None) -> tuple[list[str], object]:
    """Every problem with the settings, the definitions and each workspace's own definitions
    (``KPI_TEAM_DEFINITIONS``), all looked at whatever fails first."""
    from metrics_core import find_definitions
    from metrics_core.errors import KpiUserError

    from ..provider import snapshot_of

    problems = [settings_problem] if settings_problem else []
    snap = None
    from metrics_core.api import KPI

    try:
        snap = snapshot_of(KPI.from_path(find_definitions(definitions)))
    except KpiUserError as e:
        problems.append(str(e))
    for team, path in (teams or {}).items():
        if not path.is_file():
            continue  # the settings' own problem says so
        try:
            snapshot_of(KPI.from_path(path)).kpi.close()
        except KpiUserError as e:
            problems.append(_("workspace {team} ({path}):").format(team=team, path=path) + f"\n{e}")
    return problems, snap


def serve(definitions: Optional[Path] = DEFINITIONS,
          port: Optional[int] = typer.Option(None, "--port", help=_h("listen on 127.0.0.1:PORT (default $KPI_PORT or 8080)")),
          host: Optional[str] = typer.Option(None, "--host", help=_h("interface to bind (default $KPI_HOST or 127.0.0.1)")),
          check_only: bool = typer.Option(False, "--check", help=_h("validate settings and definitions, then exit"))) -> None:
    """Run the Slack app (when configured), every schedule and the JSON API in one process."""
    def body() -> None:
        import logging

        from metrics_core import find_definitions
        from metrics_core.errors import ConfigError

        _export_dotenv()
        settings, settings_problem = None, None
        try:
            settings = _settings(kpi_host=host, kpi_port=port)
        except ConfigError as e:
            settings_problem = str(e)
        defs = definitions or (settings.kpi_definitions if settings else None)
        problems, snap = check(settings_problem, defs, settings.team_definitions() if settings else None)
        if problems:
            raise ConfigError(_("kpi serve cannot start:") + "\n" + "\n".join(problems))
        assert settings is not None and snap is not None
        if check_only:
            teams = settings.team_definitions()
            n = len(snap.kpi.metrics())
            typer.echo(_("ok: {metrics}; Slack: {mode}; API on {host}:{port}").format(
                metrics=ngettext("{count} metric", "{count} metrics", n).format(count=n), mode=settings.slack_mode,
                host=settings.kpi_host, port=settings.kpi_port)
                + ("; " + _("own definitions for {teams}").format(teams=", ".join(sorted(teams))) if teams else ""))
            if settings.slack_mode == "oauth":
                typer.echo(_schedules_line(settings, snap))
            return
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("watchfiles").setLevel(logging.WARNING)  # "1 change detected" on every edit
        from .runner import Service

        Service(settings, find_definitions(defs)).run()
    guarded(body)


def _schedules_line(settings: object, snap: object) -> str:
    """Which installed workspaces get digests and alerts, from which definitions (multi-workspace)."""
    from ..provider import KpiProvider
    from ..teams import TeamProviders
    from .workspaces import describe, installed_in

    teams = TeamProviders(KpiProvider.static(snap.kpi),  # type: ignore[attr-defined]
                          {t: KpiProvider.from_path(p) for t, p in settings.team_definitions().items()})  # type: ignore[attr-defined]
    try:
        return describe(installed_in(settings), teams)
    finally:
        for own in teams.by_team.values():
            own.current().kpi.close()


def create_key(scope: List[str] = typer.Option(..., "--scope", help=_h("query and/or sync (repeat for both)")),
               metrics: Optional[str] = typer.Option(None, "--metrics", help=_h("comma-separated: only these metrics")),
               name: str = typer.Option("", "--name", help=_h("a name to recognise it by (and to list in slack.access keys:)"))) -> None:
    """Create an API key; it is printed once, alone on the last line."""
    def body() -> None:
        from .keys import KeyStore

        settings = _settings()
        only = tuple(m.strip() for m in metrics.split(",") if m.strip()) if metrics else None
        store = KeyStore(settings.state_db)
        key, token = store.create(scopes=set(scope), metrics=only, name=name)
        store.close()
        scopes = ", ".join(sorted(key.scopes))
        text = (_("created key {name} (id {id}), scopes {scopes}, metrics {metrics}; it is shown only now:") if only
                else _("created key {name} (id {id}), scopes {scopes}; it is shown only now:"))
        typer.echo(text.format(name=key.name, id=key.id, scopes=scopes, metrics=", ".join(only or ())), err=False)
        typer.echo(token)
    guarded(body)


def list_keys() -> None:
    """The keys: id, name, scopes, metrics, created, revoked."""
    def body() -> None:
        from .keys import KeyStore

        store = KeyStore(_settings().state_db)
        rows = store.list()
        store.close()
        if not rows:
            typer.echo(_("no API keys (create one with `kpi api keys create --scope query`)"))
        for k in rows:
            typer.echo(f"{k.id}  {k.name:<20} {','.join(sorted(k.scopes)):<11} "
                       f"{','.join(k.metrics) if k.metrics else '*':<24} {k.created_at}"
                       + ("  " + _("revoked {when}").format(when=k.revoked_at) if k.revoked_at else ""))
    guarded(body)


def revoke_key(key: str = typer.Argument(..., help=_h("the key's id or name"))) -> None:
    """Revoke a key (effective on its next request)."""
    def body() -> None:
        from metrics_core.errors import ConfigError

        from .keys import KeyStore

        store = KeyStore(_settings().state_db)
        done = store.revoke(key)
        store.close()
        if not done:
            raise ConfigError(_("no live API key '{key}' (see `kpi api keys list`)").format(key=key))
        typer.echo(_("revoked {key}").format(key=key))
    guarded(body)


def register(app: typer.Typer) -> None:
    app.command("serve", help=_h("Run the Slack app (when configured), every schedule and the JSON API in one process."))(serve)
    api = typer.Typer(help=_h("The JSON API of `kpi serve`."), no_args_is_help=True)
    keys = typer.Typer(help=_h("API keys: create, list, revoke."), no_args_is_help=True)
    keys.command("create", help=_h("Create an API key; it is printed once, alone on the last line."))(create_key)
    keys.command("list", help=_h("The keys: id, name, scopes, metrics, created, revoked."))(list_keys)
    keys.command("revoke", help=_h("Revoke a key (effective on its next request)."))(revoke_key)
    api.add_typer(keys, name="keys")
    app.add_typer(api, name="api")

"""``kpi slack serve|manifest`` and ``kpi ask``, plugged into the core's CLI (entry point ``kpi.cli``).

    kpi ask "cac last-quarter"            # what the bot would answer, as terminal text
    kpi ask "win_rate ytd by region" --blocks --as-of 2026-11-27   # the exact Block Kit JSON
    kpi slack manifest                    # app manifest (Socket Mode) with every command
    kpi slack manifest --http https://kpi.example.com/slack/events
    kpi slack serve                       # Socket Mode with SLACK_APP_TOKEN, else HTTP on :3000

Errors go through the core CLI's ``guarded``: a user error is one clean line and exit 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from metrics_core.cli import guarded, open_kpi, parse_as_of, skip_rollups
from metrics_core.i18n import gettext as _, help_gettext as _h

DEFINITIONS = typer.Option(None, "--definitions", "-d",
                           help=_h("definitions.yaml (default: $KPI_DEFINITIONS, then ./definitions.yaml)"))


def _snapshot(definitions: Optional[Path]):  # type: ignore[no-untyped-def]
    from .provider import snapshot_of

    return snapshot_of(open_kpi(definitions))


def ask(words: List[str] = typer.Argument(..., metavar="question", help=_h('What you would type after /kpi, e.g. "cac last-quarter" (quotes optional)')),
        blocks: bool = typer.Option(False, "--blocks", help=_h("print the Block Kit JSON the bot would send")),
        as_of: Optional[str] = typer.Option(None, "--as-of", help=_h("answer as of this day (YYYY-MM-DD)")),
        channel: Optional[str] = typer.Option(None, "--channel", help=_h("apply slack.access as if asked in this channel")),
        user: Optional[str] = typer.Option(None, "--user", help=_h("apply slack.access as if asked by this user id")),
        no_rollups: bool = typer.Option(False, "--no-rollups", help=_h("answer from the raw tables, never from rollups")),
        definitions: Optional[Path] = DEFINITIONS) -> None:
    """Render exactly what the Slack bot would answer, with no Slack at all."""
    question = " ".join(words)

    def body() -> None:
        if no_rollups:
            skip_rollups()
        from .access import Asker  # here, not at import: every `kpi` command loads this module
        from .answer import answer_command

        asker = Asker(user_id=user or "", channel_id=channel or "", channel_name=channel or "",
                      trusted=channel is None and user is None)
        reply = answer_command(_snapshot(definitions), question, asker, as_of=parse_as_of(as_of))
        if blocks:
            typer.echo(json.dumps(reply.message(), indent=2, ensure_ascii=False))
        else:
            from .terminal import blocks_to_text

            typer.echo(blocks_to_text(reply.blocks))
        if not reply.ok:
            raise typer.Exit(1)
    guarded(body)


def manifest(http: Optional[str] = typer.Option(None, "--http", metavar="URL",
                                                 help=_h("HTTP mode: the public URL of /slack/events")),
             socket: bool = typer.Option(False, "--socket", help=_h("Socket Mode (the default)")),
             definitions: Optional[Path] = DEFINITIONS) -> None:
    """Print a Slack app manifest (JSON) with every command and the scopes the bot needs."""
    def body() -> None:
        from metrics_core.errors import KpiUserError

        from .manifest import build_manifest

        if socket and http:
            raise KpiUserError(_("choose one of --socket and --http URL"))
        typer.echo(json.dumps(build_manifest(_snapshot(definitions), url=http), indent=2))
    guarded(body)


def serve(definitions: Optional[Path] = DEFINITIONS,
          port: Optional[int] = typer.Option(None, "--port", help=_h("HTTP port (default $KPI_BOT_PORT or 3000)"))) -> None:
    """Run the bot: Socket Mode when SLACK_APP_TOKEN is set, else HTTP at /slack/events."""
    def body() -> None:
        import logging

        from metrics_core import find_definitions

        from .logs import configure_logging
        from .serve import serve as run

        configure_logging(logging.INFO)  # request bodies never reach the log
        run(find_definitions(definitions), port=port)
    guarded(body)


def register(app: typer.Typer) -> None:
    slack = typer.Typer(help=_h("The Slack bot: serve it, or print its app manifest."), no_args_is_help=True)
    slack.command("serve", help=_h("Run the bot: Socket Mode when SLACK_APP_TOKEN is set, else HTTP at /slack/events."))(serve)
    slack.command("manifest", help=_h("Print a Slack app manifest (JSON) with every command and the scopes the bot needs."))(manifest)
    app.add_typer(slack, name="slack")
    app.command("ask", help=_h("Render exactly what the Slack bot would answer, with no Slack at all."))(ask)
    from .service.cli import register as register_service  # light: imports only typer and the core's cli

    register_service(app)

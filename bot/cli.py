"""``kpi slack serve|manifest`` and ``kpi ask``, plugged into the core's CLI (entry point ``kpi.cli``).

    kpi ask "cac last-quarter"            # what the bot would answer, as terminal text
    kpi ask "win_rate ytd by region" --blocks --as-of 2026-11-27   # the exact Block Kit JSON
    kpi slack manifest --socket           # app manifest with every command
    kpi slack serve                       # Socket Mode with SLACK_APP_TOKEN, else HTTP on :3000
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Optional

import typer

from metrics_core.errors import KpiUserError

from .access import Asker
from .answer import answer_command

DEFINITIONS = typer.Option(None, "--definitions", "-d", help="definitions.yaml (default: the core's lookup)")


def _snapshot(definitions: Optional[Path]):  # type: ignore[no-untyped-def]
    from metrics_core.api import KPI

    from .provider import snapshot_of

    return snapshot_of(KPI.from_path(definitions))


def ask(question: str = typer.Argument(..., help='What you would type after /kpi, e.g. "cac last-quarter"'),
        blocks: bool = typer.Option(False, "--blocks", help="print the Block Kit JSON the bot would send"),
        as_of: Optional[str] = typer.Option(None, "--as-of", help="answer as of this day (YYYY-MM-DD)"),
        definitions: Optional[Path] = DEFINITIONS) -> None:
    """Render exactly what the Slack bot would answer, with no Slack at all."""
    day = date.fromisoformat(as_of) if as_of else None
    reply = answer_command(_snapshot(definitions), question, Asker(user_id="cli"), as_of=day)
    if blocks:
        typer.echo(json.dumps(reply.message(), indent=2, ensure_ascii=False))
    else:
        from .terminal import blocks_to_text

        typer.echo(blocks_to_text(reply.blocks))
    if not reply.ok:
        raise typer.Exit(1)


def manifest(socket: bool = typer.Option(True, "--socket/--no-socket", help="Socket Mode (default)"),
             http: Optional[str] = typer.Option(None, "--http", help="HTTP mode: the public URL of /slack/events"),
             definitions: Optional[Path] = DEFINITIONS) -> None:
    """Print a Slack app manifest (JSON) with every command and the scopes the bot needs."""
    from .manifest import build_manifest

    typer.echo(json.dumps(build_manifest(_snapshot(definitions), url=http), indent=2))


def serve(definitions: Optional[Path] = DEFINITIONS,
          port: Optional[int] = typer.Option(None, "--port", help="HTTP port (default KPI_BOT_PORT or 3000)")) -> None:
    """Run the bot: Socket Mode when SLACK_APP_TOKEN is set, else HTTP at /slack/events."""
    import logging

    from .serve import serve as run

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if definitions is None:
        raise KpiUserError("kpi slack serve needs --definitions PATH (the file it watches and reloads)")
    run(definitions, port=port)


def register(app: typer.Typer) -> None:
    slack = typer.Typer(help="The Slack bot: serve it, or print its app manifest.", no_args_is_help=True)
    slack.command("serve")(serve)
    slack.command("manifest")(manifest)
    app.add_typer(slack, name="slack")
    app.command("ask")(ask)

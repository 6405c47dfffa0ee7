"""`kpi --help` in the environment's language: every help text of every command comes from the catalog.

Typer reads help texts when the app is built, before any definitions are read, so they are worded
in KPI_LOCALE / LC_ALL / LC_MESSAGES / LANG (``i18n.help_gettext``, marked ``_h`` for ``make i18n``).
Click's own frame words ("Usage", "Options", "Show this message and exit.") stay Click's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import typer
from babel.messages.pofile import read_po

from metrics_core import i18n

REPO = Path(__file__).resolve().parent.parent


def full_app() -> click.Command:
    """The `kpi` command tree with the bot's and the Sheets' commands, as the entry point builds it."""
    import bot.cli
    import sheets.cli
    from metrics_core.cli import app

    plugins = typer.Typer()
    bot.cli.register(plugins)
    sheets.cli.register(plugins)
    return click.CommandCollection(sources=[typer.main.get_command(app), typer.main.get_command(plugins)])


def help_texts(cmd: click.Command, path: str = "kpi") -> dict[str, str]:
    """'kpi query --json' -> its help text, for every command, group, option and argument."""
    found = {path: cmd.help} if cmd.help else {}
    for p in cmd.params:
        text = getattr(p, "help", None)
        if text and p.name != "help":
            found[f"{path} {p.opts[0]}"] = text
    if hasattr(cmd, "list_commands"):  # a group
        ctx = click.Context(cmd)
        for name in cmd.list_commands(ctx):
            found |= help_texts(cmd.get_command(ctx, name), f"{path} {name}")
    return found


def test_every_help_text_is_in_the_catalog() -> None:
    with (i18n.LOCALE_DIR / "pl" / "LC_MESSAGES" / "kpi.po").open("rb") as f:
        translated = {m.id: m.string for m in read_po(f, locale="pl", domain="kpi") if m.id and m.string}
    texts = help_texts(full_app())
    assert len(texts) > 45 and {"kpi query", "kpi sheets sync", "kpi slack serve", "kpi api keys create"} <= set(texts)
    missing = {where: text for where, text in texts.items() if text.strip() not in translated}
    assert not missing, "help texts not from the catalog (wrap them in _h() and run `make i18n`):\n" + \
        "\n".join(f"{w}: {t!r}" for w, t in sorted(missing.items()))


def _help(*args: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("KPI_LOCALE", "LC_ALL", "LC_MESSAGES", "LANG")}
    result = subprocess.run([sys.executable, "-c", "from metrics_core.cli import main; main()", *args, "--help"], capture_output=True,
                            text=True, env={**clean, "COLUMNS": "200", **env}, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_help_speaks_polish_when_the_environment_does() -> None:
    polish = _help("query", KPI_LOCALE="pl_PL")
    assert "Odpowiedz na jedno pytanie" in polish and "Wypisz jeden obiekt JSON." in polish
    assert "Answer one question" not in polish
    assert "Klucze API" in _help("api", LANG="pl_PL.UTF-8")  # a plugin's group, from LANG
    english = _help("query", LANG="C.UTF-8")
    assert "Answer one question" in english and "Print one JSON object." in english

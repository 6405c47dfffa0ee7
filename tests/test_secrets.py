"""A password planted in the connection never shows: CLI output (answer, --sql, --json, explain,
validate, -v traces), error messages, log lines and Slack replies, on DuckDB-only paths, failed
PostgreSQL connections and a real PostgreSQL server (issue 12: it leaked in 32 of 118 tries).

Each case plants its own password, so one case cannot pass because an earlier one marked it secret.
"""

from __future__ import annotations

import io
import logging
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from metrics_core.cli import app
from metrics_core.errors import ConfigError, RedactSecrets, redact

REPO = Path(__file__).resolve().parent.parent
QUESTION = "win_rate last-quarter"

# (case, URL with {pw} where the password goes, password): each once leaked or might have
URLS = [
    ("userinfo", "postgresql://kpi:{pw}@127.0.0.1:9/crm", "Pl4ntedUserinfo"),
    ("slash_hash_question", "postgresql://kpi:{pw}@127.0.0.1:9/crm", "Pl4/nted#Sl?ash"),
    ("at_sign", "postgresql://kpi:{pw}@127.0.0.1:9/crm", "Pl4nted@AtSign"),
    ("query_string", "postgresql://127.0.0.1:9/crm?user=kpi&password={pw}", "Pl4ntedQuery"),
    ("mistyped_scheme", "postgress://kpi:{pw}@127.0.0.1:9/crm", "Pl4ntedScheme"),  # unknown engine printed the URL
    ("bad_percent_escape", "postgresql://kpi:{pw}@127.0.0.1:9/crm", "Pl4nted%zzEscape"),
    ("encoded", "postgresql://kpi:{pw}@127.0.0.1:9/crm", "Pl4nted%40Encoded"),
]


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(REPO / "definitions.yaml", tmp_path / "definitions.yaml")
    monkeypatch.delenv("KPI_DEFINITIONS", raising=False)
    return tmp_path / "definitions.yaml"


def every_output(definitions: Path) -> list[tuple[list[str], str]]:
    """(command, everything it printed) for each command that touches the connection."""
    runs = [["query", QUESTION], ["query", QUESTION, "--sql"], ["query", QUESTION, "--json", "--sql"],
            ["-v", "query", QUESTION], ["explain", "win_rate"], ["-v", "explain", "win_rate"],
            ["validate", "--check-data"], ["-v", "doctor"]]
    out = []
    for args in runs:
        where = args.index("query") if "query" in args else len(args)
        result = CliRunner().invoke(app, [*args[:where + 2], "-d", str(definitions), *args[where + 2:]]
                                    if "query" in args else [*args, "-d", str(definitions)])
        out.append((args, result.output + (result.stderr if result.stderr_bytes is not None else "")
                    + (repr(result.exception) if result.exception and not isinstance(result.exception, SystemExit) else "")))
    return out


def assert_never_shown(password: str, outputs: list[tuple[list[str], str]]) -> None:
    from urllib.parse import quote, unquote

    for args, text in outputs:
        for form in {password, quote(password, safe=""), unquote(password)}:
            assert form not in text, f"kpi {' '.join(args)} showed the password {form!r}:\n{text}"


@pytest.mark.parametrize("case, url, password", URLS, ids=[c for c, _, _ in URLS])
def test_a_password_in_the_url_is_never_shown(folder: Path, monkeypatch: pytest.MonkeyPatch,
                                              case: str, url: str, password: str) -> None:
    monkeypatch.setenv("KPI_CONNECTION", url.format(pw=password))
    outputs = every_output(folder)
    assert any("***" in text for _, text in outputs), "the URL should appear, redacted, in some message"
    assert_never_shown(password, outputs)


def test_a_secret_env_var_is_never_shown_even_outside_a_url(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """${VAR} values whose name says secret are marked, wherever they end up (here: a table's SQL)."""
    text = folder.read_text().replace("${KPI_CONNECTION:-duckdb:///.kpi/kpi.duckdb}",
                                      "postgresql://kpi@127.0.0.1:9/crm?sslmode=${KPI_TEST_DB_PASSWORD}")
    folder.write_text(text)
    monkeypatch.setenv("KPI_TEST_DB_PASSWORD", "Pl4ntedEnvValue")
    assert_never_shown("Pl4ntedEnvValue", every_output(folder))


@pytest.mark.postgres
def test_a_real_postgres_connection_never_shows_its_password(folder: Path, monkeypatch: pytest.MonkeyPatch,
                                                             postgres_url: str) -> None:
    """The test server trusts every login, so the planted password connects; the tables are missing,
    so every command fails after connecting, with the URL in its message."""
    password = "Pl4nted/Real#Pg?"
    from urllib.parse import quote

    monkeypatch.setenv("KPI_CONNECTION", postgres_url.replace("://kpi@", f"://kpi:{quote(password, safe='')}@", 1))
    assert "Pl4nted" in __import__("os").environ["KPI_CONNECTION"]
    assert_never_shown(password, every_output(folder))


def test_log_records_and_tracebacks_are_redacted() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets())
    log = logging.getLogger("kpi.test.secrets")
    log.addHandler(handler)
    try:
        log.error("cannot reach %s", "postgresql://kpi:Pl4ntedLog@db/crm")
        try:
            raise RuntimeError("driver said: password=Pl4ntedTrace rejected")
        except RuntimeError:
            log.exception("internal error (ref abc123)")
    finally:
        log.removeHandler(handler)
    text = stream.getvalue()
    assert "Pl4ntedLog" not in text and "Pl4ntedTrace" not in text
    assert "postgresql://kpi:***@db/crm" in text and "password=***" in text


def test_the_slack_reply_for_an_error_never_shows_the_password() -> None:
    from bot.answer import guarded

    def fails():
        raise ConfigError("connection 'postgresql://kpi:Pl4nted/Slack@db/crm': cannot connect")

    reply = guarded(fails)
    shown = reply.text + repr(reply.blocks)
    assert "Pl4nted" not in shown and "***" in shown


@pytest.mark.parametrize("text, expected", [
    ("postgress://kpi:pa/ss#1@db/crm x", "postgress://kpi:***@db/crm x"),
    ("postgresql://db/crm?user=kpi&password=hunter2&x=1", "postgresql://db/crm?user=kpi&password=***&x=1"),
    ("host=db password='a b' user=x", "host=db password=*** user=x"),
    ("spark://local[2]", "spark://local[2]"),
    ("snowflake://user@account/db", "snowflake://user@account/db"),
    ("duckdb:////var/lib/kpi.duckdb", "duckdb:////var/lib/kpi.duckdb"),
])
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected

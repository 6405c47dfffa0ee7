"""`kpi serve --check`, the settings model, and API keys: `kpi api keys create|list|revoke` as a user runs
them, and the key store (scrypt hashes, never the key; random tokens never pass)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from bot.service.keys import KeyStore
from bot.service.limits import RateLimiter
from metrics_core.errors import ConfigError
from serve_support import KPI, create_key, service_definitions


def run_kpi(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GOOGLE_", "KPI_"))}
    return subprocess.run([KPI, *args], env={**clean, **env}, cwd=cwd, capture_output=True, text=True, timeout=60)


def test_check_lists_every_problem_at_once(demo_dir: Path, tmp_path: Path) -> None:
    defs = service_definitions(demo_dir, tmp_path)
    bad = run_kpi(tmp_path, {"KPI_PORT": "eighty", "KPI_API_RATE_LIMIT": "0"}, "serve", "--check", "-d", "missing.yaml")
    assert bad.returncode == 1
    err = bad.stdout + bad.stderr
    assert "KPI_PORT" in err and "KPI_API_RATE_LIMIT" in err and "missing.yaml" in err and "Traceback" not in err
    slack = run_kpi(tmp_path, {"SLACK_BOT_TOKEN": "xoxp-user", "SLACK_APP_TOKEN": "nope"}, "serve", "--check", "-d", str(defs))
    assert slack.returncode == 1
    assert "starting with xoxb-" in slack.stdout + slack.stderr and "starting with xapp-" in slack.stdout + slack.stderr
    ok = run_kpi(tmp_path, {}, "serve", "--check", "-d", str(defs))
    assert ok.returncode == 0, ok.stderr
    assert "Slack: off" in ok.stdout and "127.0.0.1:8080" in ok.stdout


def test_settings_read_a_dotenv_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.service.settings import ServeSettings

    for var in ("KPI_PORT", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET",
                "GOOGLE_APPLICATION_CREDENTIALS"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / ".env").write_text("KPI_PORT=9123\nSLACK_BOT_TOKEN=xoxb-1\nSLACK_APP_TOKEN=xapp-1\n")
    s = ServeSettings.load(env_file=tmp_path / ".env")
    assert s.kpi_port == 9123 and s.slack_mode == "socket"
    (tmp_path / ".env").write_text("KPI_PORT=9124\nGOOGLE_APPLICATION_CREDENTIALS=\nSLACK_APP_TOKEN=\n")  # empty: unset
    s = ServeSettings.load(env_file=tmp_path / ".env")
    assert s.kpi_port == 9124 and s.google_application_credentials is None and s.slack_mode == "off"
    (tmp_path / ".env").write_text("SLACK_SIGNING_SECRET=s\n")
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN is not set, but other SLACK_ settings are"):
        ServeSettings.load(env_file=tmp_path / ".env")


def test_keys_cli_prints_the_key_once_on_the_last_line(demo_dir: Path, tmp_path: Path) -> None:
    defs = service_definitions(demo_dir, tmp_path)
    env = {"KPI_STATE_DIR": str(tmp_path / "state")}
    token = create_key(defs, env, "--scope", "query", "--metrics", "win_rate,cac", "--name", "finance-sheet")
    assert token.startswith("kpi_") and " " not in token
    listed = run_kpi(tmp_path, env, "api", "keys", "list")
    assert listed.returncode == 0 and "finance-sheet" in listed.stdout and "win_rate,cac" in listed.stdout
    assert token.split("_", 2)[2] not in listed.stdout  # the secret is never shown again
    store = KeyStore(tmp_path / "state" / "bot.sqlite3")
    assert store.verify(token).metrics == ("win_rate", "cac")
    assert run_kpi(tmp_path, env, "api", "keys", "revoke", "finance-sheet").returncode == 0
    assert store.verify(token) is None
    again = run_kpi(tmp_path, env, "api", "keys", "revoke", "finance-sheet")
    assert again.returncode == 1 and "no live API key 'finance-sheet'" in again.stdout + again.stderr
    bad = run_kpi(tmp_path, env, "api", "keys", "create", "--scope", "admin")
    assert bad.returncode == 1 and "unknown scope admin" in bad.stdout + bad.stderr


def test_only_a_hash_is_stored(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "s.sqlite3")
    key, token = store.create(scopes={"sync"}, name="x")
    secret = token.split("_", 2)[2]
    dump = "\n".join(sqlite3.connect(tmp_path / "s.sqlite3").iterdump())
    assert secret not in dump and key.id in dump
    assert store.verify(token) == key and store.verify(token.replace(secret, secret[::-1])) is None


_store = None


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=80) | st.from_regex(r"kpi_[0-9a-f]{8}_[A-Za-z0-9_\-]{0,40}", fullmatch=True))
def test_random_tokens_never_pass(token: str) -> None:
    global _store
    if _store is None:
        _store = KeyStore(":memory:")
        _store.create(scopes={"query"}, name="real")
    assert _store.verify(token) is None


def test_rate_limiter_refills_over_time() -> None:
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])  # one a second, bursts of 60
    assert all(limiter.take("k") == 0 for _ in range(60))
    assert limiter.take("k") == pytest.approx(1.0)
    now[0] += 1.0
    assert limiter.take("k") == 0 and limiter.take("other") == 0

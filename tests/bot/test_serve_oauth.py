"""Multi-workspace install over Slack OAuth under ``kpi serve``: two workspaces installed through the real
redirect flow (bolt's OAuthFlow, its state cookie, ``oauth.v2.access`` on the loopback Slack fake), then
each one's commands answered with its own bot token and its own definitions file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest

from bot.service.runner import Service
from bot.service.settings import ServeSettings
from metrics_core.errors import ConfigError
from serve_support import Running, run_service, service_definitions
from slack_requests import SECRET, command_body, post, signed_headers

CLIENT = ("111.222", "client-secret")


@pytest.fixture
def service(slack: Any, demo_dir: Path, tmp_path: Path) -> Iterator[Running]:
    shared = service_definitions(demo_dir, tmp_path)
    globex = tmp_path / "globex.yaml"  # the second workspace's own file: its own label for win_rate
    text = shared.read_text(encoding="utf-8")
    assert "label: Win rate\n" in text
    globex.write_text(text.replace("label: Win rate\n", "label: Globex win rate\n"), encoding="utf-8")
    slack.oauth_app(*CLIENT)
    settings = ServeSettings.load(env_file=None, kpi_state_dir=tmp_path / ".kpi", slack_client_id=CLIENT[0],
                                  slack_client_secret=CLIENT[1], slack_signing_secret=SECRET,
                                  slack_api_url=slack.api_url, kpi_team_definitions=f"T0GLOBEX={globex}")
    assert settings.slack_mode == "oauth"
    yield from run_service(Service(settings, shared))


def install(url: str, slack: Any, team: str) -> httpx.Response:
    """What a browser does: open /slack/install (state cookie), approve at Slack, follow the redirect.

    The cookie is ``Secure`` (kpi sits behind https in production): a browser sends it back over https
    only, so over this loopback http the test hands it back itself, as that browser would."""
    with httpx.Client(base_url=url, timeout=30) as browser:
        page = browser.get("/slack/install")
        cookie = page.headers["set-cookie"]
        assert page.status_code == 200 and cookie.startswith("slack-app-oauth-state=")
        assert "Secure" in cookie and "HttpOnly" in cookie
        browser.cookies.set("slack-app-oauth-state", cookie.split(";")[0].split("=", 1)[1])
        authorize = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page.text)
        assert authorize, page.text[:500]
        query = parse_qs(urlparse(authorize.group(1).replace("&amp;", "&")).query)
        assert query["client_id"] == [CLIENT[0]] and "commands" in query["scope"][0]
        return browser.get("/slack/oauth_redirect?" + urlencode({"code": slack.install_code(team),
                                                                  "state": query["state"][0]}))


def ask(url: str, team: str, text: str = "win_rate last-quarter", response_url: str = "http://127.0.0.1:9/none"
        ) -> tuple[int, Any]:
    body = command_body(text, response_url=response_url).replace(b"team_id=T0001", f"team_id={team}".encode())
    status, ack, _ = post(url + "/slack/events", body, signed_headers(body))
    return status, ack


def test_two_workspaces_each_with_its_own_token_and_definitions(service: Running, slack: Any) -> None:
    for team in ("T0ACME", "T0GLOBEX"):
        done = install(service.url, slack, team)
        assert done.status_code == 200, done.text[:500]
    exchanges = slack.calls_to("oauth.v2.access")
    assert len(exchanges) == 2 and all(c.headers["authorization"].startswith("Basic ") for c in exchanges)

    status, acme = ask(service.url, "T0ACME")
    assert status == 200 and acme["blocks"][0]["text"]["text"].startswith("Win rate: ")
    status, globex = ask(service.url, "T0GLOBEX")
    assert status == 200 and globex["blocks"][0]["text"]["text"].startswith("Globex win rate: ")
    assert acme["blocks"][0]["text"]["text"].split(": ")[1] == globex["blocks"][0]["text"]["text"].split(": ")[1]

    tokens = {team: tok for tok, team in slack.bot_tokens.items()}
    checked = {c.headers["authorization"] for c in slack.calls_to("auth.test")}
    assert {f"Bearer {tokens['T0ACME']}", f"Bearer {tokens['T0GLOBEX']}"} <= checked

    home = json.dumps({"token": "legacy", "team_id": "T0GLOBEX", "api_app_id": "A0KPI", "type": "event_callback",
                       "event_id": "EvG1", "event_time": 1,
                       "event": {"type": "app_home_opened", "user": "U0G", "tab": "home"}}).encode()
    assert post(service.url + "/slack/events", home, signed_headers(home, ctype="application/json"))[0] == 200
    (published,) = slack.wait_for("views.publish")
    assert published.headers["authorization"] == f"Bearer {tokens['T0GLOBEX']}"  # that workspace's own token


def test_a_workspace_that_never_installed_is_not_answered(service: Running, slack: Any) -> None:
    status, ack = ask(service.url, "T0STRANGER", response_url=slack.response_url())
    assert status == 200 and "win rate" not in json.dumps(ack).lower()
    (told,) = slack.wait_for("response_url")  # bolt's own word to the user: install the app first
    assert "install" in told.params["text"].lower() and "win rate" not in told.params["text"].lower()
    assert slack.calls_to("auth.test") == []  # nothing to authorize with: no token was ever issued


def test_a_redirect_without_the_state_cookie_installs_nothing(service: Running, slack: Any) -> None:
    with httpx.Client(base_url=service.url, timeout=30) as stranger:
        r = stranger.get("/slack/oauth_redirect?" + urlencode({"code": slack.install_code("T0EVIL"), "state": "forged"}))
    assert r.status_code in (400, 401) and slack.calls_to("oauth.v2.access") == []
    status, ack = ask(service.url, "T0EVIL", response_url=slack.response_url())
    assert "win rate" not in json.dumps(ack).lower() and "install" in slack.wait_for("response_url")[0].params["text"]


def test_team_definitions_are_checked_at_start(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text("x")
    with pytest.raises(ConfigError) as e:
        ServeSettings.load(env_file=None, kpi_team_definitions=f"T0OK={tmp_path / 'ok.yaml'}, t-bad=x.yaml, "
                                                               f"T0GONE={tmp_path / 'gone.yaml'}, nonsense")
    lines = str(e.value).splitlines()
    assert any("multi-workspace install" in line for line in lines)
    assert any("'t-bad' is not a Slack workspace id" in line for line in lines)
    assert any("no such file" in line and "T0GONE" in line for line in lines)
    assert any("'nonsense' is not TEAM_ID=path" in line for line in lines)


def test_check_loads_every_workspace_definitions(demo_dir: Path, tmp_path: Path) -> None:
    """`kpi serve --check` looks at each workspace's own file too, and names the workspace."""
    from test_serve_settings_keys import run_kpi

    shared = service_definitions(demo_dir, tmp_path)
    (tmp_path / "broken.yaml").write_text(shared.read_text(encoding="utf-8").replace("\nmeasures:", "\nmeasurez:", 1))
    env = {"SLACK_CLIENT_ID": CLIENT[0], "SLACK_CLIENT_SECRET": CLIENT[1], "SLACK_SIGNING_SECRET": SECRET,
           "KPI_TEAM_DEFINITIONS": f"T0ACME={shared},T0BROKEN={tmp_path / 'broken.yaml'}"}
    bad = run_kpi(tmp_path, env, "serve", "--check", "-d", str(shared))
    assert bad.returncode == 1 and "workspace T0BROKEN" in bad.stderr + bad.stdout and "measurez" in bad.stderr + bad.stdout
    assert "Traceback" not in bad.stderr + bad.stdout
    env["KPI_TEAM_DEFINITIONS"] = f"T0ACME={shared}"
    ok = run_kpi(tmp_path, env, "serve", "--check", "-d", str(shared))
    assert ok.returncode == 0 and "Slack: oauth" in ok.stdout and "own definitions for T0ACME" in ok.stdout, ok.stderr

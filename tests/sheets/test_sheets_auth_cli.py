"""Credentials files and the schedule: the failures a user meets first, each in one clear line."""

from __future__ import annotations

import json

import pytest

from metrics_core.errors import ConfigError
from sheets import cli
from sheets.auth import credentials_path, load_service_account


def test_no_credentials_says_how_to_get_them(monkeypatch):
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    with pytest.raises(ConfigError, match="set GOOGLE_APPLICATION_CREDENTIALS .* or sheets.credentials"):
        credentials_path(None)


def test_setting_is_relative_to_the_definitions(tmp_path, monkeypatch):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/elsewhere.json")
    assert credentials_path("keys/sa.json", tmp_path) == tmp_path / "keys" / "sa.json"
    assert str(credentials_path(None)) == "/elsewhere.json"


@pytest.mark.parametrize("content,message", [
    (None, "credentials file not found"),
    ("{not json", "is not a JSON key file"),
    (json.dumps({"type": "authorized_user"}), "is not a service-account key .type: 'authorized_user'"),
    (json.dumps({"type": "service_account", "client_email": "a@b"}), "lacks private_key, token_uri"),
])
def test_bad_credentials_files(tmp_path, content, message):
    path = tmp_path / "sa.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_service_account(path)


def test_unreadable_private_key(fake):
    from sheets.auth import open_client

    info = dict(fake.service_account(), private_key="-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ConfigError, match="key of kpi-sync@.* is unreadable"):
        open_client(info)


def test_every_runs_now_and_then_on_the_interval(monkeypatch):
    seen = {}

    class Scheduler:
        def add_job(self, func, trigger, **kw):
            seen.update(func=func, trigger=trigger, **kw)

        def start(self):
            seen["func"]()
            raise KeyboardInterrupt

        def shutdown(self, wait=True):
            seen["stopped"] = True

    monkeypatch.setattr("apscheduler.schedulers.blocking.BlockingScheduler", Scheduler)
    runs = []

    def job():
        runs.append(1)
        raise ConfigError("not shared")  # printed; the schedule goes on

    cli.repeat(job, every="2h", cron=None)
    assert runs == [1] and seen["stopped"] and seen["trigger"].interval.total_seconds() == 7200
    assert seen["max_instances"] == 1 and seen["next_run_time"] is not None


def test_cron_setting(monkeypatch):
    seen = {}

    class Scheduler:
        def add_job(self, func, trigger, **kw):
            seen["trigger"] = trigger

        def start(self):
            raise KeyboardInterrupt

        def shutdown(self, wait=True):
            pass

    monkeypatch.setattr("apscheduler.schedulers.blocking.BlockingScheduler", Scheduler)
    cli.repeat(lambda: None, every=None, cron="0 7 * * 1-5")
    assert "hour='7'" in str(seen["trigger"])


@pytest.mark.parametrize("flag,every,cron,dry,expected", [
    (None, None, None, False, (None, None)),
    ("30m", "1h", None, False, ("30m", None)),
    (None, "1h", "0 7 * * *", False, ("1h", None)),
    (None, None, "0 7 * * *", False, (None, "0 7 * * *")),
    ("once", "1h", None, False, (None, None)),
    ("1h", None, None, True, (None, None)),
])
def test_schedule_choice(flag, every, cron, dry, expected):
    assert cli._schedule(flag, every, cron, dry) == expected

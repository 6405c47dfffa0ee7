"""The problems of the ``kpi serve`` settings in Polish: pydantic-settings' refusals worded by kpi through
gettext (``{name}: must be ...``), the cross-setting problems and the header, all listed at once, in the
language of the command (``KPI_LOCALE``); and for any value, never pydantic's own English."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings, strategies as st

from bot.service.settings import ServeSettings
from metrics_core.errors import ConfigError
from metrics_core.i18n import command_scope
from serve_support import service_definitions
from test_serve_settings_keys import run_kpi

NBSP = "\xa0"


def test_check_lists_every_settings_problem_in_polish(demo_dir: Path, tmp_path: Path) -> None:
    defs = service_definitions(demo_dir, tmp_path)
    env = {"KPI_LOCALE": "pl_PL", "KPI_PORT": "osiemdziesiąt", "KPI_API_RATE_LIMIT": "0", "KPI_CLOCK_SPEED": "0",
           "KPI_SHUTDOWN_GRACE": "-1", "SLACK_SIGNING_SECRET": "s", "GOOGLE_APPLICATION_CREDENTIALS": "/nie/ma.json",
           "KPI_TEAM_DEFINITIONS": "zle"}
    bad = run_kpi(tmp_path, env, "serve", "--check", "-d", str(defs))
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    lines = (bad.stdout + bad.stderr).splitlines()
    assert lines[:2] == ["błąd: kpi serve nie może wystartować:", "8 problemów w ustawieniach kpi serve:"], lines
    assert lines[2:] == [
        "  KPI_PORT: musi być liczbą całkowitą, podano 'osiemdziesiąt'",
        "  KPI_API_RATE_LIMIT: musi wynosić co najmniej 1, podano '0'",
        "  KPI_SHUTDOWN_GRACE: musi wynosić co najmniej 0, podano '-1'",
        "  KPI_CLOCK_SPEED: musi być większe niż 0, podano '0'",
        "  SLACK_BOT_TOKEN nie jest ustawiony, a inne ustawienia SLACK_ są (ustaw go, aby uruchomić aplikację "
        "Slack, albo usuń je, aby uruchomić samo API i harmonogramy)",
        "  KPI_TEAM_DEFINITIONS jest ustawione, ale osobny plik definicji dla każdej przestrzeni roboczej "
        "wymaga instalacji w wielu przestrzeniach: ustaw też SLACK_CLIENT_ID i SLACK_CLIENT_SECRET albo usuń "
        "KPI_TEAM_DEFINITIONS",
        "  KPI_TEAM_DEFINITIONS: 'zle' nie ma postaci TEAM_ID=ścieżka (np. T0ACME=acme.yaml)",
        "  GOOGLE_APPLICATION_CREDENTIALS: nie ma pliku /nie/ma.json",
    ]
    port = run_kpi(tmp_path, {"KPI_LOCALE": "pl_PL", "KPI_PORT": "70000"}, "serve", "--check", "-d", str(defs))
    assert f"  KPI_PORT: musi być mniejsze niż 65{NBSP}536, podano '70000'" in port.stdout + port.stderr
    english = run_kpi(tmp_path, {"KPI_PORT": "eighty"}, "serve", "--check", "-d", str(defs))
    assert "1 problem in the kpi serve settings:\n  KPI_PORT: must be a whole number, got 'eighty'" in english.stderr


@settings(max_examples=80, deadline=None)
@given(port=st.text(max_size=12), speed=st.text(max_size=12), grace=st.text(max_size=12),
       lang=st.sampled_from(["pl_PL", "en_US"]))
def test_any_value_is_accepted_or_worded_by_kpi(port: str, speed: str, grace: str, lang: str) -> None:
    """Whatever the environment holds: settings, or one ConfigError with one worded line per problem;
    pydantic's English ("Input should ...") never reaches the user, in either language."""
    with command_scope(lang):
        try:
            ServeSettings.load(env_file=None, kpi_port=port, kpi_clock_speed=speed, kpi_shutdown_grace=grace)
        except ConfigError as e:
            head, *problems = str(e).splitlines()
            assert head.endswith(":") and problems and all(p.startswith("  ") for p in problems)
            assert "Input should" not in str(e) and "valid" not in str(e)
            if lang == "pl_PL":
                assert "problem" in head and "ustawieniach" in head and "must be" not in str(e)

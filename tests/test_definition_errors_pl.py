"""A broken definitions.yaml explained in Polish: the same cases as test_definition_errors, worded from the catalog.

Which language: the file's own ``locale:`` when it can be read; a file too broken to show one (bad
YAML) or that names none speaks the language of the moment: a reader scope, else the command's
(``KPI_LOCALE``, ``LC_ALL``/``LC_MESSAGES``/``LANG``), else English. The shape stays
``file:line: key: message (czy chodziło o …?)``. Snapshots: ``tests/snapshots/errors_pl/<case>.txt``
(refresh: KPI_UPDATE_SNAPSHOTS=1); the English ones stay in ``tests/snapshots/errors``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from metrics_core import DefinitionError, parse_definitions
from metrics_core.cli import app
from metrics_core.i18n import command_scope
from snapshot import assert_snapshot

BROKEN = Path(__file__).parent / "fixtures" / "broken"
SNAPSHOTS = Path(__file__).parent / "snapshots" / "errors_pl"
CASES = sorted(p.stem for p in BROKEN.glob("*.yaml"))
UNSET_VAR = "KPI_TEST_UNSET_PASSWORD"
BAD_MEASURE = """\
tables:
  deals: {source: crm_deals, time: closed_at, columns: {closed_at: date}}
measures:
  closed_deals: {table: deals, agg: count}
metrics:
  win_rate: {numerator: won_deal, denominator: closed_deals}
"""
LINE = re.compile(r"^  \S+\.yaml(:\d+)?:( [\w.\[\]-]+:)? \S")


@pytest.fixture(autouse=True)
def _no_leaking_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UNSET_VAR, raising=False)
    for name in ("KPI_LOCALE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)


def error_text(text: str, source: str = "definitions.yaml") -> str:
    with pytest.raises(DefinitionError) as e:
        parse_definitions(text, source=source, sections=False)
    return str(e.value)


@pytest.mark.parametrize("case", CASES)
def test_error_text_in_polish(case: str) -> None:
    """Each case as `kpi validate` shows it to someone whose environment speaks Polish."""
    with command_scope("pl_PL"):
        text = error_text((BROKEN / f"{case}.yaml").read_text(encoding="utf-8"), source=f"{case}.yaml")
    assert_snapshot(SNAPSHOTS / f"{case}.txt", text)
    head, *lines = text.splitlines()
    assert re.fullmatch(r"\d+ problem(|y|ów) w definicjach:", head), head
    assert lines and all(LINE.match(line) for line in lines), lines


def test_every_polish_snapshot_has_a_case() -> None:
    assert sorted(p.stem for p in SNAPSHOTS.glob("*.txt")) == CASES


def test_the_files_locale_chooses_the_language() -> None:
    polish = error_text("locale: {locale: pl_PL, currency: PLN}\n" + BAD_MEASURE)
    assert polish == ("1 problem w definicjach:\n  definitions.yaml:7: metrics.win_rate.numerator: nieznana miara "
                      "'won_deal' (czy chodziło o 'closed_deals'?)")
    with command_scope("pl_PL"):  # the file says English: its author reads English
        english = error_text("locale: {locale: en_US}\n" + BAD_MEASURE)
    assert english == ("1 problem in definitions:\n  definitions.yaml:7: metrics.win_rate.numerator: unknown measure "
                       "'won_deal' (did you mean 'closed_deals'?)")


def test_without_a_readable_locale_the_command_language_speaks() -> None:
    broken_yaml = "locale: {locale: pl_PL\nmetrics: [\n"  # the locale: line itself cannot be read
    assert error_text(broken_yaml).startswith("1 problem in definitions:\n  definitions.yaml:")
    with command_scope("pl_PL"):
        assert "niepoprawny YAML: " in error_text(broken_yaml)
    with command_scope("pl_PL"):  # an unknown locale: is itself an error, worded in the command's language
        assert "nieznane ustawienia regionalne 'xx_QQ'" in error_text("locale: {locale: xx_QQ}\n" + BAD_MEASURE)


def test_unset_variable_is_worded_in_the_files_language() -> None:
    """The ${VAR} issue is found while reading YAML, before locale: is known: it is worded again."""
    text = f"locale: {{locale: pl_PL}}\nconnection: postgresql://kpi:${{{UNSET_VAR}}}@db/crm\n" + BAD_MEASURE
    message = error_text(text)
    assert f"zmienna środowiskowa {UNSET_VAR} nie jest ustawiona" in message and message.startswith("2 problemy")


def test_kpi_validate_speaks_the_environment_language(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "pl_PL.UTF-8")
    result = CliRunner().invoke(app, ["validate", "--definitions", str(BROKEN / "bad_yaml.yaml")])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("błąd: 1 problem w definicjach:\n  ") and "bad_yaml.yaml:7: " in result.stderr
    assert "niepoprawny YAML" in result.stderr
    missing = CliRunner().invoke(app, ["validate", "--definitions", str(BROKEN / "no_such_file.yaml")])
    assert missing.exit_code == 1 and "brak pliku definicji" in missing.stderr

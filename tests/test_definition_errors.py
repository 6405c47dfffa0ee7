"""What a user sees for a broken definitions.yaml: the DefinitionError text, `kpi validate`, the schema.

Each ``tests/fixtures/broken/<case>.yaml`` is a small file with one situation; its full error text is
snapshotted in ``tests/snapshots/errors/<case>.txt`` (refresh: KPI_UPDATE_SNAPSHOTS=1). Read a
snapshot as a user would: file:line, the key path, what is wrong, what is allowed or meant.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from metrics_core import DefinitionError, parse_definitions
from metrics_core.cli import app
from metrics_core.yamlio import load_yaml, plain
from snapshot import assert_snapshot

REPO = Path(__file__).resolve().parent.parent
BROKEN = Path(__file__).parent / "fixtures" / "broken"
SNAPSHOTS = Path(__file__).parent / "snapshots" / "errors"
CASES = sorted(p.stem for p in BROKEN.glob("*.yaml"))
UNSET_VAR = "KPI_TEST_UNSET_PASSWORD"   # missing_env_var.yaml reads it

BASE = """\
tables:
  deals:
    source: crm_deals
    time: closed_at
    columns:
      closed_at: date
      stage: string
measures:
  won_deals:
    table: deals
    agg: count
    filter: "stage = 'won'"
  closed_deals:
    table: deals
    agg: count
metrics:
  win_rate:
    numerator: won_deals
    denominator: closed_deals
"""


@pytest.fixture(autouse=True)
def _no_leaking_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UNSET_VAR, raising=False)


def definition_error(text: str, source: str = "definitions.yaml") -> DefinitionError:
    with pytest.raises(DefinitionError) as e:
        parse_definitions(text, source=source, sections=False)
    return e.value


def test_there_are_enough_broken_cases() -> None:
    assert len(CASES) >= 10, CASES


@pytest.mark.parametrize("case", CASES)
def test_error_text(case: str) -> None:
    err = definition_error((BROKEN / f"{case}.yaml").read_text(encoding="utf-8"), source=f"{case}.yaml")
    text = str(err)
    assert_snapshot(SNAPSHOTS / f"{case}.txt", text)
    assert err.issues, "a DefinitionError lists at least one issue"
    for issue in err.issues:   # every issue names the file and a line
        assert issue.source == f"{case}.yaml" and issue.line, issue


def test_every_snapshot_has_a_case() -> None:
    """A renamed or deleted fixture must not leave its snapshot behind."""
    assert sorted(p.stem for p in SNAPSHOTS.glob("*.txt")) == CASES


# -- every problem at once --------------------------------------------------------------------------

def test_two_meaning_errors_are_both_listed() -> None:
    text = BASE.replace("numerator: won_deals", "numerator: won_deal").replace("stage = 'won'", "stag = 'won'")
    err = definition_error(text)
    assert [i.key for i in err.issues] == ["measures.won_deals.filter", "metrics.win_rate.numerator"]
    assert str(err).startswith("2 problems in definitions:\n")


def test_unknown_key_and_meaning_error_are_both_listed() -> None:
    text = BASE.replace("numerator: won_deals", "numerator: won_deal").replace(
        "denominator: closed_deals", "denominator: closed_deals\n    labell: Win rate")
    keys = sorted(i.key for i in definition_error(text).issues)
    assert keys == ["metrics.win_rate.labell", "metrics.win_rate.numerator"]


def test_two_shape_errors_are_both_listed() -> None:
    text = "calendar:\n  timezone: Mars/Olympus\n  week_start: funday\n" + BASE
    assert sorted(i.key for i in definition_error(text).issues) == ["calendar.timezone", "calendar.week_start"]


def test_shape_error_does_not_hide_an_independent_meaning_error() -> None:
    """A bad calendar.timezone and an unknown measure in a metric have nothing to do with each other;
    one `kpi validate` should list both (STYLE 12: validate everything, then report once)."""
    text = "calendar:\n  timezone: Mars/Olympus\n" + BASE.replace("numerator: won_deals", "numerator: won_deal")
    assert sorted(i.key for i in definition_error(text).issues) == ["calendar.timezone", "metrics.win_rate.numerator"]


def test_missing_env_var_does_not_hide_other_problems() -> None:
    """An unset ${VAR} in the connection URL is reported together with the rest of the file's problems."""
    text = f"connection: postgresql://kpi:${{{UNSET_VAR}}}@db/crm\n" + BASE.replace("numerator: won_deals", "numerator: won_deal")
    assert sorted(i.key for i in definition_error(text).issues) == ["connection", "metrics.win_rate.numerator"]


def test_unknown_metric_type_names_the_type_and_suggests() -> None:
    """`type: ration` should say 'ration' and suggest 'ratio' (load._message's union_tag_invalid branch);
    the discriminator's custom error ("cannot tell the metric's type") is for a metric without type keys."""
    err = definition_error(BASE.replace("numerator: won_deals", "type: ration\n    numerator: won_deals"))
    assert "'ration'" in str(err) and "did you mean 'ratio'" in str(err)


def test_bad_within_says_how_to_write_a_window() -> None:
    """`within: 3 weeks` is a window, not a name: the message must not say "not a valid name"."""
    message = str(definition_error((BROKEN / "bad_within.yaml").read_text(encoding="utf-8")))
    assert "not a valid name" not in message and "days" in message


def test_env_var_with_default_and_yaml12_booleans_load() -> None:
    """${VAR:-default} needs no VAR; `on:`/`yes:` stay text keys (YAML 1.1 would make them True)."""
    text = BASE.replace("      stage: string", "      stage:\n        type: string\n        values: {yes: won, no: lost}")
    loaded = parse_definitions(f"connection: duckdb:///${{{UNSET_VAR}:-x.duckdb}}\n" + text, sections=False)
    assert loaded.defs.connection.url == "duckdb:///x.duckdb"
    assert loaded.defs.tables["deals"].columns["stage"].values == {"yes": "won", "no": "lost"}


# -- kpi validate ----------------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES)
def test_validate_exits_1_with_the_problems_on_stderr(case: str) -> None:
    result = CliRunner().invoke(app, ["validate", "--definitions", str(BROKEN / f"{case}.yaml")])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: ") and "problem" in result.stderr
    assert "Traceback" not in result.output and result.stdout == ""


def test_validate_shipped_definitions_exits_0() -> None:
    result = CliRunner().invoke(app, ["validate", "--definitions", str(REPO / "definitions.yaml")])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok ") and "metrics" in result.stdout


def test_validate_real_command_exit_codes() -> None:
    """The installed `kpi` entry point (plugins loaded, real process) agrees with the CliRunner."""
    kpi = str(REPO / ".venv" / "bin" / "kpi")
    bad = subprocess.run([kpi, "validate", "-d", str(BROKEN / "unknown_measure.yaml")], capture_output=True, text=True)
    good = subprocess.run([kpi, "validate", "-d", str(REPO / "definitions.yaml")], capture_output=True, text=True)
    assert (bad.returncode, good.returncode) == (1, 0), (bad.stderr, good.stderr)
    assert "unknown measure 'won_deal'" in bad.stderr and "Traceback" not in bad.stderr


# -- the shipped file and its schema -----------------------------------------------------------------

def test_shipped_definitions_load() -> None:
    loaded = parse_definitions((REPO / "definitions.yaml").read_text(encoding="utf-8"), source="definitions.yaml",
                               base_dir=REPO)
    assert {"win_rate", "cac", "lead_to_win_rate", "clv"} <= set(loaded.defs.metrics)


def test_shipped_schema_is_current() -> None:
    """definitions.schema.json is what `kpi schema` prints (regenerate: kpi schema > definitions.schema.json)."""
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json.loads((REPO / "definitions.schema.json").read_text(encoding="utf-8"))


def _schema_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((REPO / "definitions.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _yaml(path: Path) -> object:
    raw, issues = load_yaml(path.read_text(encoding="utf-8"), source=path.name)  # YAML 1.2, as kpi reads it
    assert not issues
    return plain(raw)


def test_shipped_definitions_validate_against_the_schema() -> None:
    errors = [e.message for e in _schema_validator().iter_errors(_yaml(REPO / "definitions.yaml"))]
    assert errors == []


def test_schema_flags_a_typo_key_like_an_editor_would() -> None:
    errors = list(_schema_validator().iter_errors(_yaml(BROKEN / "typo_key.yaml")))
    assert errors and any("measurez" in e.message for e in errors)

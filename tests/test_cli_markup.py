"""User text is never read as Rich markup or emoji codes in the terminal (issue 12).

Before: ``kpi query "[/red]"`` printed a MarkupError traceback, a description with ``[/b]`` crashed
``kpi explain``, an issue on line 100 printed as ``file💯``, and the missing-driver hint lost
``[postgres]`` from ``pip install 'kpi[postgres]'``.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from metrics_core.cli import app
from metrics_core.cli_render import _table, render_metrics
from metrics_core.columns import Columns

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def definitions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(REPO / "definitions.yaml", tmp_path / "definitions.yaml")
    monkeypatch.delenv("KPI_DEFINITIONS", raising=False)
    monkeypatch.delenv("KPI_CONNECTION", raising=False)
    return tmp_path / "definitions.yaml"


def run(definitions: Path, *args: str):  # noqa: ANN201 - click Result
    return CliRunner().invoke(app, [*args, "-d", str(definitions)])


@pytest.mark.parametrize("question, shown", [("[/red]", "[/red]"), ("win_rate by [/x]", "[/x]"),
                                             ("win_rate [bold]x", "[bold]x")])
def test_markup_in_a_question_is_printed_as_typed(definitions: Path, question: str, shown: str) -> None:
    result = run(definitions, "query", question)
    assert result.exit_code == 1, result.output
    assert shown in result.output and "MarkupError" not in result.output


def test_a_description_with_brackets_is_explained(definitions: Path) -> None:
    text = definitions.read_text()
    win_rate = re.search(r"(?m)^  win_rate:\n    label: Win rate\n(    description: >-\n(?:      .*\n)+)", text)
    assert win_rate
    definitions.write_text(text.replace(win_rate.group(1), "    description: 'Won [/b] of closed [bold]'\n", 1))
    result = run(definitions, "explain", "win_rate")
    assert result.exit_code == 0, result.output
    assert "Won [/b] of closed [bold]" in result.output


def test_line_100_is_not_an_emoji(definitions: Path) -> None:
    lines = definitions.read_text().splitlines()
    assert lines[99].strip(), "line 100 should hold a key"
    indent = len(lines[99]) - len(lines[99].lstrip())
    lines.insert(99, " " * indent + "bogus_key_here: 1")
    definitions.write_text("\n".join(lines) + "\n")
    result = run(definitions, "validate")
    assert result.exit_code == 1
    assert ":100:" in result.output and "💯" not in result.output


def test_the_missing_driver_hint_keeps_its_brackets(definitions: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # as on a machine without the driver, whether or not it is installed here (None in sys.modules: ImportError)
    monkeypatch.setitem(sys.modules, "google.cloud.bigquery", None)
    monkeypatch.setenv("KPI_CONNECTION", "bigquery://project/dataset")
    result = run(definitions, "query", "win_rate last-quarter")
    assert result.exit_code == 1, result.output
    assert "pip install 'kpi[bigquery]'" in result.output


def test_data_values_and_descriptions_print_as_themselves() -> None:
    console = Console(record=True, width=200, force_terminal=True, emoji=False)
    df = Columns({"segment": ["[/b]", "[red]x", ":100:"], "formatted": ["1", "2", "3"], "value": [1, 2, 3]})
    _table(console, df, ["segment"], "en_US", show_prev=False)

    class Info:
        name, label, type, format, description = "m", "[bold]L", "simple", "number", "counts [/i] rows"
    render_metrics(console, [Info()])
    text = console.export_text()
    for shown in ("[/b]", "[red]x", ":100:", "[bold]L", "counts [/i] rows"):
        assert shown in text

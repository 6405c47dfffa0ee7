"""Reading definitions fast: libyaml with the same result as pure Python, each version parsed once,
section validators only when asked for (metrics_core/yamlio.py, metrics_core/load.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics_core.errors import DefinitionError
from metrics_core.load import load_definitions, parse_definitions
from metrics_core.yamlio import LineDict, LineList, env_names
from metrics_core.yamlparse import _FastLoader, _Loader

REPO = Path(__file__).resolve().parent.parent
YAML_FILES = sorted([REPO / "definitions.yaml", *REPO.glob("examples/*/definitions.yaml"),
                     *REPO.glob("tests/fixtures/**/*.yaml")])


def with_lines(data: object) -> object:
    """Data plus every line number the loaders recorded, as comparable plain values."""
    if isinstance(data, LineDict):
        return ("map", data.line, {k: (data.lines[k], with_lines(v)) for k, v in data.items()})
    if isinstance(data, LineList):
        return ("seq", data.line, [(n, with_lines(v)) for n, v in zip(data.lines, data)])
    return data


def both(text: str) -> tuple[object, object]:
    results = []
    for loader in (_FastLoader, _Loader):
        try:
            results.append(with_lines(yaml.load(text, Loader=loader)))  # noqa: S506 - SafeLoader subclasses
        except yaml.YAMLError:
            results.append("error")
    return results[0], results[1]


def test_fast_loader_is_libyaml_here() -> None:
    """Guard against a vacuous comparison below: the fast loader really is the C one."""
    assert yaml.__with_libyaml__ and issubclass(_FastLoader, yaml.CSafeLoader)


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_fast_and_pure_python_loaders_agree_on_every_shipped_file(path: Path) -> None:
    fast, pure = both(path.read_text(encoding="utf-8"))
    assert fast == pure


scalars = st.one_of(st.sampled_from(["on", "off", "yes", "no", "true", "False", "2026-01-01", "1e3", "0x1F",
                                     "null", "~", "'quoted: x'", "a # comment", "12:30", ".5", "-"]),
                    st.text(alphabet="abc :-#'\"{}[],\t\n", max_size=8))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "on", "c d"]), scalars), min_size=1, max_size=6),
       st.booleans())
def test_fast_and_pure_python_loaders_agree_on_odd_input(items: list[tuple[str, str]], nested: bool) -> None:
    """Booleans (YAML 1.2 only), dates kept as text, duplicate keys, syntax errors: the same either way,
    except that libyaml accepts a tab where pure-Python PyYAML refuses it ("a: <tab>" is a: null)."""
    lines = [f"{k}: {v}" for k, v in items]
    text = "top:\n" + "".join(f"  {line}\n" for line in lines) if nested else "\n".join(lines)
    fast, pure = both(text)
    assert fast == pure or (pure == "error" and "\t" in text)


# -- parsed once per version -----------------------------------------------------------------------

SMALL = """
tables:
  deals:
    source: {table: deals}
    time: closed_at
    columns: {closed_at: {type: date}, amount: {type: number}}
measures:
  revenue: {table: deals, agg: sum, expr: amount}
metrics:
  revenue: {measure: revenue, label: "${KPI_TEST_LABEL:-Revenue}"}
"""


def test_same_text_and_environment_parse_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KPI_TEST_LABEL", raising=False)
    first = parse_definitions(SMALL, sections=False)
    assert parse_definitions(SMALL, sections=False) is first
    assert first.defs.metrics["revenue"].label == "Revenue"
    monkeypatch.setenv("KPI_TEST_LABEL", "Bookings")  # the file reads it: a new version of the answer
    again = parse_definitions(SMALL, sections=False)
    assert again is not first and again.defs.metrics["revenue"].label == "Bookings"
    assert parse_definitions(SMALL + "\n# edited\n", sections=False) is not again


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "definitions.yaml"
    path.write_text(SMALL, encoding="utf-8")
    first = load_definitions(path, sections=False)
    assert load_definitions(path, sections=False) is first
    path.write_text(SMALL.replace("agg: sum", "agg: max"), encoding="utf-8")
    assert load_definitions(path, sections=False).defs.measures["revenue"].agg == "max"


def test_env_names_lists_each_variable_once() -> None:
    assert env_names("url: ${PG_URL:-x} ${PG_URL} $HOME ${A_1}") == ("PG_URL", "A_1")


def test_sections_are_validated_only_when_asked() -> None:
    text = (REPO / "definitions.yaml").read_text(encoding="utf-8").replace("admin_channel:", "admin_chanel:", 1)
    assert parse_definitions(text, sections=False).defs.slack is not None
    assert parse_definitions(text, sections=("sheets",)).defs.slack is not None
    for which in (True, ("slack",)):
        with pytest.raises(DefinitionError, match="unknown key 'admin_chanel'"):
            parse_definitions(text, sections=which)

"""Every definitions file gives definitions or a one-line-per-problem ``DefinitionError`` (issue 12).

* a corpus of files that crashed the loader (or the first question after ``validate``), ran for
  minutes, or were accepted with absurd values; each is now a definition error naming its line;
* a hypothesis property over mutated copies of the shipped ``definitions.yaml``: loading, and then
  planning and compiling a question for its metrics, either works or raises a ``KpiUserError``.
  The default run tries 30 files; ``pytest -m slow tests/test_definitions_hardening.py`` tries 10,000.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from metrics_core import KPI
from metrics_core.errors import DefinitionError, KpiUserError
from metrics_core.expressions import ExprError, parse_snippet
from metrics_core.load import load_definitions, parse_definitions
from metrics_core.validate import MAX_DERIVED_DEPTH
from metrics_core.yamlio import MAX_CHARS, MAX_DEPTH

REPO = Path(__file__).resolve().parent.parent
SHIPPED = (REPO / "definitions.yaml").read_text()
AS_OF = date(2026, 11, 27)

SMALL = """\
tables:
  deals:
    source: crm_deals
    time: closed_at
    columns: {closed_at: date, stage: string}
measures:
  n: {table: deals, agg: count}
metrics:
  deals_closed: {measure: n}
"""


def definition_error(text: str) -> DefinitionError:
    with pytest.raises(DefinitionError) as e:
        parse_definitions(text)
    for issue in e.value.issues:
        assert "\n" not in str(issue), f"an issue is one line: {issue}"
    return e.value


def shipped_with(old: str, new: str) -> str:
    assert old in SHIPPED, old
    return SHIPPED.replace(old, new, 1)


# -- regression corpus ---------------------------------------------------------------------------

BROKEN = {
    # KeyError in the catalog: a conversion's measure on a renamed table
    "renamed_table": (shipped_with("\n  deals:\n", "\n  deal_rows:\n"), "unknown table"),
    # ValueError from SQLGlot: an unknown dialect
    "sqlite_dialect": (shipped_with("sql_dialect: duckdb", "sql_dialect: sqlite"), "'sqlite' is not allowed"),
    # TokenError from SQLGlot: an unclosed quote in a snippet
    "unclosed_quote": (SMALL.replace("agg: count}", "agg: count, filter: \"stage = 'won\"}"), "cannot parse SQL"),
    # RecursionError from SQLGlot: deeply nested parentheses
    "deep_parens": (SMALL.replace("agg: count}", "agg: count, filter: '" + "(" * 600 + "1" + ")" * 600 + "'}"),
                    "cannot parse SQL"),
    # TypeError: unhashable complex keys
    "list_key": ("? [a, b]\n: c\n" + SMALL, "a key must be a name or a number"),
    "mapping_key": (SMALL.replace("metrics:\n", "metrics:\n  ? {a: 1}\n  : 3\n"), "a key must be a name or a number"),
    # RecursionError: deeply nested YAML (and 5 s in PyYAML's scanner first)
    "deep_yaml": ("x: " + "[" * 5000 + "]" * 5000 + "\n" + SMALL, f"more than {MAX_DEPTH} levels"),
    "deep_block_yaml": ("x:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 60)) + SMALL,
                        f"more than {MAX_DEPTH} levels"),
    # AttributeError in bot/config.py: a slack: section that is not a mapping
    "slack_string": (SMALL + "slack: yes please\n", "slack"),
    "slack_list": (SMALL + "slack: [1, 2]\n", "slack"),
    "sheets_number": (SMALL + "sheets: 3\n", "sheets"),
    # billion laughs: nine lines that expand to 10^9 values
    "billion_laughs": ("a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                       + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n"
                                 for i in range(8)) + SMALL, "expands to more than"),
    "self_alias": ("x: &a [1, *a]\n" + SMALL, "refers to its own anchor"),
    "too_big": (SMALL + "#" + "x" * MAX_CHARS + "\n", "the limit is 2,000,000"),
    # absurd values that were accepted
    "small_sample_huge": (SMALL + "defaults: {small_sample: 1.0e+39}\n", "defaults.small_sample"),
    "target_nan": (SMALL.replace("{measure: n}", "{measure: n, targets: [{value: .nan}]}"), "finite number"),
    "target_inf": (SMALL.replace("{measure: n}", "{measure: n, targets: [{value: .inf}]}"), "finite number"),
    "constant_nan": (SMALL + "  gross_margin: .nan\n", "finite number"),
    "cache_ttl_forever": (SMALL + "connection: {url: 'duckdb:///:memory:', cache_ttl_seconds: 99999999999}\n",
                          "cache_ttl_seconds"),
    # nested ${...} made a directory literally named '${B:-'
    "nested_env": (SMALL + "connection: '${KPI_TEST_A:-${KPI_TEST_B:-x.duckdb}}'\n", "no nesting"),
    "unclosed_env": (SMALL + "connection: 'duckdb:///${KPI_TEST_A'\n", "no nesting"),
    # snippet functions outside the allow-list passed validation and failed at query time
    "read_csv": (SMALL.replace("agg: count}", "agg: count, filter: \"read_csv('/etc/passwd') IS NULL\"}"),
                 "function 'read_csv' is not allowed"),
    "getenv": (SMALL.replace("agg: count}", "agg: count, filter: \"getenv('PGPASSWORD') = 'x'\"}"),
               "function 'getenv' is not allowed"),
    "datediff_days": (SMALL.replace("agg: count}", "agg: sum, expr: 'datediff_days(closed_at, closed_at)'}"),
                      "function 'datediff_days' is not allowed"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_files_are_definition_errors(case: str) -> None:
    """Regression: each of these crashed with a traceback, ran for minutes or was accepted (issue 12)."""
    text, message = BROKEN[case]
    error = definition_error(text)
    assert message in str(error), str(error)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_the_quick_size_check_agrees_with_the_measured_one(data: st.DataObject) -> None:
    """yamlparse._within_limits (one pass over the expanded tree, stopped at either limit) says "fine" exactly
    when yamlparse._measured (memoised per node) finds nothing wrong: on random node graphs with shared
    nodes (aliases) and cycles (an alias inside its own anchor), under small limits."""
    import yaml

    from metrics_core import yamlparse

    n = data.draw(st.integers(1, 10))
    kinds = data.draw(st.lists(st.sampled_from(["scalar", "seq", "map"]), min_size=n, max_size=n))
    mark = yaml.Mark("definitions.yaml", 0, 0, 0, None, None)
    nodes: list[yaml.Node] = [yaml.ScalarNode("tag:yaml.org,2002:str", "x", mark) if k == "scalar"
                              else yaml.SequenceNode("tag:yaml.org,2002:seq", [], mark) if k == "seq"
                              else yaml.MappingNode("tag:yaml.org,2002:map", [], mark) for k in kinds]
    for node in nodes:
        kids = [nodes[i] for i in data.draw(st.lists(st.integers(0, n - 1), max_size=4))]
        if isinstance(node, yaml.SequenceNode):
            node.value = kids
        elif isinstance(node, yaml.MappingNode):
            node.value = list(zip(kids[::2], kids[1::2]))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(yamlparse, "MAX_NODES", data.draw(st.integers(1, 40)))
        mp.setattr(yamlparse, "MAX_DEPTH", data.draw(st.integers(1, 6)))
        assert yamlparse._within_limits(nodes[0]) == (yamlparse._measured(nodes[0]) is None)


@pytest.mark.parametrize("snippet", ["read_text('x')", "glob('*')", "current_setting('x')", "pragma_version()",
                                     "read_parquet('x')", "query('select 1')", "nextval('s')"])
def test_snippet_functions_outside_the_allow_list_are_refused(snippet: str) -> None:
    with pytest.raises(ExprError, match="is not allowed in a snippet"):
        parse_snippet(f"{snippet} IS NULL", "duckdb")


@pytest.mark.parametrize("snippet", ["date_diff('day', created_at, closed_at)", "coalesce(lower(trim(stage)), 'x')",
                                     "CASE WHEN amount > 0 THEN round(amount, 2) END", "strptime(d, '%d.%m.%Y')",
                                     "CAST(x AS DATE) >= current_date", "extract(year FROM d) = 2026"])
def test_ordinary_scalar_functions_are_allowed(snippet: str) -> None:
    assert parse_snippet(snippet, "duckdb") is not None


def test_a_snippet_function_error_names_the_line() -> None:
    error = definition_error(BROKEN["read_csv"][0])
    assert "definitions.yaml:7: measures.n.filter:" in str(error)


def test_the_line_of_a_non_utf8_file_is_named(tmp_path: Path) -> None:
    """Regression: a Latin-1 file crashed with UnicodeDecodeError."""
    path = tmp_path / "definitions.yaml"
    path.write_bytes(SMALL.encode() + "# caf\u00e9\n".encode("latin-1"))
    with pytest.raises(DefinitionError, match=r"definitions.yaml:10: the file is not UTF-8"):
        load_definitions(path)


def _mutual(n: int) -> str:
    names = [f"m{i}" for i in range(n)]
    return SMALL + "".join(f"  {a}: {{expr: {' + '.join(b for b in names if b != a)}}}\n" for a in names)


def test_mutually_referring_derived_metrics_are_each_cycle_once() -> None:
    """Regression: seven derived metrics referring to each other took 52 s to validate (every path
    was enumerated). Now one depth-first pass reports the cycles it meets."""
    error = definition_error(_mutual(7))
    cycles = [i for i in error.issues if "form a cycle" in i.message]
    assert cycles and len(cycles) <= 7 * 6
    definition_error(_mutual(40))  # 1,560 references: still one pass


def test_derived_metrics_nest_at_most_the_limit() -> None:
    def chain(n: int) -> str:
        return SMALL + "".join(f"  c{i}: {{expr: {f'c{i + 1}' if i < n - 1 else 'deals_closed'} + 1}}\n"
                               for i in range(n))
    parse_definitions(chain(MAX_DERIVED_DEPTH))
    error = definition_error(chain(MAX_DERIVED_DEPTH + 5))
    assert [i.message for i in error.issues] == [
        f"derived metrics nest {MAX_DERIVED_DEPTH + 1} levels deep here; the limit is {MAX_DERIVED_DEPTH}"]


def test_the_shipped_file_still_loads() -> None:
    assert parse_definitions(SHIPPED).defs.metrics


# -- the property: mutated definitions files -----------------------------------------------------

_LINES = SHIPPED.splitlines()
_WORDS = sorted({w for line in _LINES for w in line.replace(":", " ").replace(",", " ").split() if w.isidentifier()})
_JUNK = ["nan", ".nan", ".inf", "-1", "1.0e+39", "[a, b]", "{a: 1}", "? [a, b]", "&x [1]", "*x", "'", '"', "${A:-${B:-x}}",
         "read_csv('x')", "datediff_days(a, b)", "(((", "1 +", "`", "null", "~", "- a", "sqlite", "!!python/object x",
         "{", "]", "|", ">", "a; drop", "CAST(x AS", "case when", "x::", "\t", "\u00e9", "yes", "on"]
_token = st.sampled_from(_WORDS) | st.sampled_from(_JUNK) | st.text(max_size=6)
_mutation = st.tuples(st.integers(0, 6), st.integers(0, len(_LINES) - 1), st.integers(0, 200), _token, _token)


def _mutate(lines: list[str], ops: list[tuple[int, int, int, str, str]]) -> str:
    lines = list(lines)
    for op, i, j, a, b in ops:
        i %= len(lines)
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[j % len(lines)])
        elif op == 2:  # replace a word
            words = lines[i].split(" ")
            words[j % len(words)] = a
            lines[i] = " ".join(words)
        elif op == 3 and ":" in lines[i]:  # replace a value
            lines[i] = lines[i].partition(":")[0] + ": " + a
        elif op == 4:  # rename a name everywhere
            lines = [line.replace(a, b) for line in lines] if a.strip() else lines
        elif op == 5:  # insert text
            k = j % (len(lines[i]) + 1)
            lines[i] = lines[i][:k] + a + lines[i][k:]
        else:  # indentation
            lines[i] = " " + lines[i]
    return "\n".join(lines)


def _property(ops: list) -> None:
    text = _mutate(_LINES, ops)
    try:
        kpi = KPI(parse_definitions(text))
    except KpiUserError as e:
        assert str(e)
        return
    for name in list(kpi.definitions.metrics)[:4]:
        dims = kpi.catalog.metric_dimensions(name)
        try:
            req = kpi.plan(f"{name} last-quarter" + (f" by {dims[0]}" if dims else ""), as_of=AS_OF)
            kpi.compiled(req.query)
        except KpiUserError as e:
            assert str(e) and "\n" not in str(e)


@settings(max_examples=30, deadline=None)
@given(st.lists(_mutation, min_size=1, max_size=3))
def test_mutated_definitions_load_or_fail_cleanly(ops: list) -> None:
    _property(ops)


@pytest.mark.slow
@settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_mutation, min_size=1, max_size=3))
def test_mutated_definitions_load_or_fail_cleanly_10k(ops: list) -> None:
    _property(ops)

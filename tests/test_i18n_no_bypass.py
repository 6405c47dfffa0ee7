"""No user-facing word bypasses the catalog: render with a marking catalog, find unmarked words.

Every ``_()`` / ``ngettext()`` / ``pgettext()`` returns its text wrapped in ⟦ ⟧ here. The answers of
the CLI, Slack (answer, help, list, explain, errors) and Sheets (every tab) are rendered; what is left
once the marked spans and the data (metric and measure labels, descriptions, dimension names and values,
numbers, Babel's dates) are taken out must hold no word. An f-string with English words in it fails
this test; ``make i18n`` + a translation is the fix.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.support import NullTranslations
from rich.console import Console

from bot.messages import error_reply, explain_reply, help_reply, list_reply
from bot.render import render_blocks, render_text
from metrics_core import i18n
from metrics_core.api import KPI
from metrics_core.cli_render import render_result
from metrics_core.errors import QueryError
from metrics_core.periods import period_label, window_label
from sheets.pipeline import build_layouts
from sheets.workbook import workbook_for

REPO = Path(__file__).resolve().parent.parent
AS_OF = date(2026, 11, 27)
QUESTIONS = ["win_rate last-quarter by segment", "avg_deal_size this-month", "cac ytd vs last-year",
             "sales_cycle_days last-quarter by month", "pipeline_velocity last-month", "clv 2026-Q3 where segment=SMB"]


class Marking(NullTranslations):
    def gettext(self, message: str) -> str:
        return f"⟦{message}⟧"

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return f"⟦{singular if n == 1 else plural}⟧"

    def pgettext(self, context: str, message: str) -> str:
        return f"⟦{message}⟧"


@pytest.fixture(scope="module")
def kpi(tmp_path_factory: pytest.TempPathFactory) -> KPI:
    import duckdb

    from metrics_core.demo_data import generate

    root = tmp_path_factory.mktemp("marking")
    con = duckdb.connect(str(root / "demo.duckdb"))
    generate(con, deals=1500, until=date(2026, 11, 26))
    con.close()
    text = (REPO / "definitions.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^(\s+url:\s*).*$", r"\1duckdb:///demo.duckdb", text, count=1)
    return KPI.from_text(text, base_dir=root)


@pytest.fixture
def marking(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(i18n, "translations", lambda locale: Marking())


def unmarked(text: str, data: set[str]) -> list[str]:
    while True:  # innermost spans first: "⟦target {value}: ⟦behind pace⟧⟧"
        stripped = re.sub(r"⟦[^⟦⟧]*⟧", " ", text)
        if stripped == text:
            break
        text = stripped
    for d in sorted(data, key=len, reverse=True):
        text = text.replace(d, " ")
    text = re.sub(r":[a-z_]+:", " ", text)  # Slack emoji codes (:warning:) are not words
    return sorted(set(re.findall(r"[A-Za-z]{3,}", text)))


def data_of(kpi: KPI, results: list) -> set[str]:
    defs = kpi.definitions
    words = {m.label or "" for m in defs.metrics.values()} | {m.description for m in defs.metrics.values()}
    words |= {defs.measure_label(n) for n in defs.measures} | {f for m in defs.measures.values() for f in m.forms.values()}
    words |= set(defs.metrics) | set(defs.measures) | {q for q in QUESTIONS}
    words |= {i.formula for i in kpi.metrics()} | {s for i in kpi.metrics() for s in i.synonyms}
    words |= {"USD", "duckdb", "definitions.yaml", "kpi", "SELECT", "FROM", "WHERE", "GROUP", "ORDER"}
    for r in results:
        words |= {r.formatted, r.label, *r.dimensions, *(str(v) for vs in r.filters.values() for v in vs)}
        for p in [r.period] + ([r.comparison.period] if r.comparison else []):
            words |= {period_label(p, kpi.calendar, "en_US"), window_label(p, "en_US")}
        for df in (r.breakdown, r.series):
            if df is not None:
                for col in df.columns:
                    words |= {str(v) for v in df[col].tolist() if isinstance(v, str)}
        for c in r.components:
            words |= {c.label, c.name}
    return {w for w in words if w}


def test_cli_and_slack_answers_have_no_unmarked_words(kpi: KPI, marking: None) -> None:
    results = [kpi.query(q, as_of=AS_OF) for q in QUESTIONS]
    out = Console(record=True, width=200, color_system=None, force_terminal=False)
    texts = []
    for q, r in zip(QUESTIONS, results):
        render_result(out, r, kpi)
        blocks = render_blocks(r, query=q, freshness=date(2026, 11, 26), calendar=kpi.calendar, shared_by="U1")
        texts += [json.dumps([_texts(b) for b in blocks], ensure_ascii=False), render_text(r, kpi.calendar)]
    texts.append(out.export_text())
    leaks = unmarked("\n".join(texts), data_of(kpi, results) | {"shared_by", "U1"})
    assert not leaks, f"words not from the catalog: {leaks}"


def test_other_bot_replies_have_no_unmarked_words(kpi: KPI, marking: None) -> None:
    with i18n.use_locale("en_US"):
        replies = [help_reply([("/winrate", "win_rate")]), list_reply(kpi.metrics(), {}, frozenset({"cac"})),
                   explain_reply(kpi.explain("win_rate", as_of=AS_OF))]
        try:
            kpi.query("win_rate last quartr", as_of=AS_OF)
        except QueryError as e:
            replies.append(error_reply(str(e)))
    text = json.dumps([_texts(b) for r in replies for b in r.blocks], ensure_ascii=False)
    text = re.sub(r"```.*?```", " ", text, flags=re.S)  # SQL and the explanation body are code
    leaks = unmarked(text, data_of(kpi, []) | {"last", "quartr", "win_rate"})
    assert not leaks, f"words not from the catalog: {leaks}"


def test_sheets_tabs_have_no_unmarked_words(kpi: KPI, marking: None) -> None:
    now = datetime(2026, 11, 27, 9, 15, tzinfo=ZoneInfo("UTC"))
    layouts = build_layouts(kpi, workbook_for(kpi), as_of=AS_OF, now=now, workers=1)
    cells = [str(c.value) for lay in layouts if lay.key not in ("definitions", "quality")
             for row in lay.rows for c in row if isinstance(c.value, str)]
    titles = {lay.title for lay in layouts} | {t.name for t in workbook_for(kpi).tabs}
    periods = {c for lay in layouts for c in (lay.rows[1] if len(lay.rows) > 1 else ()) if c.value}
    data = data_of(kpi, []) | titles | {str(c.value) for c in periods} | {"America/New_York", "Segment",
                                                                         "Enterprise", "Mid-Market", "SMB"}
    leaks = unmarked("\n".join(cells), data)
    assert not leaks, f"words not from the catalog: {leaks}"


def _texts(node: object) -> list[str]:
    """Every "text" string in a Block Kit structure."""
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "text" and isinstance(v, str)] + \
            [t for k, v in node.items() if k not in ("value", "action_id", "block_id") for t in _texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in _texts(v)]
    return []


def test_doctor_output_has_no_unmarked_words(kpi: KPI, marking: None) -> None:
    """`kpi doctor` (terminal) and `/kpi doctor` (Slack): every sentence of every finding from the catalog."""
    from bot.doctor import doctor_reply
    from metrics_core.doctor_render import render_doctor

    with i18n.use_locale("en_US"):
        report = kpi.doctor(as_of=AS_OF, period="last-quarter")
        out = Console(record=True, width=250, color_system=None, force_terminal=False)
        render_doctor(out, report, kpi.calendar)
        reply = doctor_reply(report)
    assert report.findings, "the demo data has findings to render"
    defs = kpi.definitions
    data = data_of(kpi, []) | set(defs.tables) | {c for t in defs.tables.values() for c in [*t.columns, *t.joins,
                                                                                            *t.dimensions]}
    data |= {m.expr or "" for m in defs.measures.values()} | {m.filter or "" for m in defs.measures.values()}
    for f in report.findings:
        data |= {f.table, f.subject, *f.examples, *f.metrics, *(str(v) for v, _n in f.values if v is not None)}
    text = out.export_text() + json.dumps([_texts(b) for b in reply.blocks], ensure_ascii=False)
    leaks = unmarked(text, data | {period_label(report.period, kpi.calendar, "en_US"), window_label(report.period, "en_US")})
    assert not leaks, f"words not from the catalog: {leaks}"


BROKEN = REPO / "tests" / "fixtures" / "broken"


@pytest.mark.parametrize("args", [["validate", "-d", str(BROKEN / "unknown_measure.yaml")],
                                  ["validate", "-d", str(BROKEN / "typo_key.yaml")],
                                  ["validate", "-d", str(BROKEN / "sum_of_text.yaml")],
                                  ["validate", "-d", str(BROKEN / "time_column_string.yaml")],
                                  ["validate", "-d", str(BROKEN / "derived_cycle.yaml")],
                                  ["validate", "-d", str(BROKEN / "no_such_file.yaml")],
                                  ["query", "win_rate last-quarter", "--as-of", "27.11.2026"],
                                  ["doctor", "--fail-on", "sometimes"]])
def test_cli_errors_have_no_unmarked_words(args: list[str], marking: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """What `kpi` prints on stderr for a broken file or a bad option: every word from the catalog."""
    import yaml
    from typer.testing import CliRunner

    from metrics_core.cli import app

    monkeypatch.setenv("KPI_LOCALE", "en_US")  # a command language, so that the marking catalog is used
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1 and result.stderr, result.output
    data = {a for a in args} | {"definitions", "yaml", "metrics", "measures", "tables", "calendar", "timezone"}
    path = Path(args[2]) if args[0] == "validate" else None
    if path and path.is_file():  # the file's own names are data: keys, tables, columns, measures, values
        data |= {str(path), path.name} | set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", path.read_text(encoding="utf-8")))
        yaml.safe_load(path.read_text(encoding="utf-8"))  # a file that parses: PyYAML's own words never show
    leaks = unmarked(result.stderr, data)
    assert not leaks, f"words not from the catalog: {leaks}"


# Modules whose every user error goes through the catalog (the answer paths of the CLI, Slack and Sheets,
# loading and validating definitions, the warehouses, `kpi doctor`, `kpi demo`, the bot's and Sheets' settings).
TRANSLATED = ["metrics_core/load.py", "metrics_core/validate.py", "metrics_core/validate_sql.py", "metrics_core/models.py",
              "metrics_core/expressions.py", "metrics_core/yamlio.py", "metrics_core/yamlparse.py", "metrics_core/catalog.py", "metrics_core/checkdata.py",
              "metrics_core/backends/__init__.py", "metrics_core/backends/duckdb.py", "metrics_core/backends/postgres.py",
              "metrics_core/backends/spark.py", "metrics_core/backends/bigquery.py", "metrics_core/backends/snowflake.py",
              "metrics_core/demo.py", "metrics_core/cli.py", "metrics_core/cli_rollups.py", "metrics_core/doctor.py",
              "bot/actions.py", "bot/settings.py", "bot/service/cli.py", "bot/cli.py", "bot/config.py", "bot/doctor.py",
              "sheets/cli.py", "sheets/config.py",
              "metrics_core/api.py", "metrics_core/grammar.py", "metrics_core/periods.py", "metrics_core/assemble.py",
              "metrics_core/cli_render.py", "metrics_core/formatting.py", "metrics_core/errors.py",
              "bot/answer.py", "bot/commands.py", "bot/mention.py", "bot/messages.py", "bot/render.py",
              "bot/render_table.py", "bot/labels.py", "bot/alerts.py", "bot/manifest.py",
              "sheets/layout.py", "sheets/quality.py", "sheets/errors.py", "sheets/pipeline.py", "metrics_core/explain.py"]
ERRORS = {"QueryError", "KpiUserError", "ConfigError", "DataError", "AccessDenied", "DefinitionError",
          "SheetsError", "QuotaExhausted", "SheetsUnavailable", "InternalError", "ExprError", "ValueError", "Issue"}


@pytest.mark.parametrize("path", TRANSLATED)
def test_user_errors_are_built_from_the_catalog(path: str) -> None:
    """``QueryError(f"unknown metric {x}")`` would reach the user in English: the message must come
    from ``_()`` (or be built from it)."""
    import ast

    tree = ast.parse((REPO / path).read_text(encoding="utf-8"))
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ERRORS and node.args:
            arg = node.args[0]
            literal = isinstance(arg, ast.JoinedStr) or (isinstance(arg, ast.Constant) and isinstance(arg.value, str))
            if literal and re.search(r"[A-Za-z]{3,}", ast.unparse(arg)):
                bad.append(f"{path}:{node.lineno}: {ast.unparse(arg)[:70]}")
    assert not bad, "user errors outside the catalog:\n" + "\n".join(bad)

"""The ``sheets:`` section: what ``kpi validate`` reports, with lines, and the default workbook."""

from __future__ import annotations

from pathlib import Path

import pytest
from sheets_support import StubKPI

from metrics_core.errors import DefinitionError
from metrics_core.load import parse_definitions
from sheets.config import parse_every, validate_section
from sheets.workbook import default_tabs, select_tabs, workbook_for

SHIPPED = Path(__file__).parents[2] / "definitions.yaml"
GOOD = """
sheets:
  spreadsheet: 1AbC
  every: 1h
  tabs:
    - name: KPIs by month
      metrics: [win_rate, avg_deal_size]
    - name: KPIs by segment
      metrics: [win_rate]
      grain: quarter
      periods: 8
      breakdown: {by: segment, values: [SMB, Mid-Market, Enterprise]}
"""


def without_sheets(text: str) -> str:
    """The shipped definitions minus their own top-level ``sheets:`` block (to put another in)."""
    out, skipping = [], False
    for line in text.splitlines():
        if line.startswith("sheets:"):
            skipping = True
            continue
        if skipping and line and not line[0].isspace() and not line.startswith("#"):
            skipping = False
        if not skipping:
            out.append(line)
    return "\n".join(out) + "\n"


def with_section(section: str) -> str:
    return without_sheets(SHIPPED.read_text()) + "\n" + section


def test_the_shipped_definitions_carry_a_valid_default_workbook(monkeypatch):
    monkeypatch.setenv("KPI_SHEETS_SPREADSHEET", "1AbC")
    loaded = parse_definitions(SHIPPED.read_text())
    assert validate_section(loaded.defs.sections["sheets"], loaded.defs) == []
    cfg = workbook_for(type("K", (), {"definitions": loaded.defs})())
    assert [t.name for t in cfg.tabs] == ["KPIs by month", "KPIs by segment"]


def test_a_good_section_loads_through_the_core_loader():
    loaded = parse_definitions(with_section(GOOD))
    assert validate_section(loaded.defs.sections["sheets"], loaded.defs) == []


def test_problems_are_reported_by_kpi_validate_with_lines_and_hints():
    bad = GOOD.replace("every: 1h", "every: 10s").replace("tabs:", "tabz: []\n  tabs:") \
              .replace("[win_rate]", "[win_rat]").replace("by: segment", "by: segmnt")
    with pytest.raises(DefinitionError) as e:
        parse_definitions(with_section(bad))
    text = str(e.value)
    assert "unknown key 'tabz' (did you mean 'tabs'?)" in text
    assert "interval '10s' is under one minute" in text
    lines = {i.key: i.line for i in e.value.issues}
    assert all(line for line in lines.values()), lines


def test_a_breakdown_the_metric_does_not_allow_is_an_issue():
    """The shipped win_rate lists its breakdowns: a tab by stage is reported, not answered 100 % / 0 %."""
    loaded = parse_definitions(SHIPPED.read_text())
    raw = {"tabs": [{"name": "T", "metrics": ["win_rate", "cac"], "breakdown": {"by": "stage"}}]}
    messages = [i.message for i in validate_section(raw, loaded.defs)]
    assert messages == ["metric 'win_rate' cannot be broken down by 'stage' (it can use: industry, office, owner, "
                        "region, segment, size_band, source, team)",
                        "metric 'cac' cannot be broken down by 'stage' (it can use: segment)"]


def test_unknown_metric_and_dimension_get_did_you_mean():
    loaded = parse_definitions(SHIPPED.read_text())
    raw = {"tabs": [{"name": "T", "metrics": ["win_rat"], "breakdown": {"by": "segmnt"}}]}
    issues = validate_section(raw, loaded.defs)
    assert [i.message for i in issues] == ["unknown metric 'win_rat' (did you mean 'win_rate' or 'renewal_win_rate' or 'lead_to_win_rate'?)",
                                           "unknown dimension 'segmnt' (did you mean 'segment'?)"]
    assert issues[0].key == "sheets.tabs.0.metrics"


def test_a_metric_that_cannot_be_split_by_the_breakdown_is_an_issue():
    loaded = parse_definitions(SHIPPED.read_text())
    issues = validate_section({"tabs": [{"name": "T", "metrics": ["gross_margin"], "breakdown": {"by": "segment"}}]},
                              loaded.defs)
    assert [i.message for i in issues] == ["metric 'gross_margin' cannot be broken down by 'segment' (it can use: none)"] or \
        issues[0].message.startswith("metric 'gross_margin' cannot be broken down by 'segment'")


def test_tab_names_sheets_refuses_and_duplicates_are_issues():
    issues = validate_section({"tabs": [{"name": "a/b", "metrics": ["x"]}]}, None)
    assert "may not contain" in issues[0].message
    issues = validate_section({"tabs": [{"name": "Definitions", "metrics": ["x"]}]}, None)
    assert issues[0].message == "two tabs are named 'Definitions'"


@pytest.mark.parametrize("text,seconds", [("1h", 3600), ("15m", 900), ("90s", 90), ("1d", 86400), (" 2 min", 120)])
def test_every(text, seconds):
    assert parse_every(text).total_seconds() == seconds


def test_every_rejects_nonsense():
    with pytest.raises(ValueError, match="write e.g. 15m, 1h, 1d"):
        parse_every("hourly")


def test_default_workbook_monthly_and_by_segment():
    tabs = default_tabs(StubKPI({}).metrics())
    assert [(t.name, t.grain, t.periods, t.breakdown.by if t.breakdown else None) for t in tabs] == [
        ("KPIs by month", "month", 12, None), ("KPIs by segment", "quarter", 8, "segment")]
    assert tabs[1].metrics == ["win_rate", "avg_deal_size"]  # sales_cycle_days has no segment


def test_section_without_tabs_keeps_its_settings_and_gets_default_tabs():
    cfg = workbook_for(StubKPI({}, sheets={"spreadsheet": "x", "status_tab": None}))
    assert cfg.spreadsheet == "x" and cfg.status_tab is None and len(cfg.tabs) == 2


def test_unknown_tab_option_lists_the_tabs():
    cfg = workbook_for(StubKPI({}))
    with pytest.raises(Exception, match="no tab 'KPIs by monht' in the workbook .did you mean 'KPIs by month'"):
        select_tabs(cfg, "KPIs by monht")


def test_the_readme_default_workbook_is_valid_for_the_shipped_definitions(monkeypatch):
    """Keeps sheets/README.md honest: its YAML snippet loads with the shipped definitions."""
    readme = (Path(__file__).parents[2] / "sheets" / "README.md").read_text()
    snippet = readme.split("### Default workbook", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    monkeypatch.setenv("KPI_SHEETS_SPREADSHEET", "1AbC")
    loaded = parse_definitions(with_section(snippet))
    cfg = workbook_for(type("K", (), {"definitions": loaded.defs})())
    assert cfg.spreadsheet == "1AbC" and [t.name for t in cfg.tabs] == ["KPIs by month", "KPIs by segment"]
    assert len(cfg.tabs[0].metrics) == 10


def test_section_schema_lists_the_keys():
    from sheets.config import section_schema

    schema = section_schema()
    assert set(schema["properties"]) == {"spreadsheet", "credentials", "every", "cron", "tabs", "definitions_tab", "quality_tab",
                                         "status_tab"}
    assert schema["additionalProperties"] is False

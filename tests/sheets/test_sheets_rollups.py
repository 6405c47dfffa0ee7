"""The shipped workbook is answered from the shipped rollups, and every cell equals the raw answer.

The demo CRM in a DuckDB file, the shipped definitions.yaml with its rollups built: each question the
``sheets:`` tabs ask (every metric x grain x breakdown, the Why column's comparison, the maturing share
of conversions) says through the public ``--sql`` marker that a rollup answered it, and the sync's
computed tabs (numbers, targets and status, Why, fine print) are the same with and without rollups.
The Data quality tab's findings and the status tab's "data through" date are kept for the data
version they were read from.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from metrics_core.api import KPI
from metrics_core.backends.duckdb import DuckDBBackend
from metrics_core.demo_data import generate
from metrics_core.columns import Columns
from sheets.compute import Computer, _small, compute_tab
from sheets.pipeline import build_layouts
from sheets.report import PeriodColumn
from sheets.workbook import workbook_for

ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 12, tzinfo=ZoneInfo("America/New_York"))


@pytest.fixture(scope="module")
def kpis(tmp_path_factory: pytest.TempPathFactory) -> tuple[KPI, KPI, DuckDBBackend]:
    root = tmp_path_factory.mktemp("sheets-rollups")
    backend = DuckDBBackend(str(root / "crm.duckdb"))
    generate(backend.connection, deals=3000, until=AS_OF)
    text = (ROOT / "definitions.yaml").read_text(encoding="utf-8")
    text = text.replace("  directory: .kpi/rollups\n", f"  directory: {root / 'rollups'}\n")
    served = KPI.from_text(text, base_dir=ROOT, backend=backend)
    served.rollups.build()
    return served, KPI.from_text(text, base_dir=ROOT, backend=backend, rollups=False), backend


def test_every_question_of_the_shipped_workbook_is_served_by_a_rollup(kpis: tuple) -> None:
    served, _raw, _ = kpis
    cfg = workbook_for(served)
    assert [t.id for t in cfg.tabs] == ["monthly", "quarterly-by-segment"]  # the shipped sheets: section
    missed = []
    asked = 0
    for tab in cfg.tabs:
        for metric in tab.metrics:
            by = (tab.breakdown.by,) if tab.breakdown else ()
            r = served.trend(metric, grain=tab.grain, count=tab.periods, by=by, as_of=AS_OF)
            asked += 1
            if not r.sql.startswith("-- answered from rollup"):
                missed.append(f"{metric} by {tab.grain} {by}: {r.sql.splitlines()[0]}")
            if tab.targets and not by:  # the Why column asks the last period against the one before
                text = f"{metric} {r.period.start}..{r.period.end} vs previous"
                if served.definitions.metrics[metric].type != "constant":
                    first = served.query(text, as_of=AS_OF, use_cache=False).sql.splitlines()[0]
                    if not first.startswith("-- answered from rollup"):
                        missed.append(f"{text}: {first}")
    assert asked == 17 and not missed, "\n".join(missed)


def _tabs(kpi: KPI) -> list:
    comp = Computer(kpi, AS_OF, workers=1)
    return [compute_tab(comp, tab, NOW, "America/New_York") for tab in workbook_for(kpi).tabs]


def test_the_computed_tabs_are_the_same_with_and_without_rollups(kpis: tuple) -> None:
    served, raw, _ = kpis
    got, want = _tabs(served), _tabs(raw)
    assert [t.periods for t in got] == [t.periods for t in want]
    n = 0
    for g, w in zip(got, want):
        assert len(g.rows) == len(w.rows)
        for a, b in zip(g.rows, w.rows):
            assert (a.metric, a.group, a.target, a.status, a.why, a.notes, a.maturing, a.excluded, a.small) == \
                   (b.metric, b.group, b.target, b.status, b.why, b.notes, b.maturing, b.excluded, b.small)
            assert [v is None for v in a.values] == [v is None for v in b.values]
            assert [v for v in a.values if v is not None] == pytest.approx([v for v in b.values if v is not None], rel=1e-9)
            n += sum(v is not None for v in a.values)
    assert n > 150  # the cells are filled, not blank on both sides


def test_data_quality_is_checked_once_per_data_version(kpis: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    served, raw, backend = kpis
    cfg = workbook_for(served).model_copy(update={"tabs": [], "definitions_tab": None})
    calls: list[str] = []
    through: list[str] = []
    for name, kpi in (("served", served), ("raw", raw)):
        doctor, fresh = kpi.doctor, kpi.freshness
        monkeypatch.setattr(kpi, "doctor", lambda *a, _d=doctor, _n=name, **kw: calls.append(_n) or _d(*a, **kw))
        monkeypatch.setattr(kpi, "freshness", lambda _f=fresh, _n=name: through.append(_n) or _f())

    def quality(kpi: KPI) -> tuple:
        lay = next(x for x in build_layouts(kpi, cfg, as_of=AS_OF, now=NOW) if x.key == "quality")
        return tuple(tuple(c.value for c in row) for row in lay.rows)

    first = quality(served)
    assert quality(served) == first and calls == ["served"]  # the same data: the findings are reused
    assert quality(raw) == first and quality(raw) == first and calls == ["served", "raw", "raw"]  # --no-rollups
    backend.connection.execute("UPDATE crm_deals SET closed_at = NULL WHERE deal_id IN "
                               "(SELECT deal_id FROM crm_deals WHERE stage ILIKE '%won%' LIMIT 3)")
    backend.connection.execute("CHECKPOINT")
    changed = quality(served)
    assert calls[-1] == "served" and len(calls) == 4 and changed != first  # the data changed: checked anew
    # the status tab's "data through" date likewise: once per data version with rollups, every sync raw
    assert through == ["served", "raw", "raw", "served"]


def test_a_blank_cell_carries_no_small_sample_note() -> None:
    """A group that counted no rows in a month: the raw statement may keep its row (value None, 0 rows
    behind it), a rollup's drops it; either way the cell is blank and says nothing about its sample."""
    periods = (PeriodColumn("Oct", date(2026, 10, 1), date(2026, 10, 31)), PeriodColumn("Nov", date(2026, 11, 1), date(2026, 11, 27)))
    kept = Columns.from_records([
        {"start": date(2026, 10, 1), "source": "Webinar", "value": 0.5, "sample_size": 2, "small_sample": True},
        {"start": date(2026, 11, 1), "source": "Webinar", "value": None, "sample_size": 0, "small_sample": True}])
    dropped = Columns.from_records([r for r in kept.records() if r["value"] is not None])
    assert _small(kept, periods, "source", "Webinar") == _small(dropped, periods, "source", "Webinar") == (2, None)

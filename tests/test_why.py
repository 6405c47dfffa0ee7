"""`kpi why`: every figure against arithmetic worked out by hand on the ten-deal CRM of
test_metrics_handmade (DuckDB), plus the pure math's exactness under hypothesis.

Deals closed: D6 won 2025-12-01 (A4 Enterprise, 7,000); D1 won 01-10 (A1 SMB, 1,000, created 01-01);
D3 won 02-20 (A2 Enterprise, 10,000, created 01-15); D2 won 03-05 (A1 SMB, 3,000, created 02-01);
D4 lost 03-31 (A3 SMB); D7 lost 04-05 (A4 Enterprise); D8 won 04-20 (A2 Enterprise); D10 won 05-11 (A3 SMB).
"""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from metrics_core import KPI
from metrics_core.cli import app
from metrics_core.errors import QueryError
from metrics_core.why import log_attribution, product_factors, shift_share
from test_cumulative import TEXT, duck_kpi

AS_OF = date(2026, 5, 10)


@pytest.fixture(scope="module")
def kpi() -> KPI:
    return duck_kpi()


def test_pipeline_velocity_factors_by_log_change(kpi: KPI) -> None:
    r = kpi.why("pipeline_velocity 2026-03", as_of=AS_OF)  # vs February
    # Feb: open at Feb 28 = 2 (D2, D4), win rate 1/1 (D3), avg deal 10,000, cycle 36 days (Jan 15 -> Feb 20)
    # Mar: open at Mar 31 = 4 (D5 D7 D9 D10), win rate 1/2 (D2 won, D4 lost), avg deal 3,000, cycle 32 (Feb 1 -> Mar 5)
    before, after = 2 * 1.0 * 10000 / 36, 4 * 0.5 * 3000 / 32  # 555.56 -> 187.50
    assert (r.before, r.after) == (pytest.approx(before), pytest.approx(after))
    f = {x.name: x for x in r.factors}
    assert f["open_deals"].log_share == pytest.approx(math.log(4 / 2))  # +0.6931
    assert f["win_rate"].log_share == pytest.approx(math.log(0.5 / 1))  # -0.6931
    assert f["avg_deal_size"].log_share == pytest.approx(math.log(3000 / 10000))  # -1.2040
    assert f["sales_cycle_days"].exponent == -1
    assert f["sales_cycle_days"].log_share == pytest.approx(-math.log(32 / 36))  # +0.1178: a shorter cycle helps
    total = math.log(after / before)  # ln(0.3375) = -1.0862 = 0.6931 - 0.6931 - 1.2040 + 0.1178
    assert r.log_change == pytest.approx(total)
    assert sum(x.share for x in r.factors) == pytest.approx(1.0)
    # in dollars: effect = (187.50 - 555.56) * share; avg deal size: -368.06 * (-1.2040 / -1.0862) = -407.97
    assert f["avg_deal_size"].effect == pytest.approx((after - before) * math.log(0.3) / total)
    assert f["avg_deal_size"].effect == pytest.approx(-407.97, abs=0.01)
    assert sum(x.effect for x in r.factors) == pytest.approx(after - before)
    assert r.biggest.name == "avg_deal_size"
    assert r.summary == ("Pipeline velocity fell from $555.56 to $187.50 (−$368.06, −66.2%). "
                         "Biggest factor: Avg deal size $10,000 → $3,000 (−$407.97).")


def test_ratio_numerator_against_denominator(kpi: KPI) -> None:
    r = kpi.why("win_rate 2026-Q1", as_of=AS_OF)  # vs 2025-Q4: 1 won of 1 closed -> 3 of 4
    assert r.kind == "ratio" and (r.before, r.after) == (1.0, 0.75)
    won, closed = r.factors
    assert (won.before, won.after, closed.before, closed.after) == (1, 3, 1, 4)
    assert won.log_share == pytest.approx(math.log(3))  # +1.0986
    assert closed.log_share == pytest.approx(-math.log(4))  # -1.3863; sum = ln(0.75) = -0.2877
    # in points: won -0.25 * 1.0986 / -0.2877 = +0.9547, closed -1.2047; together -0.25
    assert won.effect == pytest.approx(-0.25 * math.log(3) / math.log(0.75))
    assert won.effect + closed.effect == pytest.approx(-0.25)


def test_rate_and_mix_by_segment(kpi: KPI) -> None:
    r = kpi.why("win_rate last-quarter by segment", as_of=date(2026, 7, 10))  # Q2 vs Q1
    # Q1: SMB 2 won / 3 closed, Enterprise 1/1 (R0 = 3/4); Q2: SMB 1/1 (D10), Enterprise 1/2 (D8, D7) (R1 = 2/3)
    # weights: SMB 3/4 -> 1/3, Enterprise 1/4 -> 2/3
    smb = next(s for s in r.segments if s.value == "SMB")
    ent = next(s for s in r.segments if s.value == "Enterprise")
    assert smb.rate_effect == pytest.approx(3 / 4 * (1 - 2 / 3))  # w0 (r1 - r0) = 0.25
    assert smb.mix_effect == pytest.approx((1 / 3 - 3 / 4) * 2 / 3)  # (w1 - w0) r0 = -0.2778
    assert smb.interaction == pytest.approx((1 / 3 - 3 / 4) * (1 - 2 / 3))  # -0.1389
    assert smb.total == pytest.approx(1 / 3 - 1 / 2)  # w1 r1 - w0 r0 = -1/6
    assert ent.rate_effect == pytest.approx(1 / 4 * (1 / 2 - 1))  # -0.125
    assert ent.mix_effect == pytest.approx(2 / 3 - 1 / 4)  # +0.4167
    assert ent.interaction == pytest.approx((2 / 3 - 1 / 4) * (1 / 2 - 1))  # -0.2083
    assert [s.value for s in r.segments] == ["SMB", "Enterprise"]  # |-1/6| > |1/12|
    assert (r.rate_effect, r.mix_effect, r.interaction) == (pytest.approx(1 / 8), pytest.approx(5 / 36),
                                                           pytest.approx(-25 / 72))
    assert r.rate_effect + r.mix_effect + r.interaction == pytest.approx(2 / 3 - 3 / 4)  # exactly -1/12
    assert r.summary.endswith("Biggest factor: mostly rate and mix together; top mover segment SMB (−16.7 pp).")


def test_counts_by_segment_are_each_values_change(kpi: KPI) -> None:
    r = kpi.why("won_deals 2026-Q1 by segment", as_of=AS_OF)  # vs Q4: Enterprise 1 (D6) -> 1 (D3), SMB 0 -> 2
    assert [(s.value, s.total) for s in r.segments] == [("SMB", 2), ("Enterprise", 0)]
    assert r.change == 2


def test_a_trailing_rate_splits_like_a_ratio(kpi: KPI) -> None:
    r = kpi.why("win_rate_90d 2026-04", as_of=AS_OF)  # 90 days to Mar 31: 3/4; to Apr 30: 3/5
    won, closed = r.factors
    assert (won.log_share, closed.log_share) == (0.0, pytest.approx(-math.log(5 / 4)))
    assert closed.effect == pytest.approx(3 / 5 - 3 / 4)


@pytest.mark.parametrize("question, message", [
    ("win_rate 2026-Q1 vs none", "compares two periods"),
    ("won_deals 2026-Q1", "one measure, with nothing to split"),
    ("pipeline_velocity last-quarter", "every factor must be above zero"),  # no open deals at Dec 31
    ("win_rate 2026-Q1 by segment, office", "one dimension at a time"),
])
def test_what_cannot_be_split_is_a_one_line_error(kpi: KPI, question: str, message: str) -> None:
    with pytest.raises(QueryError) as e:
        kpi.why(question, as_of=AS_OF)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_a_sum_of_metrics_is_not_a_product() -> None:
    assert product_factors("a * b / (c * 2)", "duckdb") == [("a", 1), ("b", 1), ("c", -1)]
    assert product_factors("a * 365 / period_days", "duckdb") == [("a", 1), ("period_days", -1)]
    assert product_factors("a / a * b", "duckdb") == [("b", 1)]
    assert product_factors("a + b", "duckdb") is None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0.01, 1e6), st.floats(0.01, 1e6), st.sampled_from([1, -1])), min_size=1, max_size=5))
def test_log_shares_and_effects_add_up_exactly(fs: list) -> None:
    before = math.prod(b ** e for b, _a, e in fs)
    after = math.prod(a ** e for _b, a, e in fs)
    parts, total = log_attribution([(f"f{i}", b, a, e) for i, (b, a, e) in enumerate(fs)], before, after)
    assert sum(p[0] for p in parts) == pytest.approx(math.log(after / before), abs=1e-9)
    assert sum(p[2] for p in parts) == pytest.approx(after - before, rel=1e-9, abs=1e-9 * max(1.0, after))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50), st.integers(0, 50), st.integers(0, 50)),
                min_size=1, max_size=6))
def test_rate_mix_and_interaction_add_up_to_the_change(rows: list) -> None:
    rows = [(i, float(min(n0, d0)), float(d0), float(min(n1, d1)), float(d1)) for i, (n0, d0, n1, d1) in enumerate(rows)]
    d0, d1 = sum(r[2] for r in rows), sum(r[4] for r in rows)
    if not d0 or not d1:
        with pytest.raises(QueryError):
            shift_share(rows)
        return
    segs = shift_share(rows)
    change = sum(r[3] for r in rows) / d1 - sum(r[1] for r in rows) / d0
    assert sum(s.rate_effect + s.mix_effect + s.interaction for s in segs) == pytest.approx(change, abs=1e-12)


def test_cli_why_json_and_table(tmp_path: Path) -> None:
    import duckdb

    from test_metrics_handmade import DATA

    db = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(db))
    con.execute(DATA)
    con.close()
    defs = tmp_path / "definitions.yaml"
    defs.write_text(TEXT.replace('connection: "duckdb:///:memory:"', f'connection: "duckdb:///{db}"'))
    runner = CliRunner()
    res = runner.invoke(app, ["why", "win_rate last-quarter by segment", "-d", str(defs), "--as-of", "2026-07-10", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["kind"] == "mix" and data["dimension"] == "segment"
    assert data["effects"]["rate"] == pytest.approx(1 / 8)
    assert [s["value"] for s in data["segments"]] == ["SMB", "Enterprise"]
    res = runner.invoke(app, ["why", "pipeline_velocity 2026-03", "-d", str(defs), "--as-of", "2026-05-10"])
    assert res.exit_code == 0, res.output
    assert "Avg deal size" in res.stdout and "−$407.97" in res.stdout
    res = runner.invoke(app, ["why", "won_deals 2026-Q1", "-d", str(defs), "--as-of", "2026-05-10"])
    assert res.exit_code == 1 and "nothing to split" in res.output

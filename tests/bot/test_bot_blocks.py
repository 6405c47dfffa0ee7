"""Rendered answers: golden Block Kit snapshots, and every answer kind within Slack's limits."""

from __future__ import annotations

from typing import Any

import pytest

from bot.messages import error_reply, explain_reply, help_reply, internal_error_reply, list_reply, working_reply
from bot.render import render_blocks
from slack_doubles import INFOS, FakeKPI, make_result
from slack_requests import assert_snapshot, check_limits

FRESH = FakeKPI().freshness()


ANSWERS = {
    "answer_simple": lambda: render_blocks(make_result(), query="win_rate last-quarter", freshness=FRESH),
    "answer_breakdown": lambda: render_blocks(make_result(rows=4, dims=("region",)),
                                              query="win_rate last-quarter by region", freshness=FRESH),
    "answer_two_dims": lambda: render_blocks(make_result(rows=6, dims=("region", "segment")),
                                             query="win_rate last-quarter by region, segment", freshness=FRESH),
    "answer_lower_is_better": lambda: render_blocks(
        make_result("cac", "this-month", value=1520.0, previous=1400.0, target=1500.0), query="cac this-month"),
    "answer_small_sample_no_compare": lambda: render_blocks(
        make_result("sales_cycle_days", "last-7-days", value=41.5, previous=None, target=None, small=True),
        query="sales_cycle_days last-7-days", freshness=FRESH),
    "answer_no_value": lambda: render_blocks(make_result(value=None, target=None), query="win_rate last-quarter"),
    "answer_shared": lambda: render_blocks(make_result(), query="win_rate last-quarter", freshness=FRESH,
                                           ephemeral=False, shared_by="U0ALICE"),
    "answer_500_rows": lambda: render_blocks(make_result(rows=500, dims=("region",)),
                                             query="win_rate last-quarter by region", freshness=FRESH),
    "answer_rows_left_out": lambda: render_blocks(_left_out("revenue 2026-Q1 by segment"),
                                                  query="revenue 2026-Q1 by segment", freshness=FRESH),
}


def _left_out(question: str) -> Any:
    """A real answer on the eight-deal CRM of tests/test_excluded_rows.py: SMB lost a deal with no close
    date and one with no amount, ENT has a negative amount."""
    from metrics_core import KPI
    from metrics_core.backends.duckdb import DuckDBBackend
    from test_excluded_rows import AS_OF, DATA, YAML

    backend = DuckDBBackend(":memory:")
    backend.connection.execute(DATA)
    return KPI.from_text(YAML, backend=backend).query(question, as_of=AS_OF)


def test_rows_that_lost_rows_carry_a_mark_and_a_footnote() -> None:
    blocks = ANSWERS["answer_rows_left_out"]()
    table = next(b["text"]["text"] for b in blocks if b["type"] == "section" and b["text"]["text"].startswith("```"))
    assert [ln.split()[-1] for ln in table.strip("`").splitlines()[1:]] == ["¹", "²"]
    assert [ln.split()[0] for ln in table.strip("`").splitlines()[1:]] == ["ENT", "SMB"]
    notes = [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    assert (":information_source: ¹ ENT: 1 won deal in this period has a negative amount: counted as it is.\n"
            "² SMB: 1 won deal has no closed_at, so no period counts it. 1 won deal in this period has no amount: "
            "not counted.") in notes
def _alert(transition: str) -> list[dict[str, Any]]:
    from bot.alerts import alert_blocks
    from bot.config import Alert
    from bot.provider import snapshot_of

    alert = Alert(metric="win_rate", when="below target", channel="#sales", period="this-quarter")
    return alert_blocks(alert, transition, make_result(period="this-quarter"), snapshot_of(FakeKPI()))  # type: ignore[arg-type]


OTHERS = {
    "alert_crossed": lambda: _alert("crossed"),
    "alert_recovered": lambda: _alert("recovered"),
    "help": lambda: help_reply([("/cac", "cac"), ("/winrate", "win_rate")]).blocks,
    "list": lambda: list_reply(list(INFOS.values()), {"win_rate": "/winrate"}).blocks,
    "list_200_metrics": lambda: list_reply(list(INFOS.values()) * 70, {}).blocks,
    "explain": lambda: explain_reply(FakeKPI().explain("win_rate")).blocks,
    "explain_huge_sql": lambda: explain_reply(
        FakeKPI().explain("cac").__class__(INFOS["cac"], "x" * 5000, (("a", "b"),) * 80, "SELECT 1 " * 1000)).blocks,
    "error": lambda: error_reply("unknown metric 'wn_rate' (did you mean 'win_rate'?)").blocks,
    "internal_error": lambda: internal_error_reply("abc123").blocks,
    "working": lambda: working_reply("/kpi win_rate ytd").blocks,
}


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_answer_snapshot(name: str) -> None:
    blocks = ANSWERS[name]()
    check_limits(blocks)
    assert_snapshot(name, blocks)


@pytest.mark.parametrize("name", sorted(OTHERS))
def test_every_other_reply_fits_slack(name: str) -> None:
    blocks = OTHERS[name]()
    check_limits(blocks)
    if name not in ("list_200_metrics", "explain_huge_sql"):
        assert_snapshot(f"reply_{name}", blocks)


def test_500_row_breakdown_is_cut_with_a_count() -> None:
    blocks = ANSWERS["answer_500_rows"]()
    texts = [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    assert any("... and 470 more" in t for t in texts)


def test_data_values_cannot_inject_mrkdwn() -> None:
    """Dimension values like '<!channel>' or '&' are escaped, never interpreted by Slack."""
    blocks = ANSWERS["answer_500_rows"]()
    table = next(b for b in blocks if b["type"] == "section" and "```" in b["text"]["text"])
    assert "&lt;000&gt; &amp; co" in table["text"]["text"]
    assert "<000>" not in table["text"]["text"]


def test_colour_follows_better_direction() -> None:
    up_good = render_blocks(make_result(value=0.5, previous=0.4))[1]["text"]["text"]
    up_bad = render_blocks(make_result("cac", value=1500.0, previous=1000.0, target=None))[1]["text"]["text"]
    assert ":large_green_circle: ▲ +10.0 pp" in up_good
    assert ":red_circle: ▲ +50.0%" in up_bad


def test_share_button_only_on_ephemeral_answers() -> None:
    def actions(**kw: Any) -> list[str]:
        return [e["action_id"] for e in render_blocks(make_result(), **kw)[-1]["elements"]]
    assert actions(ephemeral=True) == ["kpi_trend", "kpi_explain", "kpi_why", "kpi_follow", "kpi_share", "kpi_records"]
    assert actions(ephemeral=False) == ["kpi_trend", "kpi_explain", "kpi_why", "kpi_follow", "kpi_records"]  # Why? wherever a compared value is

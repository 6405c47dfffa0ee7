"""Several metrics in one Slack question, over the real core (shipped definitions, 3,000 demo deals):
one table, each metric's numbers as it answers alone, the access rules checked per metric."""

from __future__ import annotations

import json
from datetime import date

from bot.access import Asker
from bot.answer import answer_query
from bot.provider import snapshot_of
from slack_requests import assert_snapshot, check_limits, command_body, post, signed_headers

AS_OF = date(2026, 11, 27)
LEAD = Asker("U0ALICE", "C0LEAD", "leadership")  # allowed for every metric
SALES = Asker("U0BOB", "C0SALES", "sales")  # not for cac, clv, ltv_cac_ratio, cac_payback_months


def cells(reply) -> str:  # noqa: ANN001 - Reply
    return "\n".join(b["text"]["text"] for b in reply.blocks if b["type"] == "section")


def test_several_metrics_are_one_table_with_each_metrics_own_numbers(real_kpi) -> None:
    q = "win_rate, avg_deal_size, sales_cycle_days last-quarter by segment"
    reply = answer_query(snapshot_of(real_kpi), q, LEAD, as_of=AS_OF)
    assert reply.ok, reply.text
    check_limits(reply.blocks)
    text = cells(reply)
    for metric in ("win_rate", "avg_deal_size", "sales_cycle_days"):
        alone = real_kpi.query(f"{metric} last-quarter by segment", as_of=AS_OF)
        assert alone.formatted in text and alone.formatted in reply.text
        for row in alone.breakdown_columns.records():
            line = next(x for x in text.splitlines() if x.startswith(row["segment"]))
            assert row["formatted"] in line, (metric, line)
    actions = [b for b in reply.blocks if b["type"] == "actions"]
    assert [e["action_id"] for a in actions for e in a["elements"]] == ["kpi_share"]
    assert_snapshot("e2e_multi_last_quarter_by_segment", reply.message())


def test_series_and_comparison_fit_slack(real_kpi) -> None:
    reply = answer_query(snapshot_of(real_kpi), "win rate and avg_deal_size last-6-months by month vs last-year",
                         LEAD, as_of=AS_OF)
    assert reply.ok, reply.text
    check_limits(reply.blocks)
    assert "vs prev" in cells(reply) and "Oct 2026" in cells(reply)


def test_one_forbidden_metric_refuses_the_whole_question(real_kpi) -> None:
    """Regression guard: the access rule of the second metric of a list must apply, not only the first's."""
    snap = snapshot_of(real_kpi)
    reply = answer_query(snap, "win_rate, cac last-quarter", SALES, as_of=AS_OF)
    assert not reply.ok and "Sorry, 'cac' is not available here" in reply.text
    win = real_kpi.query("win_rate last-quarter", as_of=AS_OF).formatted
    assert win not in json.dumps(reply.blocks)
    assert answer_query(snap, "win_rate, avg_deal_size last-quarter", SALES, as_of=AS_OF).ok


def test_signed_command_with_a_list_over_http(slack, make_bot, serve_http, real_kpi) -> None:
    url = serve_http(make_bot(real_kpi))
    body = command_body("win_rate, sales_cycle_days ytd", channel="C0SALES", channel_name="sales")
    status, ack, _took = post(url, body, signed_headers(body))
    assert status == 200 and ack["blocks"][0]["text"]["text"] == "Win rate, Sales cycle"
    body = command_body("win_rate, clv ytd", channel="C0SALES", channel_name="sales")
    assert "Sorry, 'clv' is not available here" in post(url, body, signed_headers(body))[1]["text"]

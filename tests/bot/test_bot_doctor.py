"""``/kpi doctor`` in Slack: the core's report in the admin channel only (real core over demo data, real bolt)."""

from __future__ import annotations

import json
from datetime import date

from bot.access import Asker
from bot.answer import answer_command
from bot.provider import snapshot_of
from slack_requests import check_limits, command_body, post, signed_headers

AS_OF = date(2026, 11, 27)
ADMIN = Asker("U0ALICE", "C0ADMIN", "kpi-admin")


def test_doctor_in_the_admin_channel_lists_the_core_findings(real_kpi) -> None:
    report = real_kpi.doctor(as_of=AS_OF)
    assert report.findings, "the demo data has known gaps (deals without a lead have no source)"
    reply = answer_command(snapshot_of(real_kpi), "doctor", ADMIN, as_of=AS_OF)
    assert reply.ok, reply.text
    check_limits(reply.blocks)
    assert reply.text == (f"Data quality as of 2026-11-27: {report.count('error')} errors, {report.count('warning')} "
                          f"warnings, {report.count('info')} notes ({len(report.tables)} tables checked).")
    texts = [b["text"]["text"] for b in reply.blocks[1:]]
    assert len(texts) == len(report.findings)
    blank = next(f for f in report.findings if (f.check, f.subject) == ("blank_dimension", "source"))
    line = next(t for t in texts if t.startswith(":warning: ") and "blank source" in t)
    assert f"e.g. {', '.join(blank.examples)}" in line and f"of {blank.period_total:,} rows in" in line


def test_doctor_elsewhere_is_refused_politely(real_kpi) -> None:
    reply = answer_command(snapshot_of(real_kpi), "doctor", Asker("U0ALICE", "C0SALES", "sales"), as_of=AS_OF)
    assert not reply.ok
    assert reply.text == "`/kpi doctor` answers in the admin channel (#kpi-admin) only."


def test_doctor_over_signed_http(slack, make_bot, serve_http, real_kpi) -> None:
    url = serve_http(make_bot(real_kpi))
    body = command_body("doctor", channel="C0ADMIN", channel_name="kpi-admin", response_url=slack.response_url())
    status, ack, _ = post(url, body, signed_headers(body))
    assert status == 200
    message = ack if "Working on" not in ack["text"] else slack.wait_for("response_url", timeout=20)[0].params
    assert message["text"].startswith("Data quality as of "), json.dumps(message)[:500]
    assert message["response_type"] == "ephemeral"

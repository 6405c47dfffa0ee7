"""Show records through the real bolt app over the real core (demo data): the first 20 rows behind an
answer, ephemeral, with CRM links and the total count; the channel's access rules apply."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from bot.render import button_value, render_blocks
from metrics_core.api import KPI
from slack_requests import action_body, post, signed_headers

AS_OF = date(2026, 11, 27)
URL = '    url: "https://crm.example.com/deals/{deal_id}"\n'


def linked_kpi(demo_dir: Path) -> KPI:
    """The demo definitions with a url: template on deals (the shipped file has it as a comment)."""
    text = (demo_dir / "definitions.yaml").read_text(encoding="utf-8")
    text = text.replace("    primary_key: deal_id\n", "    primary_key: deal_id\n" + URL, 1)
    return KPI.from_text(text, base_dir=demo_dir)


def click(slack, url: str, question: str, channel: str = "C0SALES") -> dict:
    body = action_body("kpi_records", button_value(question, AS_OF), response_url=slack.response_url(), channel=channel)
    assert post(url, body, signed_headers(body))[0] == 200
    (reply,) = slack.wait_for("response_url", timeout=20)
    return reply.params


def test_show_records_lists_the_first_20_with_links_and_the_total(slack, make_bot, serve_http, demo_dir) -> None:
    kpi = linked_kpi(demo_dir)
    question = "win_rate last-quarter where segment = SMB and amount > 5000"
    reply = click(slack, serve_http(make_bot(kpi)), question)
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    text = "\n".join(b["text"]["text"] for b in reply["blocks"] if b["type"] == "section")
    rows = kpi.rows(question, as_of=AS_OF, limit=20)
    denominator = kpi.query(question, as_of=AS_OF).components[1]  # a ratio lists its denominator's rows
    closed = denominator.value
    assert rows.total == closed > 20
    assert f"*{denominator.label}*" in text and f"*{int(closed):,} rows* (the first 20)" in text
    links = re.findall(r"<https://crm\.example\.com/deals/([^|>]+)\|([^>]+)>", text)
    assert [a for a, b in links] == [r[0] for r in rows.rows] and all(a == b for a, b in links)
    assert len(links) == 20


def test_show_records_keeps_the_access_rules(slack, make_bot, serve_http, real_kpi) -> None:
    reply = click(slack, serve_http(make_bot(real_kpi)), "cac last-quarter")  # cac: leadership only
    assert "not available here" in json.dumps(reply["blocks"])


def test_show_records_says_what_it_cannot_list(slack, make_bot, serve_http, real_kpi) -> None:
    reply = click(slack, serve_http(make_bot(real_kpi)), "pipeline_velocity last-quarter", channel="C0LEAD")
    assert "reads several measures" in json.dumps(reply["blocks"])


def test_the_button_is_on_answers_whose_parts_are_measures(real_kpi) -> None:
    def actions(question: str) -> list[str]:
        blocks = render_blocks(real_kpi.query(question, as_of=AS_OF), query=question)
        return [e["action_id"] for e in blocks[-1]["elements"]]

    assert "kpi_records" in actions("win_rate last-quarter")
    assert "kpi_records" not in actions("pipeline_velocity last-quarter")  # a product of metrics

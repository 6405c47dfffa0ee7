"""Block Kit -> plain terminal text, for ``kpi ask`` without ``--blocks`` (pure; layer: bot presentation).

    Win rate: 41.2%
    Q3 2026 · Jul 1 – Sep 30, 2026
    🟢 ▲ +3.1 pts vs Q2 2026 (38.1%)
    ...
    [Trend] [Explain] [Share]
"""

from __future__ import annotations

import html
import re
from typing import Any

_EMOJI = {":large_green_circle:": "🟢", ":red_circle:": "🔴", ":white_circle:": "⚪", ":warning:": "⚠",
          ":dart:": "🎯", ":rocket:": "🚀", ":white_check_mark:": "✅", ":x:": "❌", ":boom:": "💥",
          ":hourglass_flowing_sand:": "⏳", ":lock:": "🔒", ":mailbox_with_mail:": "📬",
          ":rotating_light:": "🚨", ":grey_question:": "?"}


def plain(mrkdwn: str) -> str:
    text = mrkdwn.replace("```", "")
    text = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", r"\1", text)
    text = re.sub(r"(?<![\w_])_([^_\n]+)_(?![\w_])", r"\1", text)
    text = re.sub(r"<@(\w+)>", r"@\1", text)
    for code, char in _EMOJI.items():
        text = text.replace(code, char)
    return html.unescape(text)


def blocks_to_text(blocks: list[dict[str, Any]]) -> str:
    out: list[str] = []
    for b in blocks:
        kind = b.get("type")
        if kind == "header":
            out += [b["text"]["text"], "=" * min(len(b["text"]["text"]), 60)]
        elif kind == "section":
            out.append(plain(b["text"]["text"]))
        elif kind == "context":
            out.append("  ".join(plain(e.get("text", "")) for e in b["elements"]))
        elif kind == "actions":
            out.append(" ".join(f"[{e['text']['text']}]" for e in b["elements"]))
    return "\n".join(out)

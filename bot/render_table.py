"""A breakdown DataFrame (or any grid of cells) -> compact monospaced table blocks that always fit Slack (pure).

Slack allows 3000 characters per section text and 50 blocks per message; a table is packed into
at most ``max_blocks`` sections of at most ``SECTION_CHARS`` characters, showing at most ``max_rows``
rows, and ends with "... and N more" when rows were left out. Never an ``invalid_blocks`` error.

    region      Win rate   vs prev
    EMEA           41.2%   +3.1 pts
    ... and 12 more
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from metrics_core.formatting import fmt_count, fmt_value, superscript
from metrics_core.i18n import gettext as _, active_locale, ngettext

from .labels import cut, delta_text, esc, esc_code

SECTION_CHARS = 2900  # < 3000, leaving room for the code fences
DIM_WIDTH = 24
VALUE_WIDTH = 14


def table_blocks(df: pd.DataFrame, dims: tuple[str, ...], *, fmt: str, value_title: str,
                 max_rows: int = 30, max_blocks: int = 8) -> list[dict[str, Any]]:
    """Section blocks with the table in a code block; empty list for an empty frame."""
    if df is None or df.empty:
        return [_section("_" + _("No rows in this window.") + "_")]
    has_prev = "previous" in df.columns
    # TRANSLATORS: a table column header: the change against the previous period (keep it short)
    rows = [[" / ".join(dims), value_title, _("vs prev") if has_prev else ""]]
    footnotes: list[str] = []  # "¹ SMB: 1 won deal has no closed_at, so no period counts it."
    for rec in df.head(max_rows).to_dict("records"):
        label = " / ".join("∅" if _missing(rec.get(d)) else str(rec.get(d)) for d in dims)
        change = delta_text(rec.get("value"), rec.get("previous"), fmt) if has_prev else ""
        mark = ""
        if isinstance(rec.get("excluded"), (list, tuple)) and rec["excluded"]:
            mark = superscript(len(footnotes) + 1)
            footnotes.append(f"{mark} {label}: " + " ".join(str(e["note"]) for e in rec["excluded"]))
        rows.append([label, str(rec.get("formatted", "")), (change + _flags(rec, mark)).strip()])
    widths = (min(max(len(r[0]) for r in rows), DIM_WIDTH), min(max(len(r[1]) for r in rows), VALUE_WIDTH))
    lines = [_row(r, widths) for r in rows]
    chunks = _pack(lines, max_blocks)
    shown = sum(len(c) for c in chunks) - 1  # minus the header line
    more = len(df) - shown
    blocks = [_section("```" + esc_code("\n".join(c)) + "```") for c in chunks]
    if more > 0:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": ngettext("... and {count} more (ask for fewer with `where`, or see the sheet)",
                                                "... and {count} more (ask for fewer with `where`, or see the sheet)",
                                                more).format(count=fmt_count(more, active_locale() or "en_US"))}]})
    shown_notes = footnotes[:max(shown, 0)]
    if shown_notes:  # which rows lost rows, and why (a context block holds at most 10 elements of 3000 characters)
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": cut(":information_source: " + esc("\n".join(shown_notes)), 2900)}]})
    return blocks


def _flags(rec: dict[str, Any], mark: str = "") -> str:
    """A row's own fine print: few rows behind it, a cohort still converting, rows left out
    (" small n=3 · maturing 40% · left out ¹")."""
    parts = []
    if rec.get("small_sample") is True:
        parts.append(_("small n={count}").format(count=int(rec.get("sample_size") or 0)))
    share = rec.get("maturing")
    if not _missing(share) and share > 0:
        parts.append(_("maturing {share}").format(share=fmt_value(share, "percent", active_locale() or "en_US", decimals=0)))
    if mark:
        # TRANSLATORS: a table row some of whose rows were left out (keep it short); a footnote mark follows
        parts.append(_("left out {mark}").format(mark=mark))
    return ("  " + " · ".join(parts)) if parts else ""


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and v != v)


def _row(cells: list[str], widths: tuple[int, int]) -> str:
    dim = cut(cells[0], widths[0]).ljust(widths[0])
    return f"{dim}  {cut(cells[1], widths[1]).rjust(widths[1])}  {cells[2]}".rstrip()


def _pack(lines: list[str], max_blocks: int) -> list[list[str]]:
    """Split lines into chunks whose escaped, fenced text stays under SECTION_CHARS."""
    chunks: list[list[str]] = [[]]
    size = 0
    for line in lines:
        n = len(esc_code(line)) + 1
        if size + n > SECTION_CHARS - 6:
            if len(chunks) == max_blocks:
                break
            chunks.append([])
            size = 0
        chunks[-1].append(line)
        size += n
    return chunks


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def grid_blocks(head: list[str], rows: list[list[str]], *, keys: int, max_rows: int = 30,
                max_blocks: int = 8) -> list[dict[str, Any]]:
    """Any table as monospaced sections: the first ``keys`` columns left-aligned (at most DIM_WIDTH wide),
    the others right-aligned (at most VALUE_WIDTH); ends with "... and N more" when rows were left out.

        metric            value  vs prev
        Win rate          26.6%  +2.1 pts
    """
    shown = [head, *rows[:max_rows]]
    widths = [min(max(len(r[i]) for r in shown), DIM_WIDTH if i < keys else VALUE_WIDTH) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        return "  ".join(cut(c, w).ljust(w) if i < keys else cut(c, w).rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    chunks = _pack([line(r) for r in shown], max_blocks)
    more = len(rows) - (sum(len(c) for c in chunks) - 1)
    blocks = [_section("```" + esc_code("\n".join(c)) + "```") for c in chunks]
    if more > 0:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": ngettext("... and {count} more (ask for fewer with `where`, or see the sheet)",
                                                "... and {count} more (ask for fewer with `where`, or see the sheet)",
                                                more).format(count=fmt_count(more, active_locale() or "en_US"))}]})
    return blocks

"""`kpi rows QUESTION`: the records behind a number (edge layer: Typer + Rich).

    kpi rows "won_deals last-quarter where segment=SMB"            # a table, oldest first, with the total
    kpi rows "win_rate last-quarter" --part numerator --limit 20   # a ratio's numerator (default: denominator)
    kpi rows "won_deals last-quarter" --csv > won.csv              # or --json
"""

from __future__ import annotations

import csv
import json
import sys
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from .cli import AsOfOpt, DefinitionsOpt, app, guarded, open_kpi, out, parse_as_of
from .formatting import fmt_count
from .i18n import _, help_gettext as _h, ngettext
from .periods import period_label


@app.command("rows", help=_h("List the records a number counted: declared columns, ordered by time, with the total count."))
def rows_cmd(words: Annotated[list[str], typer.Argument(metavar="question", help=_h('e.g. "won_deals last-quarter where segment=SMB" (quotes optional)'))],
             part: Annotated[Optional[str], typer.Option("--part", help=_h("A ratio's numerator or denominator (default), "
                                                                        "a conversion's base, or a measure's name."))] = None,
             limit: Annotated[int, typer.Option("--limit", "-n", help=_h("Rows to list (the total is always counted)."))] = 100,
             as_csv: Annotated[bool, typer.Option("--csv", help=_h("Print the rows as CSV (with a url column when the table has url:)."))] = False,
             as_json: Annotated[bool, typer.Option("--json", help=_h("Print one JSON object."))] = False,
             definitions: DefinitionsOpt = None, as_of: AsOfOpt = None) -> None:
    """List the records a number counted: declared columns, ordered by time, with the total count."""
    question = " ".join(words)

    def body() -> None:
        kpi = open_kpi(definitions, cache=False)
        r = kpi.rows(question, part=part, limit=limit, as_of=parse_as_of(as_of))
        if as_json:
            print(json.dumps(r.to_json(), ensure_ascii=False))
            return
        links = any(r.urls)
        if as_csv:
            w = csv.writer(sys.stdout, lineterminator="\n")
            w.writerow([*r.columns, *(["url"] if links else [])])
            for rec, url in zip(r.to_json()["rows"], r.urls):
                w.writerow([_csv_safe(rec.get(c)) for c in r.columns] + ([url or ""] if links else []))
            return
        loc = kpi.definitions.locale.locale
        shown = ngettext("{count} row", "{count} rows", r.total).format(count=fmt_count(r.total, loc))
        # TRANSLATORS: the head of `kpi rows`, e.g. "won deals · Q3 2026 · where segment = SMB: 595 rows"
        head = _("{what} · {period}").format(what=r.label, period=period_label(r.period, kpi.calendar, loc))
        if r.where:
            head += " · " + _("where {filters}").format(filters=r.where)
        out.print(f"[bold]{escape(head)}[/bold]: {shown}")
        table = Table(show_edge=False, box=None)
        for c in r.columns:
            table.add_column(c, overflow="fold")
        if links:
            table.add_column("url", overflow="fold")
        for cells, url in zip(r.cells(loc), r.urls):
            table.add_row(*(escape(c) for c in cells), *([escape(url or "")] if links else []))
        out.print(table)
        if len(r.rows) < r.total:
            out.print(_("showing the first {shown} of {total}; --limit N for more")
                      .format(shown=fmt_count(len(r.rows), loc), total=fmt_count(r.total, loc)), style="dim")
    guarded(body)


def _csv_safe(v: object) -> object:
    """Text starting with = + - @ would run as a formula in a spreadsheet: prefix a quote."""
    return "'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else ("" if v is None else v)

"""Rich rendering of `kpi why` (edge layer; prints, computes nothing).

    Pipeline velocity fell from $555.56 to $187.50 (−$368.06, −66.2%). Biggest factor: ...
    factor            Feb 2026   Mar 2026   share of the change   effect
    Open deals               2          4                −63.8%   +$234.87
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .formatting import fmt_change
from .i18n import _, active_locale, use_locale
from .periods import period_label
from .why import WhyResult


def render_why(out: Console, r: WhyResult, kpi: Any) -> None:
    locale = active_locale() or kpi.definitions.locale.locale
    with use_locale(locale):
        out.print(Text(r.summary), highlight=False)
        before = period_label(r.compared, kpi.calendar, locale)
        after = period_label(r.period, kpi.calendar, locale)
        if r.factors:
            table = Table(show_edge=False, box=None, title_justify="left")
            for head, justify in ((_("factor"), "left"), (_("power"), "right"), (before, "right"), (after, "right"),
                                  (_("share of the change"), "right"), (_("effect"), "right")):
                table.add_column(head, justify=justify)  # type: ignore[arg-type]
            for f in sorted(r.factors, key=lambda f: -abs(f.log_share)):
                share = fmt_change(f.share, locale)  # + pushes the way the metric moved, − against it
                table.add_row(Text(f.label), "×" if f.exponent > 0 else "÷", f.before_formatted, f.after_formatted,
                              share, f.effect_formatted)
            out.print(table)
            return
        table = Table(show_edge=False, box=None)
        table.add_column(r.dimension or "")
        if r.kind == "mix":
            for head in (_("rate effect"), _("mix effect"), _("both at once"), _("total")):
                table.add_column(head, justify="right")
        else:
            table.add_column(_("change"), justify="right")
        from .why_answer import signed  # the metric's units, with their sign

        for s in r.segments:
            if r.kind == "mix":
                table.add_row(Text(str(s.value)), signed(kpi, r.metric, s.rate_effect), signed(kpi, r.metric, s.mix_effect),
                              signed(kpi, r.metric, s.interaction), s.total_formatted)
            else:
                table.add_row(Text(str(s.value)), s.total_formatted)
        if r.kind == "mix":
            table.add_row(Text(_("all"), style="bold"), signed(kpi, r.metric, r.rate_effect or 0.0),
                          signed(kpi, r.metric, r.mix_effect or 0.0), signed(kpi, r.metric, r.interaction or 0.0),
                          r.change_formatted)
        out.print(table)

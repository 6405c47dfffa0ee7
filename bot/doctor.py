"""``/kpi doctor``: the data-quality findings of ``kpi.doctor()`` as Block Kit (layer: bot logic; pure
apart from the core call).

Only in ``slack.admin_channel`` (or ``kpi ask`` on the machine): findings name tables, columns and
example ids, which is for whoever maintains the definitions, not every channel.

    reply = answer_doctor(snap, Asker("U1", "C9", "kpi-admin"))
"""

from __future__ import annotations

from datetime import date
from typing import Any

from metrics_core.errors import AccessDenied
from metrics_core.i18n import N_, gettext as _

from .access import Asker, _norm
from .answer import guarded
from .labels import cut, esc
from .messages import MAX_BLOCKS, Reply, _context, _section

ICON = {"error": ":red_circle:", "warning": ":warning:", "info": ":information_source:"}
NOT_HERE = N_("`/kpi doctor` answers in the admin channel ({channel}) only.")
NO_ADMIN = N_("`/kpi doctor` needs slack.admin_channel in the definitions: it answers there only.")
HEAD = N_("Data quality as of {as_of}: {errors} errors, {warnings} warnings, {infos} notes ({tables} tables checked).")
CLEAN = N_("Data quality as of {as_of}: no problems found ({tables} tables checked).")
IN_PERIOD = N_("{rows} of {total} rows in {period}")
EXAMPLES = N_("e.g. {ids}")
MOVES = N_("moves {metrics}")
MORE = N_("… and {count} more findings: run `kpi doctor` for all of them.")


def answer_doctor(snap: Any, asker: Asker, *, as_of: date | None = None) -> Reply:
    def run() -> Reply:
        admin = snap.config.admin_channel
        if not asker.trusted:
            if not admin:
                raise AccessDenied(_(NO_ADMIN))
            if _norm(admin) not in {_norm(asker.channel_id), _norm(asker.channel_name)} - {""}:
                raise AccessDenied(_(NOT_HERE).format(channel=admin))
        return doctor_reply(snap.kpi.doctor(as_of=as_of), snap.kpi.definitions.locale.locale)
    return guarded(run)


def doctor_reply(report: Any, locale: str = "en_US") -> Reply:
    """The report as a message: a headline, then one section per finding, worst first."""
    from metrics_core.formatting import fmt_count
    from metrics_core.periods import window_label

    counts = dict(errors=report.count("error"), warnings=report.count("warning"), infos=report.count("info"))
    head = (_(HEAD).format(as_of=report.as_of.isoformat(), tables=len(report.tables), **counts) if report.findings
            else _(CLEAN).format(as_of=report.as_of.isoformat(), tables=len(report.tables)))
    blocks = [_section(f"*{esc(head)}*")]
    room = MAX_BLOCKS - 2
    for f in report.findings[:room]:
        facts = []
        if f.period_total:
            facts.append(_(IN_PERIOD).format(rows=fmt_count(f.period_rows or 0, locale), total=fmt_count(f.period_total, locale),
                                          period=window_label(report.period, locale)))
        if f.metrics:
            facts.append(_(MOVES).format(metrics=", ".join(f.metrics[:8]) + (" …" if len(f.metrics) > 8 else "")))
        if f.examples:
            facts.append(_(EXAMPLES).format(ids=", ".join(f.examples)))
        text = f"{ICON[f.severity]} {esc(f.message)}"
        if facts:
            text += "\n" + esc(" · ".join(facts))
        for shift in getattr(f, "shifts", ()):  # the metric now and once these rows are fixed
            text += "\n> " + esc(shift.text)
        blocks.append(_section(cut(text, 2900)))
    if len(report.findings) > room:
        blocks.append(_context(_(MORE).format(count=len(report.findings) - room)))
    return Reply(text=head, blocks=blocks, ok=True)

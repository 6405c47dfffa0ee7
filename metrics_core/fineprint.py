"""The fine print of an answer: what a number cannot say by itself (layer: compile; pure).

- **Coarse grains.** A measure on rows dated by month (``grain: month`` on its table or itself) and
  a window that cuts a month: with ``partial: prorate`` (sums only) the window gets the share of each
  month it covers, and the answer says so; otherwise the window is refused ("spend is dated by month:
  ask for whole months"), and a series leaves out its buckets that cut a month, saying which.
- **Maturing conversions.** A conversion ("won within 90 days of the lead") whose window has not
  closed for every base row: the share of the cohort still inside its window, so a low recent rate
  reads as "not yet", not "worse".

Every sentence is whole, with named placeholders, so it translates as one unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from .catalog import Catalog
from .compile_scan import effective_grain, prorated
from .errors import QueryError
from .i18n import _
from .models import ConversionMetric
from .periods import Calendar, Period, enclosing, window_label



def _refused() -> str:
    # TRANSLATORS: a window cuts a coarse grain, e.g. "cac reads spend, which is dated by month: ask for whole months (Nov 16 – 22, 2026 cuts a month)."
    return _("{metric} reads {table}, which is dated by {grain}: ask for {whole} ({window} cuts one).")


def _dropped() -> str:
    # TRANSLATORS: windows left out of an answer, e.g. "spend is dated by month: May 1 – 10, 2026 left out (they cut a month)."
    return _("{table} is dated by {grain}: {windows} left out (they cut one).")


def _prorated() -> str:
    # TRANSLATORS: e.g. "spend is dated by month: Nov 16 – 22, 2026 get the share of each month they cover, by days."
    return _("{table} is dated by {grain}: {windows} get the share of each one they cover, by days.")


def _grain_words(grain: str) -> dict[str, str]:
    """The grain as a word and as what to ask for ("month", "whole months"), in the reader's language."""
    word = {"week": _("week"), "month": _("month"),
            "quarter": _("quarter"), "year": _("year")}
    whole = {"week": _("whole weeks"), "month": _("whole months"), "quarter": _("whole quarters"),
             "year": _("whole years")}
    return {"grain": word.get(grain, grain), "whole": whole.get(grain, grain)}


def _maturing() -> str:
    # TRANSLATORS: e.g. "37.2% of these leads were created less than 90 days before 2026-11-27: ..."
    return _("{share} of these {base} were created less than {days} days before {as_of}: "
             "their {days}-day window is still open, so the rate may still rise.")


@dataclass(frozen=True)
class Coarse:
    measure: str
    table: str
    grain: str
    prorate: bool


def coarse_measures(cat: Catalog, metric: str) -> list[Coarse]:
    """Measures the metric reads (through derived metrics and conversions) whose rows are dated coarser than a day."""
    defs = cat.defs
    seen: set[str] = set()
    measures: list[str] = []

    def walk(name: str) -> None:
        if name in seen or name not in defs.metrics:
            return
        seen.add(name)
        direct, subs = cat.metric_refs(name)
        measures.extend(m for m in direct if m in defs.measures)
        for sub in subs:
            walk(sub)

    walk(metric)
    out = []
    for name in dict.fromkeys(measures):
        m = defs.measures[name]
        grain = effective_grain(defs, m)
        if grain != "day":
            out.append(Coarse(name, m.table, grain, prorated(defs, m)))
    return out


def cuts(p: Period, grain: str, cal: Calendar) -> bool:
    """The window starts or ends inside a period of ``grain`` (Nov 16-22 cuts November)."""
    return enclosing(grain, p.start, cal)[0] != p.start or enclosing(grain, p.end, cal)[1] != p.end


def check_windows(cat: Catalog, cal: Calendar, metric: str, windows: list[Period], buckets: list[Period],
                  locale: str) -> tuple[list[Period], list[Period], list[str]]:
    """(the comparison windows and buckets to compute, notes). ``windows`` is the asked window, then its
    comparison: QueryError when a refused grain cuts the asked one; a cut comparison or bucket is left out."""
    notes: list[str] = []
    keep, compare = list(buckets), list(windows[1:])
    for c in coarse_measures(cat, metric):
        if c.prorate:
            cut = [w for w in [*windows, *buckets] if cuts(w, c.grain, cal)]
            if cut:
                notes.append(_prorated().format(table=c.table, grain=_grain_words(c.grain)["grain"],
                                                windows=", ".join(window_label(w, locale) for w in cut[:4])
                                             + (" …" if len(cut) > 4 else "")))
            continue
        if windows and cuts(windows[0], c.grain, cal):
            raise QueryError(_refused().format(metric=metric, table=c.table, window=window_label(windows[0], locale),
                                               **_grain_words(c.grain)))
        cut = [w for w in [*compare, *keep] if cuts(w, c.grain, cal)]
        if cut:
            keep = [b for b in keep if b not in cut]
            compare = [w for w in compare if w not in cut]
            notes.append(_dropped().format(table=c.table, grain=_grain_words(c.grain)["grain"],
                                           windows=", ".join(window_label(b, locale) for b in cut[:4])
                                        + (" …" if len(cut) > 4 else "")))
    return compare, keep, notes


def maturing_window(cat: Catalog, metric: str, p: Period, as_of: date) -> Period | None:
    """The part of ``p`` whose base rows are younger than the conversion's window (None: all closed)."""
    m = cat.defs.metrics[metric]
    if not isinstance(m, ConversionMetric):
        return None
    first_open = as_of - timedelta(days=m.within_days - 1)  # a base row of that day converts until as_of
    start, end = max(p.start, first_open), min(p.end, as_of)
    if start > end:
        return None
    return Period(f"{start.isoformat()}..{end.isoformat()}", "range", start, end)


def maturing_note(share: float, base_label: str, days: int, as_of: date, locale: str) -> str:
    from .formatting import fmt_value

    return _maturing().format(share=fmt_value(share, "percent", locale), base=base_label, days=days,
                           as_of=as_of.isoformat())

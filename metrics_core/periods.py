"""Period text -> date windows: "last-quarter", "2026-Q3", "fy2027-q1", "2026-09-01..2026-09-30".

Role: the one place that knows calendars. It turns the period a user typed into a ``Period`` (an
inclusive ``start``..``end`` date window), and derives the windows a metric answer needs: the
comparison period (``previous_period``, ``year_ago``), time-series buckets (``buckets``,
``trailing``), UTC bounds for timestamp columns (``utc_bounds``) and human labels.

Layer 0/1: pure (no I/O, no clock except ``today``); imports only ``metrics_core.errors``, the
standard library, ``zoneinfo`` and Babel (labels only).

Conventions every caller relies on:

* ``end`` is inclusive; ``end_exclusive`` is ``end + 1 day`` (use it for ``< end`` SQL filters).
* "last-X" is the previous *complete* X; "this-X" (and wtd/mtd/qtd/ytd/fytd) runs from the start of
  the current X to ``as_of`` inclusive and has ``to_date=True``.
* Absolute forms ("2026", "2026-Q4", "q4") are the whole period even when it has not ended yet.
* Derived periods (previous, year-ago, buckets, trailing) get absolute texts: "2026-Q2", "2026-10",
  "fy2027-q1", or a range text "2026-10-01..2026-10-27" when the window is not a whole period (weeks
  are always range texts, since ISO week names would lie for Sunday-start weeks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from enum import Enum
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_interval, format_skeleton

from .errors import ConfigError, QueryError, hint_for, suggest
from .i18n import _, use_locale
from .phrases import MONTHS, canonical, fold, split_to_date  # MONTHS, fold: also for the bot's mentions

ONE_DAY = timedelta(days=1)
# Periods must lie inside these dates, so every derived window (previous, year ago, the day after
# the end) stays a valid date: "win_rate 9999-12-31" and "0001-06 vs last-year" are user errors.
MIN_DATE, MAX_DATE = date(1900, 1, 1), date(2999, 12, 31)
MAX_BUCKETS = 400  # a year of days; 5,000 daily buckets took minutes and 4 GB


class Grain(str, Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    FISCAL_QUARTER = "fiscal_quarter"
    FISCAL_YEAR = "fiscal_year"


# Kinds that are "one calendar period" (as opposed to "range" and the last-N kinds).
CALENDAR_KINDS = tuple(g.value for g in Grain)
# Month-based kinds: (length in months, uses the fiscal start month as anchor).
_MONTHLY = {"month": (1, False), "quarter": (3, False), "year": (12, False),
            "fiscal_quarter": (3, True), "fiscal_year": (12, True)}
_LAST_N_MONTHS = {"months": 1, "quarters": 3, "years": 12}


@dataclass(frozen=True)
class Calendar:
    """How periods are cut. Invalid values raise ``ValueError`` (the definitions loader reports it)."""

    timezone: str = "UTC"
    week_start: int = 0  # 0=Monday ... 6=Sunday
    fiscal_year_start_month: int = 1  # 2 = fiscal year starts Feb 1
    fiscal_year_named_by: Literal["end", "start"] = "end"  # Salesforce: FY named by the year it ends in

    def __post_init__(self) -> None:
        if not (isinstance(self.week_start, int) and 0 <= self.week_start <= 6):
            raise ValueError(_("week_start must be 0 (Monday) .. 6 (Sunday), got {week_start!r}").format(
                week_start=self.week_start))
        if not (isinstance(self.fiscal_year_start_month, int) and 1 <= self.fiscal_year_start_month <= 12):
            raise ValueError(_("fiscal_year_start_month must be 1..12, got {fiscal_year_start_month!r}").format(
                fiscal_year_start_month=self.fiscal_year_start_month))
        if self.fiscal_year_named_by not in ("end", "start"):
            raise ValueError(_("fiscal_year_named_by must be 'end' or 'start', got {fiscal_year_named_by!r}").format(
                fiscal_year_named_by=self.fiscal_year_named_by))
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(_("unknown timezone {timezone!r} (use an IANA name like 'Europe/Warsaw')").format(
                timezone=self.timezone)) from None


@dataclass(frozen=True)
class Period:
    """An inclusive date window plus what it was asked as."""

    text: str  # canonical text: "last-quarter", "2026-Q3", "2026-09-01..2026-09-30", "fy2027"
    kind: str  # a Grain value, "range", or "days"/"weeks"/"months"/"quarters"/"years" (last-N)
    start: date
    end: date  # inclusive
    to_date: bool = False  # window cut at the as-of day ("this-month", "mtd", "ytd")
    n: int = 1  # for last-N-days/weeks/months
    # "FY2027 Q1" for fiscal kinds, set when built from a Calendar so to_json() can label them.
    fiscal_label: str = field(default="", compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(_("period {text!r} starts after it ends ({start} > {end})").format(
                text=self.text, start=self.start, end=self.end))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def end_exclusive(self) -> date:
        return self.end + ONE_DAY

    def to_json(self) -> dict:
        from .period_labels import _label  # labels live beside; this module re-exports them below

        with use_locale("en_US"):  # the JSON contract is English whatever the reader's language
            label = _label(self, None, "en_US")
        return {"text": self.text, "kind": self.kind, "start": self.start.isoformat(),
                "end": self.end.isoformat(), "label": label, "to_date": self.to_date}


PERIOD_FORMS: tuple[str, ...] = (
    "today", "yesterday",
    "this-week|month|quarter|year (to date)", "wtd, mtd, qtd, ytd",
    "last-week|month|quarter|year (previous complete one)",
    "last-N-days|weeks|months|quarters|years",
    "2026", "2026-Q3, Q3 2026, q3", "2026-09, sep 2026", "2026-09-15", "2026-09-01..2026-09-30",
    "fy2027, fy27, fy2027-q1", "this-fiscal-year|quarter, last-fiscal-year|quarter, fytd",
)

# Canonical keywords offered by "did you mean" for unknown text.
_KEYWORDS = (
    "today", "yesterday", "wtd", "mtd", "qtd", "ytd", "fytd",
    *(f"{w}-{u}" for w in ("this", "last") for u in ("week", "month", "quarter", "year", "fiscal-year", "fiscal-quarter")),
    "last-7-days", "last-30-days", "last-4-weeks", "last-12-weeks", "last-3-months", "last-12-months",
)
def _short_help() -> str:
    return _("try: today, this-month, last-quarter, ytd, last-7-days, 2026-Q3, 2026-09, fy2027, 2026-09-01..2026-09-30")

_ALIASES = {"wtd": "this-week", "mtd": "this-month", "qtd": "this-quarter", "ytd": "this-year",
            "fytd": "this-fiscal-year"}
_MONTH_NAMES = {name: i + 1 for i, names in enumerate((
    ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
    ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
    ("oct", "october"), ("nov", "november"), ("dec", "december"))) for name in names}


# ---------------------------------------------------------------- calendar arithmetic


def _add_months(d: date, k: int) -> date:
    """First-of-month ``d`` moved by ``k`` months (only used on month starts)."""
    idx = d.year * 12 + d.month - 1 + k
    return date(idx // 12, idx % 12 + 1, 1)


def _shift_years(d: date, k: int) -> date:
    """Same day ``k`` years away; Feb 29 becomes Feb 28 in a non-leap year."""
    try:
        return d.replace(year=d.year + k)
    except ValueError:
        return d.replace(year=d.year + k, day=28)


def _week_start(d: date, cal: Calendar) -> date:
    return d - timedelta(days=(d.weekday() - cal.week_start) % 7)


def _enclosing(kind: str, d: date, cal: Calendar) -> tuple[date, date]:
    """The whole period of ``kind`` that contains ``d``."""
    if kind == "day":
        return d, d
    if kind == "week":
        s = _week_start(d, cal)
        return s, s + timedelta(days=6)
    months, fiscal = _MONTHLY[kind]
    anchor = (cal.fiscal_year_start_month - 1) if fiscal else 0
    # Month index since year 0; periods start where (index - anchor) is a multiple of their length.
    # e.g. fiscal quarters with start month 2 (anchor 1) start in Feb, May, Aug, Nov.
    idx = d.year * 12 + d.month - 1
    s_idx = idx - (idx - anchor) % months
    s = date(s_idx // 12, s_idx % 12 + 1, 1)
    return s, _add_months(s, months) - ONE_DAY


def enclosing(kind: str, d: date, cal: Calendar) -> tuple[date, date]:
    """(start, end) of the whole calendar period of ``kind`` (a Grain value) that contains ``d``."""
    return _enclosing(kind, d, cal)


def _fiscal_year(fy_start: date, cal: Calendar) -> int:
    """FY number of the fiscal year starting on ``fy_start``: Feb 2026..Jan 2027 is FY2027 when named by end."""
    return fy_start.year + (1 if cal.fiscal_year_named_by == "end" and cal.fiscal_year_start_month > 1 else 0)


def _fiscal_year_start(fy: int, cal: Calendar) -> date:
    shift = 1 if cal.fiscal_year_named_by == "end" and cal.fiscal_year_start_month > 1 else 0
    return date(fy - shift, cal.fiscal_year_start_month, 1)


def _fiscal_parts(kind: str, d: date, cal: Calendar) -> tuple[int, int]:
    """(FY, fiscal quarter 1-4 or 0 for a fiscal year) of the fiscal period containing ``d``."""
    fy_start, _end = _enclosing("fiscal_year", d, cal)
    fq = 0
    if kind == "fiscal_quarter":
        fq = ((d.year - fy_start.year) * 12 + d.month - fy_start.month) // 3 + 1
    return _fiscal_year(fy_start, cal), fq


def _fiscal_label_of(kind: str, d: date, cal: Calendar) -> str:
    if kind not in ("fiscal_year", "fiscal_quarter"):
        return ""
    fy, fq = _fiscal_parts(kind, d, cal)
    return f"FY{fy}" + (f" Q{fq}" if fq else "")


def _range_text(s: date, e: date) -> str:
    return f"{s.isoformat()}..{e.isoformat()}"


def _whole(kind: str, d: date, cal: Calendar, text: str | None = None) -> Period:
    """The whole period of ``kind`` containing ``d``, with its absolute text unless given one."""
    s, e = _enclosing(kind, d, cal)
    if text is None:
        if kind == "day":
            text = s.isoformat()
        elif kind == "month":
            text = f"{s.year:04d}-{s.month:02d}"
        elif kind == "quarter":
            text = f"{s.year:04d}-Q{(s.month - 1) // 3 + 1}"
        elif kind == "year":
            text = f"{s.year:04d}"
        elif kind in ("fiscal_year", "fiscal_quarter"):
            fy, fq = _fiscal_parts(kind, s, cal)
            text = f"fy{fy}" + (f"-q{fq}" if fq else "")
        else:  # week
            text = _range_text(s, e)
    return Period(text, kind, s, e, fiscal_label=_fiscal_label_of(kind, s, cal))


def _partial(kind: str, s: date, e: date, cal: Calendar, *, to_date: bool, text: str | None = None) -> Period:
    """Part of one period of ``kind`` (to date, or clipped): range text unless given one."""
    return Period(text or _range_text(s, e), kind, s, e, to_date=to_date,
                  fiscal_label=_fiscal_label_of(kind, s, cal))


def _is_whole(p: Period, cal: Calendar) -> bool:
    return p.kind in CALENDAR_KINDS and not p.to_date and _enclosing(p.kind, p.start, cal) == (p.start, p.end)


# ---------------------------------------------------------------- parsing


def today(cal: Calendar) -> date:
    """Today's date in the calendar's timezone (the default ``as_of``)."""
    return datetime.now(ZoneInfo(cal.timezone)).date()


def _normalize(text: str) -> str:
    # "Last_Quarter" / "last quarter" / " LAST--quarter " -> "last-quarter"; "FY 2027 Q1" -> "fy-2027-q1"
    return re.sub(r"[\s_\-]+", "-", text.strip().lower()).strip("-")


def _date(y: str, m: str, d: str, raw: str) -> date:
    try:
        return date(int(y), int(m), int(d))
    except ValueError as exc:
        raise QueryError(_("invalid date in period '{text}': {error}").format(text=raw, error=exc)) from None


def _quarter_no(q: str, raw: str) -> int:
    if not 1 <= int(q) <= 4:
        raise QueryError(_("invalid quarter in period '{text}': quarters are Q1..Q4").format(text=raw))
    return int(q)


def _fy_no(y: str) -> int:
    return 2000 + int(y) if len(y) == 2 else int(y)  # "fy27" -> FY2027


def resolve_period(text: str, cal: Calendar, as_of: date) -> Period:
    """Resolve period text (see ``PERIOD_FORMS``) against ``as_of``; unknown text raises ``QueryError``."""
    if isinstance(as_of, datetime):
        as_of = as_of.date()
    raw = str(text).strip()
    s = _normalize(raw)
    if not s:
        raise QueryError(_("empty period ({help})").format(help=_short_help()))
    outside = QueryError(_("period '{text}' is outside the supported dates ({first}..{last})")
                         .format(text=raw, first=MIN_DATE.isoformat(), last=MAX_DATE.isoformat()))
    if not MIN_DATE <= as_of <= MAX_DATE:
        raise outside
    try:
        p = _in_words(raw, s, cal, as_of)
    except (OverflowError, ValueError):  # e.g. last-999999-days runs past year 1
        raise outside from None
    if p.start < MIN_DATE or p.end > MAX_DATE:
        raise outside
    return p


def _in_words(raw: str, s: str, cal: Calendar, as_of: date) -> Period:
    """Phrases (Polish or English) and kpi's own labels first (``phrases.py``), then the canonical forms.

    "<label> to date" / "<label> do dziś": the period of the label, from its start to ``as_of`` (the
    current one is "this-month" and so on; a past one is cut at the same day of it, never past its end).
    """
    inner, to_date = split_to_date(raw)
    if to_date:
        whole = _in_words(inner, _normalize(inner), cal, as_of)
        if whole.kind not in CALENDAR_KINDS or whole.kind == "day":
            raise QueryError(_("'{text}': only a week, month, quarter or year can be 'to date'").format(text=raw))
        unit = whole.kind.replace("_", "-")
        if whole.start == _enclosing(whole.kind, as_of, cal)[0]:
            return _partial(whole.kind, whole.start, as_of, cal, to_date=True, text=f"this-{unit}")
        return _partial(whole.kind, whole.start, min(whole.end, as_of), cal, to_date=True)
    said = canonical(raw, as_of)
    return _resolve(_normalize(said) if said else s, raw, cal, as_of)


def _resolve(s: str, raw: str, cal: Calendar, as_of: date) -> Period:
    s = _ALIASES.get(s, s)
    if m := re.fullmatch(r"week-of-(\d{4})-(\d{1,2})-(\d{1,2})", s):  # "Week of Nov 23, 2026", "tydzień od ..."
        return _whole("week", _date(*m.groups(), raw), cal)
    if s == "today":
        return _whole("day", as_of, cal, "today")
    if s == "yesterday":
        return _whole("day", as_of - ONE_DAY, cal, "yesterday")

    # this-month -> month start .. as_of; last-month -> the whole month before the current one
    m = re.fullmatch(r"(this|last)-(week|month|quarter|year|fiscal-year|fiscal-quarter)", s)
    if m:
        kind = m[2].replace("-", "_")
        cur_start, _end = _enclosing(kind, as_of, cal)
        if m[1] == "this":
            return _partial(kind, cur_start, as_of, cal, to_date=True, text=s)
        return _whole(kind, cur_start - ONE_DAY, cal, s)

    # last-7-days: the 7 complete days ending yesterday; last-6-months: 6 whole months before this one
    m = re.fullmatch(r"last-(\d+)-(day|week|month|quarter|year)s?", s)
    if m:
        n, unit = int(m[1]), m[2]
        if n < 1:
            raise QueryError(_("invalid period '{text}': N in last-N-{unit}s must be at least 1").format(
                text=raw, unit=unit))
        cur_start, _end = _enclosing(unit, as_of, cal)
        if unit == "day":
            start = as_of - timedelta(days=n)
        elif unit == "week":
            start = cur_start - timedelta(days=7 * n)
        else:
            start = _add_months(cur_start, -n * _LAST_N_MONTHS[unit + "s"])
        return Period(f"last-{n}-{unit}s", unit + "s", start, cur_start - ONE_DAY, n=n)

    # 2026-09-01..2026-09-30 (inclusive; spaces around ".." are fine)
    if ".." in s:
        parts = [p.strip("-") for p in s.split("..")]
        ms = [re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", p) for p in parts]
        if len(parts) != 2 or not all(ms):
            raise QueryError(_("invalid range '{text}': write it as YYYY-MM-DD..YYYY-MM-DD").format(text=raw))
        a, b = (_date(*mm.groups(), raw) for mm in ms)
        if a > b:
            raise QueryError(_("invalid range '{text}': it starts after it ends ({start} > {end})")
                             .format(text=raw, start=a, end=b))
        return Period(_range_text(a, b), "range", a, b)

    if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", s):  # 2026-09-15
        return _whole("day", _date(*m.groups(), raw), cal)
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})", s):  # 2026-09
        if not 1 <= int(m[2]) <= 12:
            raise QueryError(_("invalid month in period '{text}': months are 01..12").format(text=raw))
        return _whole("month", date(int(m[1]), int(m[2]), 1), cal)
    if m := re.fullmatch(r"(\d{4})", s):  # 2026
        return _whole("year", date(int(m[1]), 1, 1), cal)
    # sep 2026 / september-2026 / 2026 sep
    m = re.fullmatch(r"([a-z]+)-?(\d{4})", s) or re.fullmatch(r"(\d{4})-?([a-z]+)", s)
    if m:
        word, year = (m[1], m[2]) if m[1].isalpha() else (m[2], m[1])
        if word in _MONTH_NAMES:
            return _whole("month", date(int(year), _MONTH_NAMES[word], 1), cal)
    # 2026-Q3 / Q3 2026 / q3-2026
    if m := re.fullmatch(r"(\d{4})-?q(\d+)", s):
        return _whole("quarter", date(int(m[1]), 3 * _quarter_no(m[2], raw) - 2, 1), cal)
    if m := re.fullmatch(r"q(\d+)-?(\d{4})", s):
        return _whole("quarter", date(int(m[2]), 3 * _quarter_no(m[1], raw) - 2, 1), cal)
    if m := re.fullmatch(r"q(\d+)", s):  # q3: this year's Q3 if it has started by as_of, else last year's
        q = _quarter_no(m[1], raw)
        year = as_of.year if as_of >= date(as_of.year, 3 * q - 2, 1) else as_of.year - 1
        return _whole("quarter", date(year, 3 * q - 2, 1), cal)
    # fy2027 / FY 2027 / fy27, fy2027-q1 / FY2027 Q1 / q1-fy2027
    m = re.fullmatch(r"fy-?(\d{2}|\d{4})(?:-?q(\d+))?", s)
    m2 = None if m else re.fullmatch(r"q(\d+)-?fy-?(\d{2}|\d{4})", s)
    if m or m2:
        fy, q = (m[1], m[2]) if m else (m2[2], m2[1])
        fy_start = _fiscal_year_start(_fy_no(fy), cal)
        if q is None:
            return _whole("fiscal_year", fy_start, cal)
        return _whole("fiscal_quarter", _add_months(fy_start, 3 * (_quarter_no(q, raw) - 1)), cal)

    close = suggest(s, _KEYWORDS)
    hint = hint_for(s, _KEYWORDS) if close else f" ({_short_help()})"
    raise QueryError(_("unknown period '{text}'").format(text=raw) + hint)


# ---------------------------------------------------------------- derived periods


def previous_period(p: Period, cal: Calendar) -> Period:
    """The period before ``p``, of the same kind (the comparison for "vs previous period").

    Whole periods give the adjacent whole period ("2026-Q3" -> "2026-Q2"). To-date and clipped
    periods give the same offset and length inside the previous period, clamped to its end
    (this-month on 2026-03-31 -> 2026-02-01..2026-02-28; on 2026-11-27 -> 2026-10-01..2026-10-27);
    a to-date window that already covers its whole period compares with the whole previous one.
    Ranges and last-N: the same number of days (weeks, months) immediately before.
    """
    if p.kind in CALENDAR_KINDS:
        s0, e0 = _enclosing(p.kind, p.start, cal)
        prev_s, prev_e = _enclosing(p.kind, s0 - ONE_DAY, cal)
        if (p.start, p.end) == (s0, e0):
            if not p.to_date:
                return _whole(p.kind, prev_s, cal)
            return _partial(p.kind, prev_s, prev_e, cal, to_date=True)
        ns = min(prev_s + (p.start - s0), prev_e)
        ne = min(ns + (p.end - p.start), prev_e)
        return _partial(p.kind, ns, ne, cal, to_date=p.to_date)
    if p.kind in _LAST_N_MONTHS and p.start.day == 1 and p.end_exclusive.day == 1:
        months = (p.end_exclusive.year - p.start.year) * 12 + p.end_exclusive.month - p.start.month
        ns = _add_months(p.start, -months)
        return Period(_range_text(ns, p.start - ONE_DAY), p.kind, ns, p.start - ONE_DAY, n=p.n)
    # range, days, weeks (and odd-shaped month windows): same number of days right before
    ne = p.start - ONE_DAY
    ns = ne - timedelta(days=p.days - 1)
    return Period(_range_text(ns, ne), p.kind, ns, ne, to_date=p.to_date, n=p.n)


def year_ago(p: Period, cal: Calendar) -> Period:
    """The same window one year earlier (for "vs last year").

    Days and months keep their calendar dates (Feb 29 -> Feb 28); weeks move 52 weeks so weekdays
    line up; fiscal periods move to the same fiscal period of the previous fiscal year.
    """
    if p.kind in ("week", "weeks"):
        ns, ne = p.start - timedelta(weeks=52), p.end - timedelta(weeks=52)
        if _is_whole(p, cal):
            return _whole("week", ns, cal)
        return Period(_range_text(ns, ne), p.kind, ns, ne, to_date=p.to_date, n=p.n,
                      fiscal_label="")
    if _is_whole(p, cal):
        # Calendar periods are month-aligned (or a day), so the enclosing period a year back is the match.
        return _whole(p.kind, _shift_years(p.start, -1), cal)
    if p.kind == "days":  # keep N days, ending on the same date last year
        ne = _shift_years(p.end, -1)
        ns = ne - timedelta(days=p.days - 1)
    elif p.kind in _LAST_N_MONTHS and p.start.day == 1 and p.end_exclusive.day == 1:
        ns, ne = _add_months(p.start, -12), _add_months(p.end_exclusive, -12) - ONE_DAY
    else:
        ns, ne = _shift_years(p.start, -1), _shift_years(p.end, -1)
    return Period(_range_text(ns, ne), p.kind, ns, ne, to_date=p.to_date, n=p.n,
                  fiscal_label=_fiscal_label_of(p.kind, ns, cal))


def _grain(grain: Grain | str) -> Grain:
    try:
        return Grain(grain)
    except ValueError:
        raise QueryError(_("unknown grain '{grain}'").format(grain=grain)
                         + hint_for(str(grain), [g.value for g in Grain])) from None


def buckets(p: Period, grain: Grain | str, cal: Calendar) -> list[Period]:
    """Split ``p`` into consecutive periods of ``grain``; the first and last are clipped to ``p``.

    Whole buckets get absolute texts ("2026-10"); clipped ones get range texts, and the last one is
    ``to_date`` when ``p`` is (ytd by month on 2026-11-27 ends with 2026-11-01..2026-11-27, to date).
    """
    kind = _grain(grain).value
    out: list[Period] = []
    d = p.start
    while d <= p.end:
        if len(out) == MAX_BUCKETS:
            raise QueryError(_("'{period}' by {grain} makes more than {limit} buckets; ask for a shorter period "
                               "or a coarser grain").format(period=p.text, grain=kind, limit=MAX_BUCKETS))
        s, e = _enclosing(kind, d, cal)
        bs, be = max(s, p.start), min(e, p.end)
        if (bs, be) == (s, e):
            out.append(_whole(kind, s, cal))
        else:
            out.append(_partial(kind, bs, be, cal, to_date=p.to_date and be == p.end))
        d = e + ONE_DAY
    return out


def trailing(grain: Grain | str, count: int, cal: Calendar, as_of: date, *,
             include_current: bool = True) -> list[Period]:
    """The last ``count`` periods of ``grain``, oldest first (for sparklines and trend tables).

    With ``include_current`` the last one is the current period to date (range text, ``to_date``;
    for days it is simply ``as_of``); without it, the last one is the previous complete period.
    """
    kind = _grain(grain).value
    if isinstance(as_of, datetime):
        as_of = as_of.date()
    if not isinstance(count, int) or not 1 <= count <= MAX_BUCKETS:
        raise QueryError(_("trailing count must be 1..{limit}, got {count}").format(
            limit=MAX_BUCKETS, count=repr(count)))
    if not MIN_DATE <= as_of <= MAX_DATE:
        raise QueryError(_("as-of date {date} is outside the supported dates ({first}..{last})")
                         .format(date=as_of, first=MIN_DATE.isoformat(), last=MAX_DATE.isoformat()))
    cur_s, _end = _enclosing(kind, as_of, cal)
    if include_current:
        last = _whole(kind, as_of, cal) if kind == "day" else _partial(kind, cur_s, as_of, cal, to_date=True)
    else:
        last = _whole(kind, cur_s - ONE_DAY, cal)
    out = [last]
    for _i in range(count - 1):
        out.append(_whole(kind, out[-1].start - ONE_DAY, cal))
    return out[::-1]


def utc_bounds(p: Period, cal: Calendar) -> tuple[datetime, datetime]:
    """Naive UTC datetimes [local midnight of start, local midnight after end) for UTC timestamp columns.

    DST-correct: in America/New_York the day 2026-03-08 is 23 hours long (05:00Z..04:00Z next day).
    """
    tz = ZoneInfo(cal.timezone)

    def utc(d: date) -> datetime:
        local = datetime(d.year, d.month, d.day, tzinfo=tz)
        return local.astimezone(timezone.utc).replace(tzinfo=None)

    return utc(p.start), utc(p.end_exclusive)


def target_kind(p: Period) -> str | None:
    """The calendar grain a target for ``p`` is set at ("month", "fiscal_quarter"...), None for ranges/last-N.

    To-date and clipped periods keep their kind (mtd -> "month"); check ``p.to_date`` to prorate.
    """
    return p.kind if p.kind in CALENDAR_KINDS else None


# Labels are a module of their own (period_labels imports this one); their public names stay
# reachable as ``metrics_core.periods.*``, loaded on first use so neither module needs the other first.
_LABELS = ("is_window_label", "period_label", "window_label")


def __getattr__(name: str) -> object:
    if name in _LABELS:
        from . import period_labels

        return getattr(period_labels, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

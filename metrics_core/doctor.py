"""`kpi doctor`: what the data does to the numbers, before anyone argues about one (layer: facade).

Runs the checks ``doctor_sql`` builds on the engine (transpiled to its dialect) and turns each
flagged group of rows into a ``Finding``: what is wrong, how many rows, a few example ids, the
metrics it moves and by how many of their rows in the last complete period, and (``doctor_shift``)
the shift in those metrics: the values now and once the rows are fixed where a fix is known, else
the rows' share of each metric's numerator and denominator. Findings are sorted
by severity (error > warning > info); ``DoctorReport.fails(level)`` gives the exit code's answer.

    report = kpi.doctor(as_of=date(2026, 11, 27))
    report.findings[0].message   # "3 won deals rows have no closed_at: won_deals never counts them."
    report.to_json()

Messages are whole sentences with named placeholders (``message``) so they translate as a unit, in
the reader's language, with the Polish plural forms of the row count ("1 wiersz ma", "3 wiersze mają").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from .compile_tables import TableSQL
from .doctor_shift import with_shifts
from .doctor_sql import DoctorSQL, Probe
from .formatting import fmt_count
from .i18n import N_, _, active_locale, ngettext
from .periods import Period, enclosing, resolve_period, today
from .statement import from_duckdb

if TYPE_CHECKING:
    from .api import KPI

SEVERITIES = ("info", "warning", "error")
GRAIN_DAYS = {"day": 1, "week": 7, "month": 31, "quarter": 92, "year": 366}

CHECKS = ("unmapped_value", "unmapped_default", "unmapped_near", "never_matches", "join_unmatched", "duplicate_key",
          "blank_dimension", "future_date", "date_order", "no_time", "no_value", "negative_value", "stale",
          "grain_undeclared", "grain_declared")


def message(check: str, n: int) -> str:  # noqa: C901 - one sentence per check, each its own catalog entry
    """The sentence of a check, for ``n`` flagged rows (days for ``stale``), in the active language."""
    if check == "unmapped_value":
        return ngettext("{count} row of {table} has a {subject} value that its values: mapping does not know; "
                        "it keeps it unchanged ({values}).",
                        "{count} rows of {table} have a {subject} value that its values: mapping does not know; "
                        "they keep it unchanged ({values}).", n)
    if check == "unmapped_default":
        return ngettext("{count} row of {table} has a {subject} value that its values: mapping does not know; "
                        "it counts as '{default}' ({values}).",
                        "{count} rows of {table} have a {subject} value that its values: mapping does not know; "
                        "they count as '{default}' ({values}).", n)
    if check == "unmapped_near":
        return ngettext("{count} row of {table} has a {subject} value that looks like a mapped one but is not in "
                        "its values: mapping ({near}); {fate}.",
                        "{count} rows of {table} have a {subject} value that looks like a mapped one but is not in "
                        "its values: mapping ({near}); {fate}.", n)
    if check == "never_matches":
        return _("{where} compares {table}.{subject} with '{value}', which its values: mapping never produces "
                 "(it gives {produced}): {measures} count no rows.")
    if check == "join_unmatched":
        return ngettext("{count} row of {table} has a {keys} with no match in {joined} ({values}): "
                        "it lands in a blank breakdown row.",
                        "{count} rows of {table} have a {keys} with no match in {joined} ({values}): "
                        "they land in a blank breakdown row.", n)
    if check == "duplicate_key":
        return ngettext("{count} row of {table} shares a {subject} with another row ({values}): it is counted twice.",
                        "{count} rows of {table} share a {subject} with another row ({values}): they are counted twice.", n)
    if check == "blank_dimension":
        return ngettext("{count} row of {table} has a blank {subject}: a breakdown by {subject} shows it as an empty row.",
                        "{count} rows of {table} have a blank {subject}: a breakdown by {subject} shows them as an "
                        "empty row.", n)
    if check == "future_date":
        return ngettext("{count} row of {table} has a {subject} after {as_of} ({values}).",
                        "{count} rows of {table} have a {subject} after {as_of} ({values}).", n)
    if check == "date_order":
        return ngettext("{count} row of {table} has {subject}: the measures reading both dates count it oddly or "
                        "leave it out.",
                        "{count} rows of {table} have {subject}: the measures reading both dates count them oddly or "
                        "leave them out.", n)
    if check == "no_time":
        return ngettext("{count} row that {subject} would count has no {column}: no period ever counts it.",
                        "{count} rows that {subject} would count have no {column}: no period ever counts them.", n)
    if check == "no_value":
        return ngettext("{count} row that {subject} would count has no value for {expr}: it leaves it out.",
                        "{count} rows that {subject} would count have no value for {expr}: it leaves them out.", n)
    if check == "negative_value":
        return ngettext("{count} row that {subject} would count has a negative {expr} ({values}).",
                        "{count} rows that {subject} would count have a negative {expr} ({values}).", n)
    if check == "stale":
        return ngettext("The newest {subject} in {table} is {newest}, {days} day before {as_of}: recent periods look "
                        "empty.",
                        "The newest {subject} in {table} is {newest}, {days} days before {as_of}: recent periods look "
                        "empty.", n)
    if check == "grain_undeclared":
        return _("{table}.{subject} holds only first days of months: declare grain: month on {table} so windows that "
                 "cut a month are prorated or refused instead of getting all or none of it.")
    if check == "grain_declared":
        return _("{table} is dated by {grain}: windows that cut a {grain} are {partial_text}.")
    raise KeyError(check)


PARTIAL_TEXT = {"prorate": N_("prorated by days"), "refuse": N_("refused")}
GRAIN_WORDS = {"week": N_("week"), "month": N_("month"), "quarter": N_("quarter"), "year": N_("year")}
SEVERITY = {"unmapped_value": "info", "unmapped_default": "info", "unmapped_near": "warning", "never_matches": "error",
            "join_unmatched": "warning", "duplicate_key": "error", "blank_dimension": "warning",
            "future_date": "warning", "date_order": "warning", "no_time": "warning", "no_value": "warning",
            "negative_value": "warning", "stale": "warning", "grain_undeclared": "warning", "grain_declared": "info"}


@dataclass(frozen=True)
class Finding:
    check: str  # one of CHECKS (its sentence: message(check, n))
    severity: str  # info | warning | error
    table: str
    subject: str  # column, join alias, measure or dimension
    message: str
    count: int = 0  # rows flagged (0 for checks on the definitions alone)
    examples: tuple[str, ...] = ()  # a few ids of flagged rows
    values: tuple[tuple[str | None, int], ...] = ()  # offending values and their row counts
    metrics: tuple[str, ...] = ()  # metrics whose numbers it moves
    period_rows: int | None = None  # flagged rows inside the checked period
    period_total: int | None = None  # rows the check looked at inside the checked period
    shifts: tuple[Any, ...] = ()  # doctor_shift.Shift: the metrics in the checked period, now and fixed
    detail: dict = field(default_factory=dict, compare=False, repr=False)  # the probe's facts (measures, expr)

    @property
    def period_share(self) -> float | None:
        if not self.period_rows or not self.period_total:
            return None
        return self.period_rows / self.period_total

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check, "severity": self.severity, "table": self.table, "subject": self.subject,
                "message": self.message, "count": self.count, "examples": list(self.examples),
                "values": [{"value": v, "count": n} for v, n in self.values], "metrics": list(self.metrics),
                "period_rows": self.period_rows, "period_total": self.period_total, "period_share": self.period_share,
                "shifts": [x.to_json() for x in self.shifts]}


@dataclass(frozen=True)
class DoctorReport:
    as_of: date
    period: Period  # the last complete period the shifts are counted in
    tables: tuple[str, ...]
    findings: tuple[Finding, ...]

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def fails(self, level: str) -> bool:
        """Any finding at ``level`` or worse (level 'never' never fails)."""
        if level == "never":
            return False
        rank = SEVERITIES.index(level)
        return any(SEVERITIES.index(f.severity) >= rank for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "period": self.period.to_json(), "tables": list(self.tables),
                "counts": {s: self.count(s) for s in reversed(SEVERITIES)},
                "findings": [f.to_json() for f in self.findings]}


def run_doctor(kpi: "KPI", *, as_of: date | None = None, period: str = "last-month") -> DoctorReport:
    as_of = as_of or today(kpi.calendar)
    window = resolve_period(period, kpi.calendar, as_of)
    build = DoctorSQL(kpi.catalog, TableSQL(kpi.catalog, kpi.loaded.base_dir), kpi.calendar, as_of, window)
    affected = _metrics_by_measure(kpi)
    locale = active_locale() or kpi.definitions.locale.locale
    findings: list[Finding] = []
    for nm in build.never_matching_filters():
        findings.append(_finding("never_matches", nm.table, nm.column, _metrics_of(nm.measures, affected),
                                 where=nm.where, value=nm.value, produced=", ".join(f"'{p}'" for p in nm.produced),
                                 measures=", ".join(nm.measures), locale=locale,
                                 detail={"value": nm.value, "measures": nm.measures}))
    probes = build.probes()
    grouped: dict[int, list[dict]] = {}
    if probes:
        for r in _records(kpi.backend.run(from_duckdb(build.batch([p.sql for p in probes]), kpi.dialect), {})):
            grouped.setdefault(int(r["probe_"]), []).append(r)
    for i, probe in enumerate(probes):
        rows = grouped.get(i, [])
        if any(int(r["bad"]) == 1 for r in rows):
            findings += _from_probe(probe, rows, _breakable(kpi, probe, affected), as_of, locale)
    # the newest row of every table in one statement too (one job on Spark, not one per table)
    dated = [(t, sql) for t in build.used_tables() if (sql := build.newest_sql(t))]
    newest: dict[int, list[dict]] = {}
    if dated:
        for r in _records(kpi.backend.run(from_duckdb(build.batch([sql for _t, sql in dated]), kpi.dialect), {})):
            newest.setdefault(int(r["probe_"]), []).append(r)
    for i, (table, _sql) in enumerate(dated):
        findings += _time_findings(kpi, build, table, newest.get(i, []), as_of, affected, locale)
    findings = with_shifts(kpi, findings, period, as_of)
    findings.sort(key=lambda f: (-SEVERITIES.index(f.severity), f.table, f.check, f.subject))
    return DoctorReport(as_of, window, tuple(build.used_tables()), tuple(findings))


# -- turning rows into findings ------------------------------------------------------------------

def _from_probe(probe: Probe, rows: list[dict], affected: dict[str, set[str]], as_of: date,
                locale: str) -> list[Finding]:
    bad = sorted((r for r in rows if int(r["bad"]) == 1),
                 key=lambda r: (-int(r["n"]), r["v"] is None, r["v"] or ""))
    values = {r["v"]: int(r["n"]) for r in bad}
    in_period = {r["v"]: int(r["np"] or 0) for r in bad}
    ids = {r["v"]: tuple(dict.fromkeys(str(x) for x in (r["id_lo"], r["id_hi"]) if x is not None)) for r in bad}
    total = sum(int(r["np"] or 0) for r in rows) if probe.timed else None
    kw: dict[str, Any] = dict(probe.detail, as_of=as_of.isoformat(), locale=locale)
    if probe.check == "join_unmatched":
        kw["keys"] = _(" and ").join(probe.detail["keys"])
    metrics = _metrics_of(probe.measures, affected)

    def part(check: str, chosen: dict, **extra: Any) -> Finding:
        return _finding(check, probe.table, probe.subject, metrics, count=sum(chosen.values()),
                        detail={**probe.detail, "measures": probe.measures, "dims": probe.dims,
                                "scope_rows": sum(int(r["n"]) for r in rows)},
                        examples=tuple(dict.fromkeys(i for v in chosen for i in ids[v]))[:3],
                        values=tuple(chosen.items()),
                        period_rows=sum(in_period[v] for v in chosen) if probe.timed else None,
                        period_total=total, **extra, **kw)

    if probe.check != "unmapped_value":
        return [part(probe.check, values)]
    # A value close to a mapped one is a typo (warning); any other is new and passes on as the mapping says.
    default = probe.detail.get("default")
    near = {v: n for v, n in values.items() if v is not None and _near(v, probe.detail["known"])}
    other = {v: n for v, n in values.items() if v not in near}
    out = []
    if near:
        fate = (_("they count as '{default}'").format(default=default) if default is not None
                else _("they form a group of their own"))
        shown = ", ".join(f"'{v}' ×{fmt_count(n, locale)}" for v, n in list(near.items())[:5])
        out.append(part("unmapped_near", near, near=shown, fate=fate))
    if other:
        out.append(part("unmapped_default" if default is not None else "unmapped_value", other))
    return out


def _time_findings(kpi: "KPI", build: DoctorSQL, table: str, rows: list[dict], as_of: date,
                   affected: dict[str, set[str]], locale: str) -> list[Finding]:
    """Stale data (newest row vs today) and the time grain: declared, or monthly data not declared so;
    ``rows``: the table's ``newest_sql`` rows."""
    t = kpi.definitions.tables[table]
    metrics = _metrics_of(build.measures_on(table), affected)
    out = []
    newest = [r for r in rows if r["newest"] is not None]
    if newest:
        latest = max(_day(r["newest"]) for r in newest)
        col = next(r["col"] for r in newest if _day(r["newest"]) == latest)
        grain = t.grain if t.grain != "day" else ("month" if _monthly(newest) else "day")
        if grain == "day":
            expected = as_of - timedelta(days=7)
        else:  # the last complete month (quarter, year) must be there
            expected = enclosing(grain, enclosing(grain, as_of, kpi.calendar)[0] - timedelta(days=1), kpi.calendar)[0]
        if latest < expected:
            days = (as_of - latest).days
            out.append(_finding("stale", table, col, metrics, newest=latest.isoformat(), days=days,
                                as_of=as_of.isoformat(), locale=locale, n=days,
                                detail={"newest": latest.isoformat(), "measures": build.measures_on(table)}))
    if t.grain != "day":
        out.append(_finding("grain_declared", table, t.time or "", metrics, grain=_(GRAIN_WORDS.get(t.grain, t.grain)),
                            partial_text=_(PARTIAL_TEXT[t.partial]), locale=locale))
    else:
        for r in rows:
            if _monthly([r]) and t.columns[r["col"]].type == "date":
                out.append(_finding("grain_undeclared", table, r["col"], metrics, count=int(r["n"]), locale=locale,
                                    detail={"measures": build.measures_on(table)}))
    return out


def _near(value: str, known: tuple[str, ...]) -> bool:
    """'S.M.B.' near 'smb', 'closed wonn' near 'closed won': a typo of a mapped value, not a new one."""
    import difflib

    key = _alnum(value)
    return any(key == _alnum(k) or difflib.SequenceMatcher(None, key, _alnum(k)).ratio() >= 0.85 for k in known)


def _alnum(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _monthly(rows: list[dict]) -> bool:
    """Every date on the 1st, over at least three distinct months: the data is monthly."""
    return all(int(r["off_first"] or 0) == 0 and int(r["days"] or 0) >= 3 for r in rows)


def _finding(check: str, table: str, subject: str, metrics: tuple[str, ...], *, count: int = 0,
             examples: tuple[str, ...] = (), values: tuple = (), period_rows: int | None = None,
             period_total: int | None = None, locale: str = "en_US", n: int | None = None, detail: dict | None = None,
             **kw: Any) -> Finding:
    blank = _("blank")
    shown = ", ".join(f"'{v}' ×{fmt_count(c, locale)}" if v is not None else f"{blank} ×{fmt_count(c, locale)}"
                      for v, c in values[:5])
    if len(values) > 5:
        shown += ", " + _("… {count} more").format(count=fmt_count(len(values) - 5, locale))
    text = message(check, count if n is None else n).format(count=fmt_count(count, locale), table=table,
                                                          subject=subject, values=shown, **kw)
    return Finding(check, SEVERITY[check], table, subject, text, count, examples, values, metrics,
                   period_rows, period_total, detail=detail or {})


def _metrics_by_measure(kpi: "KPI") -> dict[str, set[str]]:
    """Measure -> every metric whose value it feeds (through derived metrics too)."""
    cat = kpi.catalog
    out: dict[str, set[str]] = {}

    def walk(metric: str, root: str, seen: frozenset[str]) -> None:
        m = kpi.definitions.metrics.get(metric)
        if m is None or metric in seen:
            return
        measures, subs = cat.metric_refs(metric)
        for meas in measures:
            out.setdefault(meas, set()).add(root)
        for sub in subs:
            walk(sub, root, seen | {metric})

    for name in kpi.definitions.metrics:
        walk(name, name, frozenset())
    return out


def _breakable(kpi: "KPI", probe: Probe, affected: dict[str, set[str]]) -> dict[str, set[str]]:
    """For a blank dimension, only the metrics that may be broken down by it (their ``dimensions:``)."""
    if probe.check != "blank_dimension":
        return affected
    cat = kpi.catalog
    return {meas: {m for m in metrics if probe.subject in cat.metric_dimensions(m)} for meas, metrics in affected.items()}


def _metrics_of(measures: tuple[str, ...], affected: dict[str, set[str]]) -> tuple[str, ...]:
    return tuple(sorted(set().union(*(affected.get(m, set()) for m in measures)))) if measures else ()


def _records(frame: Any) -> list[dict]:
    """Rows as dicts with lower-case keys, NaN/NaT as None (engines differ in both)."""
    if hasattr(frame, "records"):  # Columns, what backends return: NaN already None
        frame = frame.records()
    elif hasattr(frame, "to_dict"):
        frame = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [{str(k).lower(): v for k, v in r.items()} for r in frame]


def _day(v: Any) -> date:
    if hasattr(v, "date") and callable(v.date):
        return v.date()
    if isinstance(v, str):
        return date.fromisoformat(v[:10])
    return v

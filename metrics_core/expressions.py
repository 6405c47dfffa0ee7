"""SQL snippets from definitions.yaml, parsed with SQLGlot and checked (layer: definitions; pure).

A snippet is one scalar expression (``stage = 'won'``, ``date_diff('day', created_at, closed_at)``,
``account.segment``). It may use columns of its table, ``alias.column`` of the table's joins,
literals, operators, CASE and scalar functions. It may not hold a subquery, an aggregate, a
window, or a statement: aggregation is the measure's ``agg``, and nothing in the file can run
arbitrary SQL except a table's explicit ``source: {sql: ...}``.

Functions are allowed by name (``ALLOWED_FUNCTIONS``: scalar functions SQLGlot knows and renders
in every engine kpi runs on), so ``read_csv('/etc/passwd')``, ``getenv('PGPASSWORD')``, ``glob``
or a misspelt ``datediff_days`` are refused at load with file:line, not at query time.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError

from .errors import ExprError, hint_for  # noqa: F401 - ExprError re-exported (catalog raises it without SQLGlot)
from .i18n import _, fmt_int

FORBIDDEN = (exp.Select, exp.Subquery, exp.Union, exp.AggFunc, exp.Window, exp.Insert, exp.Delete,
             exp.Update, exp.Drop, exp.Create, exp.Command, exp.Placeholder, exp.Star, exp.Parameter,
             exp.SessionParameter)

MAX_SNIPPET = 2000  # characters; a snippet is one expression, not a program
# SQLGlot expression classes of scalar functions (and the operators SQLGlot models as functions).
ALLOWED_FUNCTIONS = frozenset({
    "And", "Or", "Xor", "Case", "If", "Cast", "TryCast", "Coalesce", "Nullif", "Greatest", "Least",
    "Lower", "Upper", "Trim", "Length", "Substring", "Concat", "ConcatWs", "Replace", "Left", "Right",
    "SplitPart", "StrPosition", "Contains", "StartsWith", "EndsWith", "RegexpLike", "RegexpReplace",
    "Initcap", "Pad",
    "Abs", "Round", "Floor", "Ceil", "Sign", "Sqrt", "Ln", "Log", "Exp", "Pow", "SafeDivide",
    "DateDiff", "DateAdd", "DateSub", "TimestampTrunc", "DateTrunc", "Extract", "Year", "Month", "Day",
    "Quarter", "Week", "DayOfWeek", "DayOfMonth", "DayOfYear", "WeekOfYear", "CurrentDate",
    "StrToDate", "StrToTime", "TimeToStr", "DateFromParts", "TsOrDsToDate",
})


def function_name(node: exp.Func) -> str:
    """The name a user wrote: ``read_text`` for unknown functions, SQLGlot's name (``DATE_DIFF``) else."""
    return node.name if isinstance(node, exp.Anonymous) else node.sql_name()


def allowed_function_names() -> list[str]:
    """The allowed functions as typed (operators SQLGlot models as functions left out)."""
    return sorted(getattr(exp, c).sql_name().lower() for c in ALLOWED_FUNCTIONS - {"And", "Or", "Xor", "Case"})


@dataclass(frozen=True)
class ColumnRef:
    qualifier: str  # "" for the table's own column, else a join alias
    name: str


def parse_snippet(sql: str, dialect: str) -> exp.Expression:
    """Parse one scalar SQL expression; raise ExprError with a short reason. Returns a fresh copy."""
    return _parse_snippet(sql, dialect).copy()


@lru_cache(maxsize=4096)
def _parse_snippet(sql: str, dialect: str) -> exp.Expression:
    # Definitions hold a few dozen snippets, each parsed many times while compiling: parse once.
    if not isinstance(sql, str) or not sql.strip():
        raise ExprError(_("empty SQL expression"))
    if len(sql) > MAX_SNIPPET:
        raise ExprError(_("SQL expression of {count} characters; the limit is {limit}").format(
            count=fmt_int(len(sql)), limit=fmt_int(MAX_SNIPPET)))
    if ";" in sql:
        raise ExprError(_("one expression only (no ';')"))
    try:
        node = sqlglot.parse_one(f"SELECT {sql}", read=dialect)
    except ParseError as e:
        first = str(e).splitlines()[0] if str(e) else _("a syntax error")  # SQLGlot's words, quoted
        if "Required keyword" in first or "Expected" in first:
            first = _("it is incomplete (an operator without its operand?)")
        raise ExprError(_cannot_parse(sql, first)) from e
    except RecursionError:
        raise ExprError(_("cannot parse SQL '{sql}...': nested too deeply").format(sql=sql[:60])) from None
    except (SqlglotError, ValueError) as e:  # TokenError (an unclosed quote), odd literals
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ExprError(_cannot_parse(sql, first)) from e
    if not isinstance(node, exp.Select) or len(node.expressions) != 1 or node.args.get("from_") or node.args.get("from"):
        raise ExprError(_("'{sql}' is not one scalar expression").format(sql=sql))
    expr = node.expressions[0]
    if isinstance(expr, exp.Alias):
        raise ExprError(_("'{sql}': no aliases (AS) in an expression").format(sql=sql))
    for bad in expr.find_all(*FORBIDDEN):
        what = type(bad).__name__.lower()  # SQLGlot's node name: "sum", "select", "window"
        raise ExprError(_("'{sql}': {what} is not allowed here (aggregation is the measure's agg; no "
                          "subqueries)").format(sql=sql, what=what))
    for fn in expr.find_all(exp.Func):
        if type(fn).__name__ not in ALLOWED_FUNCTIONS:
            name = function_name(fn).lower()
            raise ExprError(_("'{sql}': function '{name}' is not allowed in a snippet").format(sql=sql, name=name)
                            + hint_for(name, allowed_function_names(), what=_("allowed functions")))
    return expr


def column_refs(expr: exp.Expression) -> list[ColumnRef]:
    """Every column the expression reads, as (qualifier, name)."""
    refs = []
    for col in expr.find_all(exp.Column):
        parts = [p.name for p in col.parts]
        if len(parts) == 1:
            refs.append(ColumnRef("", parts[0]))
        elif len(parts) == 2:
            refs.append(ColumnRef(parts[0], parts[1]))
        else:
            refs.append(ColumnRef(".".join(parts[:-1]), parts[-1]))
    return refs


def identifiers(expr: exp.Expression) -> list[str]:
    """Bare names used in a derived-metric expression (metric names, constants, period_days)."""
    names = []
    for col in expr.find_all(exp.Column):
        if col.table:
            raise ExprError(_("'{column}': a derived expression names metrics, not table columns").format(
                column=col.sql()))
        names.append(col.name)
    return names


def _cannot_parse(sql: str, reason: str) -> str:
    return _("cannot parse SQL '{sql}': {reason}").format(sql=sql, reason=reason)

"""Free words -> the core's query grammar, for mentions (pure apart from asking the KPI to match names).

    "<@U0BOT> what was win rate last quarter by region?"  ->  "win_rate last-quarter by region"
    "cac ytd vs last year please"                         ->  "cac ytd vs last-year"

The metric is found by ``kpi.match_metric`` (names, synonyms, labels; tolerant), the period by trying
the longest runs of words (3, 2, 1) with the core's own period parser, "by X[, Y]" against the
metric's dimensions (close spellings accepted). Unknown words are ignored.
"""

from __future__ import annotations

import html
import re
from datetime import date
from typing import Any

from metrics_core.errors import QueryError, suggest
from metrics_core.i18n import gettext as _
from metrics_core.periods import Calendar, resolve_period

_MENTION = re.compile(r"<[@#!][^>]*>")
_BY = re.compile(r"\b(?:by|per|split by|broken down by)\s+([a-z_]+(?:\s*(?:,|and)\s*[a-z_]+)*)")
_VS = re.compile(r"\b(?:vs\.?|versus|compared (?:to|with))\s+(last[\s-]year|previous|prior|the previous \w+)")
_STOP = {"what", "was", "is", "the", "our", "for", "in", "of", "a", "an", "how", "did", "do", "does",
         "show", "me", "please", "tell", "about", "and", "were", "are", "give", "s", "kpi", "?"}


def words_of(text: str) -> str:
    text = _MENTION.sub(" ", html.unescape(text)).lower()
    return " ".join(re.sub(r"[^\w\s\-.,]", " ", text).split())


def to_query(kpi: Any, text: str, *, cal: Calendar | None = None, as_of: date | None = None) -> str:
    """The grammar text for a mention; QueryError with a short usage when no metric is found."""
    s = words_of(text)
    info = kpi.match_metric(s)
    if info is None:
        raise QueryError(_("I could not find a metric in that. Try `@kpi win rate last quarter by region`, "
                           "or `/kpi list` to see what I know."))
    parts = [info.name]
    rest, dims = _take_by(s, info.dimensions)
    rest, compare = _take_vs(rest)
    period = _find_period(_without_metric_words(rest, info), cal or Calendar(), as_of or date.today())
    if period:
        parts.append(period)
    if dims:
        parts.append("by " + ", ".join(dims))
    if compare:
        parts.append(f"vs {compare}")
    return " ".join(parts)


def _take_by(s: str, allowed: tuple[str, ...]) -> tuple[str, list[str]]:
    m = _BY.search(s)
    if not m:
        return s, []
    dims = []
    for word in re.split(r"\s*(?:,|\band\b)\s*", m[1]):
        word = word.strip().rstrip("s") if word.strip() not in allowed else word.strip()
        hit = word if word in allowed else next(iter(suggest(word, allowed, cutoff=0.75)), None)
        if hit and hit not in dims:
            dims.append(hit)
    return s[: m.start()] + " " + s[m.end():], dims


def _take_vs(s: str) -> tuple[str, str | None]:
    m = _VS.search(s)
    if not m:
        return s, None
    kind = "last-year" if m[1].replace(" ", "-") == "last-year" else "previous"
    return s[: m.start()] + " " + s[m.end():], kind


def _without_metric_words(s: str, info: Any) -> list[str]:
    names = {info.name, *info.synonyms, info.label}
    metric_words = {w for n in names for w in re.split(r"[\s_]+", str(n).lower()) if w}
    return [w.strip(".,") for w in s.split() if w.strip(".,") not in metric_words | _STOP]


def _find_period(words: list[str], cal: Calendar, as_of: date) -> str | None:
    for size in (3, 2, 1):
        for i in range(len(words) - size + 1):
            candidate = "-".join(words[i: i + size])
            if _is_period(candidate, cal, as_of):
                return candidate
    return None


def _is_period(text: str, cal: Calendar, as_of: date) -> bool:
    if text.isdigit() and len(text) != 4:  # "3 deals": a lone small number is not a year
        return False
    try:
        resolve_period(text, cal, as_of)
    except (QueryError, ValueError):
        return False
    return True

"""Free words, English or Polish -> the core's query grammar, for mentions (pure apart from asking the KPI).

    "<@U0BOT> what was win rate last quarter by region?"     ->  "win_rate last-quarter by region"
    "cac ytd vs last year please"                            ->  "cac ytd vs last-year"
    "jaki był win rate w zeszłym kwartale wg regionu?"       ->  "win_rate w-zeszłym-kwartale by region"
    "koszt pozyskania klienta w tym roku dla segmentu SMB"   ->  "cac w-tym-roku where segment='SMB'"
    "win rate w EMEA rok do roku"                            ->  "win_rate where region='EMEA' vs last-year"

The metric is found by ``kpi.match_metric`` (names, synonyms, labels; tolerant), the period by trying
the longest runs of words (4 to 1) with the core's own period parser (which reads Polish), "by X" / "wg X"
against the metric's dimensions (close spellings and Polish endings accepted: "regionu"), filters as
"dla segmentu SMB" / "segment SMB" / "w EMEA" (a value the dimension takes, asked of the KPI only when
words are left). Words that look like a period but are none, and words left over once everything else
is read, are refused with what was not understood: never a silent fallback to the default period.
"""

from __future__ import annotations

import html
import re
from datetime import date
from typing import Any

from metrics_core.errors import QueryError, suggest
from metrics_core.i18n import gettext as _
from metrics_core.periods import MONTHS, Calendar, fold, resolve_period

_MENTION = re.compile(r"<[@#!][^>]*>")
_BY = re.compile(r"\b(?:by|per|split by|broken down by|wg\.?|według|wedlug|w podziale na|z podziałem na|po)\s+"
                 r"(\w+(?:\s*(?:,|and|i)\s*\w+)*)")
_VS = re.compile(r"\b(?:vs\.?|versus|compared (?:to|with)|w porównaniu (?:z|ze|do)|w porownaniu (?:z|ze|do)|względem"
                 r"|wzgledem)\s+(last[\s-]year|previous|prior|the previous \w+|rok do roku|(?:zeszłym|poprzednim|"
                 r"ubiegłym) rokiem|rokiem wcześniej|poprzednim okresem|poprzedni\w*)")
_YOY = re.compile(r"\b(?:rok do roku|r/r|rdr|year over year|yoy)\b")
_STOP = {"what", "was", "is", "the", "our", "for", "in", "of", "a", "an", "how", "did", "do", "does",
         "show", "me", "please", "tell", "about", "and", "were", "are", "give", "s", "kpi", "?",
         # Polish: question words and fillers (never words a period needs: ten, tym, od, w...)
         "jaki", "jaka", "jakie", "jaką", "jakim", "był", "była", "było", "były", "jest", "są", "ile", "pokaż",
         "pokaz", "podaj", "proszę", "prosze", "nasz", "nasza", "nasze", "naszego", "naszej", "mi", "czy", "a",
         "o", "jak", "się", "sie", "hej", "cześć", "czesc", "dzięki", "dzieki", "wynosi", "wynosił", "wynosiła",
         "wynosiło", "mamy", "mieliśmy", "i", "oraz", "dla", "w", "we", "z", "na", "wartość", "wartosc", "powiedz"}
_PERIODISH = re.compile(r"^(?:quarter|month|week|year|day|days|weeks|months|years|last|this|previous|ytd|mtd|qtd|q[1-4]"
                        r"|kwartal\w*|kw|miesi\w*|tydzien|tygod\w*|rok|roku|lat|dni|dzien|dnia|ostatni\w*|zeszl\w*"
                        r"|poprzedni\w*|ubiegl\w*|biezac\w*|poczatku|fiskaln\w*|rf\d*|fy\d*)$")


def words_of(text: str) -> str:
    text = _MENTION.sub(" ", html.unescape(text)).lower()
    return " ".join(re.sub(r"[^\w\s\-.,/]", " ", text).split())


def to_query(kpi: Any, text: str, *, cal: Calendar | None = None, as_of: date | None = None) -> str:
    """The grammar text for a mention; QueryError saying what was not understood."""
    s = words_of(text)
    info = kpi.match_metric(s)
    if info is None:
        raise QueryError(_("I could not find a metric in that. Try `@kpi win rate last quarter by region`, "
                           "or `/kpi list` to see what I know."))
    parts = [info.name]
    rest, dims = _take_by(s, info.dimensions)
    rest, compare = _take_vs(rest)
    words = _without_metric_words(rest, info)
    words, period = _find_period(words, cal or Calendar(), as_of or date.today())
    words, where = _take_filters(kpi, info, words, text)
    left = [w for w in words if w not in _STOP and w.strip(".,")]
    if left and (period is None and any(_PERIODISH.match(fold(w)) or fold(w) in MONTHS for w in left)):
        raise QueryError(_("I did not understand the period in '{words}'; try e.g. `last quarter`, "
                           "`zeszły kwartał`, `od początku roku`, `III kw. 2026`").format(words=" ".join(left)))
    if left:
        raise QueryError(_("I did not understand '{words}' in that question; I read: `{query}`")
                         .format(words=" ".join(left), query=_grammar(parts, period, dims, where, compare)))
    return _grammar(parts, period, dims, where, compare)


def _grammar(parts: list[str], period: str | None, dims: list[str], where: list[tuple[str, str]],
             compare: str | None) -> str:
    out = list(parts)
    if period:
        out.append(period)
    if dims:
        out.append("by " + ", ".join(dims))
    if where:
        out.append("where " + " and ".join(f"{d}='{v}'" for d, v in where))
    if compare:
        out.append(f"vs {compare}")
    return " ".join(out)


def _dimension(word: str, allowed: tuple[str, ...]) -> str | None:
    """"regions" / "regionu" / "segmentach" / "regoin" -> a dimension of the metric, else None."""
    word = fold(word.strip())
    if word in allowed:
        return word
    for cut in (word.rstrip("s"), re.sub(r"(?:u|ie|y|ach|ami|ów|ow|a|em|om)$", "", word)):
        if cut in allowed:
            return cut
    return next(iter(suggest(word, allowed, cutoff=0.75)), None)


def _take_by(s: str, allowed: tuple[str, ...]) -> tuple[str, list[str]]:
    m = _BY.search(s)
    if not m:
        return s, []
    dims: list[str] = []
    for word in re.split(r"\s*(?:,|\band\b|\bi\b)\s*", m[1]):
        hit = _dimension(word, allowed) if word.strip() else None
        if hit is None and m[0].startswith("po "):  # "po" is also an ordinary word: leave it be
            return s, []
        if hit and hit not in dims:
            dims.append(hit)
    return s[: m.start()] + " " + s[m.end():], dims


def _take_vs(s: str) -> tuple[str, str | None]:
    m = _VS.search(s)
    if m:
        said = fold(m[1]).replace(" ", "-")
        kind = "last-year" if said in ("last-year",) or "rok" in said else "previous"
        return s[: m.start()] + " " + s[m.end():], kind
    m = _YOY.search(s)
    if m:
        return s[: m.start()] + " " + s[m.end():], "last-year"
    return s, None


def _without_metric_words(s: str, info: Any) -> list[str]:
    names = {info.name, *info.synonyms, info.label}
    metric_words = {w for n in names for w in re.split(r"[\s_]+", str(n).lower()) if w}
    return [w.strip(".,?!") for w in s.split() if w.strip(".,?!") not in metric_words | {"kpi"}]


def _find_period(words: list[str], cal: Calendar, as_of: date) -> tuple[list[str], str | None]:
    for size in (4, 3, 2, 1):
        for i in range(len(words) - size + 1):
            run = [w for w in words[i: i + size]]
            if run[0] in _STOP - {"w", "we", "z", "na"} or run[-1] in _STOP:
                continue
            candidate = "-".join(run)
            if _is_period(candidate, cal, as_of):
                return words[:i] + words[i + size:], candidate
    return words, None


def _is_period(text: str, cal: Calendar, as_of: date) -> bool:
    if text.isdigit() and len(text) != 4:  # "3 deals": a lone small number is not a year
        return False
    try:
        resolve_period(text, cal, as_of)
    except (QueryError, ValueError):
        return False
    return True


def _take_filters(kpi: Any, info: Any, words: list[str], raw: str) -> tuple[list[str], list[tuple[str, str]]]:
    """"dla segmentu SMB" / "segment SMB" -> (segment, SMB); "w EMEA" -> (region, EMEA) when EMEA is a region."""
    original = {w.lower().strip(".,?!"): w.strip(".,?!") for w in _MENTION.sub(" ", html.unescape(raw)).split()}
    out: list[tuple[str, str]] = []
    rest: list[str] = []
    i = 0
    while i < len(words):
        dim = _dimension(words[i], info.dimensions) if words[i] not in _STOP and len(words[i]) > 2 else None
        if dim and i + 1 < len(words) and words[i + 1] not in _STOP:
            out.append((dim, original.get(words[i + 1], words[i + 1])))
            i += 2
            continue
        rest.append(words[i])
        i += 1
    left = [w for w in rest if w not in _STOP]
    values = getattr(kpi, "dimension_values", None)
    if not left or values is None:
        return rest, out
    for dim in info.dimensions:
        known = {str(v).lower(): str(v) for v in values(info.name, dim)}
        for w in list(left):
            if w in known:
                out.append((dim, known[w]))
                left.remove(w)
                rest.remove(w)
    return rest, out

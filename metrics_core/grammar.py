"""The question grammar, the same in the terminal and in Slack (layer: query parsing; pure).

    <metric> [period] [by dim[, dim]] [where <filter>] [vs previous|last-year|none|<period>]
             [grain day|week|month|quarter|year]

    <filter>: dim=value, dim != value, dim in (a, b), dim not in (a, b), amount > 50000,
              closed_at >= 2026-01-01, joined by and / or, with parentheses (see filters.py)

    "cac last-quarter"
    "win rate this month by region"                        (synonyms and spaces are fine)
    "conversion_rate 2026-Q3 where source=webinar vs last-year"
    "win_rate last-quarter where segment != SMB and (region = EMEA or amount > 50000)"
    "sales_cycle_days last-6-months grain month"           ("by month" means the same)
    "win_rate, avg_deal_size, cac last-quarter by segment"  (several metrics: commas, "and", "i", "oraz")

Clause keywords split the text; the head is the metric (longest match among names, labels and
synonyms) followed by the period. Values after ``where`` are kept as text: the compiler binds
them as parameters.

Hostile text gets a one-line ``QueryError``, never a crash or minutes of work: the question is at
most ``MAX_QUESTION`` characters, control characters and lone surrogates (which no database can
bind) are refused, and whitespace runs outside quotes become one space before any regex runs (so
``where segment=a<16,000 spaces>b`` cannot backtrack quadratically).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from .catalog import normalize_words
from .errors import QueryError, hint_for, suggest
from .filters import AllOf, Filter, parse_where, split
from .i18n import _
from .phrases import fold, grain_word

MAX_QUESTION = 1000  # characters; the longest real question seen is ~150
GRAINS = ("day", "week", "month", "quarter", "year", "fiscal_quarter", "fiscal_year")
# English and Polish clause words: by = według / wg / po / z podziałem na; where = gdzie;
# vs = w porównaniu z|do / względem.
_CLAUSE = re.compile(r"\s+(by|where|vs\.?|versus|compared\s+to|grain|według|wedlug|wg\.?|po|z\s+podzia[lł]em\s+na"
                     r"|gdzie|w\s+por[oó]wnaniu\s+(?:z|ze|do)|wzgl[eę]dem)\s+", re.IGNORECASE)
_KEYWORD = {"wedlug": "by", "wg": "by", "po": "by", "z podzialem na": "by", "gdzie": "where",
            "w porownaniu z": "vs", "w porownaniu ze": "vs", "w porownaniu do": "vs", "wzgledem": "vs"}
_AND = r"\s+(?:and|i|oraz)\s+"


def usage() -> str:
    """The grammar in one line, in the active language."""
    return _("usage: <metric> [period] [by dim] [where dim=value] [vs previous|last-year] [grain month]")


@dataclass(frozen=True)
class ParsedQuery:
    metric: str
    period: str | None = None
    by: tuple[str, ...] = ()
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()  # the plain dim=value / dim in (...) conjuncts
    compare: str | None = None  # None: the default; "none": no comparison
    grain: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    also: tuple[str, ...] = ()  # more metrics asked in the same question ("win_rate, cac last-quarter")
    condition: Filter | None = None  # the rest of the where clause (!=, >, or, ...): see filters.split

    @property
    def metrics(self) -> tuple[str, ...]:
        return (self.metric, *self.also)


def parse_query(text: str, metric_names: dict[str, str]) -> ParsedQuery:
    """Split ``text`` into its parts; ``metric_names`` maps normalised names/synonyms -> metric."""
    text = (text or "").strip()
    if not text:
        raise QueryError(_("empty question; {usage}").format(usage=usage()))
    if len(text) > MAX_QUESTION:
        raise QueryError(_("the question is {length} characters long; the limit is {limit}")
                         .format(length=f"{len(text):,}", limit=f"{MAX_QUESTION:,}"))
    check_text(text, _("the question"))
    text, quoted = _protect_quotes(text)
    text = " ".join(text.split())  # outside quotes only: keeps 'Small  and Medium' as typed
    parts = _CLAUSE.split(" " + text)
    head, clauses = parts[0].strip(), parts[1:]
    names, period = _split_metrics(head, metric_names)
    metric = names[0]
    by: list[str] = []
    trees: list[Filter] = []
    compare = grain = None
    for kw, body in zip(clauses[::2], clauses[1::2]):
        kw = normalize_words(kw.rstrip("."))
        kw = _KEYWORD.get(fold(kw), kw)
        body = body.strip()
        if kw == "by":
            for item in re.split(r"\s*,\s*|" + _AND, body):
                as_grain = normalize_words(item).replace(" ", "_")
                if as_grain in GRAINS or grain_word(item):
                    grain = as_grain if as_grain in GRAINS else grain_word(item)
                elif item:
                    by.append(item.strip().lower())
        elif kw == "where":
            trees.append(parse_where(body, quoted))
        elif kw == "grain":
            grain = normalize_words(body).replace(" ", "_")
            grain = grain if grain in GRAINS else (grain_word(body) or grain)
            if grain not in GRAINS:
                raise QueryError(_("unknown grain '{grain}'").format(grain=body) + hint_for(body, GRAINS))
        else:  # vs / versus / compared to
            compare = body.lower()
    where, condition = split(trees[0] if len(trees) == 1 else AllOf(tuple(trees)) if trees else None)
    return ParsedQuery(metric, period or None, tuple(dict.fromkeys(by)), where, compare, grain,
                       also=names[1:], condition=condition)


def check_text(text: str, what: str) -> None:
    """Refuse control characters and lone surrogates in user text (tabs and newlines are spaces).

    NUL was the quote marker's delimiter, and DuckDB refuses to bind a lone surrogate ('\\ud800').
    """
    for i, ch in enumerate(text):
        if ch in "\t\n\r":
            continue
        if unicodedata.category(ch) in ("Cc", "Cs"):
            raise QueryError(_("{what} contains the control character U+{code} at position {position}; "
                               "type plain text").format(what=what, code=f"{ord(ch):04X}", position=i + 1))


# After a metric, a comma, "and", "i" or "oraz" followed by another metric continues the list:
# "win_rate,cac last-quarter", "win rate and cac", "win rate i cac zeszły kwartał".
_LIST_SEP = re.compile(r"\s*(?:(,)|(?:and|i|oraz)\s)\s*", re.IGNORECASE)
_WORD = re.compile(r"[^\s,]+")


def _split_metrics(head: str, names: dict[str, str]) -> tuple[tuple[str, ...], str]:
    """The metrics at the start of the head and the period after them:
    "win_rate, cac last-quarter" -> (("win_rate", "cac"), "last-quarter"). After a comma a metric must
    follow (an unknown one is named with did-you-mean); after "and"/"i" the words may be the period."""
    found, rest = _split_head(head, names)
    metrics = [found]
    while (sep := _LIST_SEP.match(rest)) is not None:
        after = rest[sep.end():]
        if sep.group(1) and not after.strip():
            raise QueryError(_("a comma after '{metric}' but no metric follows it").format(metric=metrics[-1]))
        if sep.group(1):  # a comma: the next words are a metric, or an error naming them
            found, rest = _split_head(after, names)
        else:
            try:
                found, rest = _split_head(after, names)
            except QueryError:
                break
        metrics.append(found)
    return tuple(dict.fromkeys(metrics)), rest


def _split_head(head: str, names: dict[str, str]) -> tuple[str, str]:
    spans = list(_WORD.finditer(head))  # "win_rate,cac" is two words, and a name never spans a comma
    words = [w.group() for w in spans]
    upto = next((i + 1 for i in range(len(spans) - 1) if "," in head[spans[i].end():spans[i + 1].start()]),
                len(words))
    longest = max((k.count(" ") + 1 for k in names), default=1)  # "win - rate" is 3 words for 2
    for n in range(min(upto, 2 * longest + 2), 0, -1):  # longest metric name first: "win rate" before "win"
        key = normalize_words(" ".join(words[:n]))
        if key in names:
            return names[key], head[spans[n - 1].end():].strip()
    first = words[0] if words else ""
    # "win rat last quarter": try the first one to three words against names and synonyms
    tries = [" ".join(words[:n]) for n in range(min(3, len(words)), 0, -1)]
    known = sorted(set(names.values()))
    for attempt in tries:
        close = suggest(normalize_words(attempt), list(names))
        if close:
            found = list(dict.fromkeys(names[c] for c in close))
            names_ = _(" or ").join(f"'{f}'" for f in found)
            raise QueryError(_("unknown metric '{name}' (did you mean {names}?); `kpi metrics` lists them")
                             .format(name=attempt, names=names_))
    raise QueryError(_("unknown metric '{name}'").format(name=first) + hint_for(first, known, what=_("metrics"))
                     + _("; `kpi metrics` lists them"))


def _protect_quotes(text: str) -> tuple[str, list[str]]:
    """Swap quoted values for markers so keywords, 'and' and commas inside them are not syntax:
    ``where segment='Small and Medium'`` -> ``where segment=\x000\x00`` + ["Small and Medium"]."""
    quoted: list[str] = []

    def keep(m: re.Match) -> str:
        quoted.append(m.group(2))
        return f"\x00{len(quoted) - 1}\x00"

    out = re.sub(r"(['\"])(.*?)\1", keep, text)
    if "'" in out or '"' in out:
        raise QueryError(_("a quote is not closed; write where dim='a value'"))
    return out, quoted

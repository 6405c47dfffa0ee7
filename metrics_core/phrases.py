"""Periods in words, English and Polish, and every label kpi prints -> canonical period text (layer 1; pure).

``periods.resolve_period`` asks here first; None means "not a phrase", and the canonical forms
("last-quarter", "2026-Q3") take over. Polish is matched without diacritics too ("zeszly kwartal")::

    canonical("zeszły kwartał", as_of)              -> "last-quarter"     (ostatni, poprzedni, ubiegły...)
    canonical("w tym miesiącu", as_of)              -> "this-month"       (ten, bieżący, obecny)
    canonical("od początku roku", as_of)            -> "ytd"
    canonical("ostatnie 6 miesięcy", as_of)         -> "last-6-months"    (ostatnich 30 dni, ostatnie 2 tygodnie)
    canonical("w październiku 2026", as_of)         -> "2026-10"          (październik, października, paź)
    canonical("III kw. 2026", as_of)                -> "2026-Q3"          (III kwartał 2026, w 3 kwartale 2026)
    canonical("rok fiskalny 2027", as_of)           -> "fy2027"           (RF2027, RF2027 Q1 -> "fy2027-q1")
    canonical("dziś" / "wczoraj", as_of)            -> "today" / "yesterday"
    canonical("1 lip–30 wrz 2026", as_of)           -> "2026-07-01..2026-09-30"   (kpi's window labels,
    canonical("Nov 1 – 27, 2026", as_of)            -> "2026-11-01..2026-11-27"    both languages)
    canonical("tydzień od 23 lis 2026", as_of)      -> "week-of-2026-11-23"
    split_to_date("lis 2026 do dziś")               -> ("lis 2026", True)       ("Nov 2026 to date" too)
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from datetime import date

from babel.dates import get_month_names

_UNITS = {  # folded Polish forms -> the grammar's unit
    "week": ("tydzien", "tygodnia", "tygodniu", "tygodnie", "tygodni", "tygodniach"),
    "month": ("miesiac", "miesiaca", "miesiacu", "miesiace", "miesiecy", "miesiacach"),
    "quarter": ("kwartal", "kwartalu", "kwartale", "kwartaly", "kwartalow", "kwartalach"),
    "year": ("rok", "roku", "lata", "lat", "latach"),
    "day": ("dzien", "dnia", "dni", "dniu", "dniach"),
}
_FISCAL = r"(?:fiskalny|fiskalnego|fiskalnym)"
_THIS = r"(?:ten|ta|to|tym|tego|biezacy|biezacym|biezacego|biezaca|obecny|obecnym|obecnego|aktualny|aktualnym)"
_LAST = (r"(?:ostatni|ostatnim|ostatniego|ostatnia|zeszly|zeszlym|zeszlego|zeszla|poprzedni|poprzednim"
         r"|poprzedniego|poprzednia|ubiegly|ubieglym|ubieglego|miniony|minionym|minionego)")
_LAST_N = r"(?:ostatnie|ostatnich|ostatnim|poprzednie|poprzednich|minione|minionych)"
_PREP = r"(?:(?:w|we|z|za|dla|od|na)\s+)?"
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_TO_DATE = re.compile(r"^(.*?\S)\s+(?:to[\s\-]+date|do[\s\-]+dzis|do[\s\-]+dzisiaj|narastajaco)$")
_LOCATIVE = ("styczniu", "lutym", "marcu", "kwietniu", "maju", "czerwcu", "lipcu", "sierpniu", "wrzesniu",
             "pazdzierniku", "listopadzie", "grudniu")
_EN_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
              "october", "november", "december")


def fold(text: str) -> str:
    """Lowercase without Polish diacritics and with plain spaces: "Październik\u00a02026" -> "pazdziernik 2026"."""
    text = unicodedata.normalize("NFKD", str(text).lower().replace("ł", "l"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[\s\u2009\u202f\xa0]+", " ", text).strip()


_CASE_ENDINGS = ("ami", "ach", "owi", "ów", "ow", "om", "ie", "u", "a", "y", "i", "e", "o")


def _stem(word: str) -> str:
    w = fold(word)
    for end in _CASE_ENDINGS:
        if w.endswith(end) and len(w) - len(end) >= 3:
            return w[:-len(end)]
    return w


def inflected(word: str, names: Iterable[str]) -> str | None:
    """The one name among ``names`` that ``word`` is a Polish case form of: "wg segmentu" -> segment,
    "wg branży" -> branza, "po opiekunie" -> opiekun; None when none or several match."""
    stem = _stem(word)
    found = [n for n in names if _stem(n) == stem]
    return found[0] if len(found) == 1 else None


@functools.cache
def _months() -> dict[str, int]:
    names: dict[str, int] = {}
    for i, locative in enumerate(_LOCATIVE, start=1):
        names[locative] = i
        names[_EN_MONTHS[i - 1]] = i
        names[_EN_MONTHS[i - 1][:3]] = i
    names["sept"] = 9
    for width in ("wide", "abbreviated"):
        for context in ("format", "stand-alone"):
            for i, name in get_month_names(width, context, locale="pl").items():
                names[fold(name).rstrip(".")] = i
    return names


class _Months(Mapping[str, int]):
    """Month names (English, Polish in every case, abbreviated) -> month number, read from Babel's Polish
    calendar on first use: a repeated `kpi query` reads its question's plan from the cache (plancache.py)
    and never needs them, and loading a second locale's data costs it 5-8 ms."""

    def __getitem__(self, name: str) -> int:
        return _months()[name]

    def __contains__(self, name: object) -> bool:
        return name in _months()

    def __iter__(self) -> Iterator[str]:
        return iter(_months())

    def __len__(self) -> int:
        return len(_months())


MONTHS: Mapping[str, int] = _Months()


@functools.cache
def _month_words() -> str:
    return "(" + "|".join(sorted(_months(), key=len, reverse=True)) + r")\.?"


def _unit(word: str) -> str | None:
    return next((u for u, forms in _UNITS.items() if word in forms), None)


def split_to_date(text: str) -> tuple[str, bool]:
    """("lis 2026", True) for "lis 2026 do dziś" / "Nov 2026 to date"; (text, False) otherwise."""
    m = _TO_DATE.match(fold(text))
    return (m[1], True) if m else (text, False)


def canonical(text: str, as_of: date) -> str | None:
    """The canonical period text for a phrase or a kpi label, or None when ``text`` is neither."""
    s = fold(text)
    words = re.sub(r"[\s_\-]+", " ", s).strip(" .?!,")
    for rule in (_simple, _this_last, _last_n, _fiscal, _quarter, _month, _year):
        found = rule(words, as_of)
        if found:
            return found
    return _label(s)


def _simple(w: str, as_of: date) -> str | None:
    table = {"dzis": "today", "dzisiaj": "today", "wczoraj": "yesterday", "od poczatku roku": "ytd",
             "od poczatku miesiaca": "mtd", "od poczatku kwartalu": "qtd", "od poczatku tygodnia": "wtd",
             "od poczatku roku fiskalnego": "fytd", "rok do dzis": "ytd", "miesiac do dzis": "mtd"}
    return table.get(re.sub(r"^(?:w|we|na)\s+", "", w))


def _this_last(w: str, as_of: date) -> str | None:
    m = re.fullmatch(_PREP + rf"({_THIS}|{_LAST})\s+(\w+)(?:\s+{_FISCAL})?", w)
    if not m:
        return None
    unit = _unit(m[2])
    if unit in (None, "day"):
        return "yesterday" if unit == "day" and re.fullmatch(_LAST, m[1]) else None
    if w.split()[-1].startswith("fiskaln"):
        if unit not in ("year", "quarter"):
            return None
        unit = "fiscal-" + unit
    return ("this-" if re.fullmatch(_THIS, m[1]) else "last-") + unit


def _last_n(w: str, as_of: date) -> str | None:
    m = re.fullmatch(_PREP + rf"{_LAST_N}\s+(\d{{1,7}})\s+(\w+)", w)
    unit = _unit(m[2]) if m else None
    return f"last-{int(m[1])}-{unit}s" if m and unit else None


def _fy(y: str) -> int:
    return 2000 + int(y) if len(y) == 2 else int(y)


def _fiscal(w: str, as_of: date) -> str | None:
    year = r"(?:(?:rok|roku)\s+fiskaln\w*\s*|rf\s*)(\d{4}|\d{2})"
    m = re.fullmatch(_PREP + year + r"(?:\s+q([1-4]))?", w)
    if m:
        return f"fy{_fy(m[1])}" + (f"-q{m[2]}" if m[2] else "")
    m = re.fullmatch(_PREP + r"(iv|iii|ii|i|[1-4])\s+(?:kw\.?|kwartal\w*)\s+" + year, w) or \
        re.fullmatch(_PREP + r"q([1-4])\s+" + year, w)
    return f"fy{_fy(m[2])}-q{_ROMAN[m[1]]}" if m else None


def _year_or_recent(y: str | None, month: int, as_of: date) -> int:
    """The year given, else this year's ``month`` when it has started by ``as_of``, else last year's."""
    if y:
        return int(y)
    return as_of.year if as_of >= date(as_of.year, month, 1) else as_of.year - 1


def _quarter(w: str, as_of: date) -> str | None:
    m = re.fullmatch(_PREP + r"(iv|iii|ii|i|[1-4])\s*(?:kw\.?|kwartal\w*)(?:\s+(\d{4}))?(?:\s+(?:r|roku)\.?)?", w)
    if not m:
        return None
    q = _ROMAN[m[1]]
    return f"{_year_or_recent(m[2], 3 * q - 2, as_of):04d}-Q{q}"


def _month(w: str, as_of: date) -> str | None:
    m = re.fullmatch(_PREP + _month_words() + r"(?:\s+(\d{4}))?(?:\s+(?:r|roku)\.?)?", w)
    if not m or (m[2] is None and m[1] in ("mar", "maj", "may")):  # "mar" alone is more likely a word
        return None
    month = MONTHS[m[1]]
    return f"{_year_or_recent(m[2], month, as_of):04d}-{month:02d}"


def _year(w: str, as_of: date) -> str | None:
    m = re.fullmatch(r"(?:w\s+)?(?:(?:rok|roku)\s+)?(\d{4})(?:\s+(?:r|rok|roku)\.?)?", w)
    return m[1] if m and not w.isdigit() else None


# ---------------------------------------------------------------- kpi's own labels


def _day_parts(side: str) -> tuple[int | None, int | None, int | None] | None:
    """(day, month, year) of one side of a date label ("Nov 1", "27, 2026", "1 lip", "30 wrz 2026")."""
    day = month = year = None
    for tok in re.findall(r"[^\W\d_]+\.?|\d+", side):
        if tok.isdigit():
            if len(tok) == 4 and year is None:
                year = int(tok)
            elif len(tok) <= 2 and day is None:
                day = int(tok)
            else:
                return None
        elif tok.rstrip(".") in MONTHS and month is None:
            month = MONTHS[tok.rstrip(".")]
        else:
            return None
    return day, month, year


def _label(s: str) -> str | None:
    """Window, day and week labels: "jul 1 – sep 30, 2026", "1–27 lis 2026", "30 lis 2026", "week of ..."."""
    week = re.fullmatch(r"(?:week of|tydzien od)\s+(.+)", s)
    if week:
        d = _one_day(week[1])
        return f"week-of-{d.isoformat()}" if d else None
    sides = [p.strip(" ,") for p in s.split("–")] if "–" in s else [s]
    if len(sides) > 2 or not all(sides):
        return None
    parts = [_day_parts(p) for p in sides]
    if any(p is None or p[0] is None for p in parts):
        return None
    if len(parts) == 1:
        d = _one_day(s)
        return d.isoformat() if d else None
    (d1, m1, y1), (d2, m2, y2) = parts  # type: ignore[misc]
    m1, m2, y1, y2 = m1 or m2, m2 or m1, y1 or y2, y2 or y1  # "Nov 1 – 27, 2026", "1–27 lis 2026"
    try:
        a, b = date(y1, m1, d1), date(y2, m2, d2)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return f"{a.isoformat()}..{b.isoformat()}" if a <= b else None


def _one_day(text: str) -> date | None:
    parts = _day_parts(text.strip(" ,"))
    if parts is None or None in parts:
        return None
    try:
        return date(parts[2], parts[1], parts[0])  # type: ignore[arg-type]
    except ValueError:
        return None


_GRAIN_WORDS = {"day": ("dziennie", "dniami"), "week": ("tygodniowo", "tygodniami"),
                "month": ("miesiecznie", "miesiacami"), "quarter": ("kwartalnie", "kwartalami"),
                "year": ("rocznie", "latami")}


def grain_word(text: str) -> str | None:
    """The grain a Polish word names ("miesiąca", "miesiącach", "miesięcznie" -> "month"), else None."""
    w = fold(text).strip(" .")
    w = re.sub(r"^(?:na|w|po)\s+", "", w)
    return _unit(w) or next((g for g, forms in _GRAIN_WORDS.items() if w in forms), None)

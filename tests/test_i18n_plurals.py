"""Polish plural forms: every ``ngettext`` message picks the right form for every count.

Polish has three forms (CLDR one / few / many): 1 wiersz; 2-4, 22-24, 32-34... wiersze; 0, 5-21, 25-31,
112-114 wierszy. The catalog's ``Plural-Forms`` must pick them, and each message's three strings must
hold the three forms of its noun (a translator who copied the singular into the plural slots fails here).
"""

from __future__ import annotations

import re

from babel.messages.pofile import read_po

from metrics_core import i18n
from metrics_core.i18n import ngettext, use_locale

# (one, few, many) of every noun the Polish catalog counts; a new counted noun goes here with its forms.
NOUNS = [("wiersz", "wiersze", "wierszy"), ("karta", "karty", "kart"), ("kartę", "karty", "kart"),
         ("miara", "miary", "miar"), ("wskaźnik", "wskaźniki", "wskaźników"), ("tabela", "tabele", "tabel"),
         ("problem", "problemy", "problemów"), ("pytanie", "pytania", "pytań"), ("część", "części", "części"),
         ("dzień", "dni", "dni"), ("transakcja", "transakcje", "transakcji"), ("zapytanie", "zapytania", "zapytań"),
         ("ustalenie", "ustalenia", "ustaleń"), ("wartość", "wartości", "wartości"), ("rollup", "rollupy", "rollupów"),
         ("plik", "pliki", "plików"), ("sekunda", "sekundy", "sekund"), ("minuta", "minuty", "minut"),
         ("tydzień", "tygodnie", "tygodni"), ("miesiąc", "miesiące", "miesięcy"), ("kwartał", "kwartały", "kwartałów"),
         ("rok", "lata", "lat"), ("alert", "alerty", "alertów"),
         ("podsumowanie", "podsumowania", "podsumowań")]


def polish_form(n: int) -> int:
    """CLDR's rule for Polish integers, written out independently of the catalog header."""
    if n == 1:
        return 0
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return 1
    return 2


def plural_messages() -> list:
    with (i18n.LOCALE_DIR / "pl" / "LC_MESSAGES" / "kpi.po").open("rb") as f:
        cat = read_po(f, locale="pl", domain="kpi")
    return [m for m in cat if m.id and isinstance(m.id, tuple)]


def test_the_rule_itself() -> None:
    got = {n: polish_form(n) for n in (0, 1, 2, 4, 5, 11, 12, 14, 21, 22, 24, 25, 102, 112, 122)}
    assert got == {0: 2, 1: 0, 2: 1, 4: 1, 5: 2, 11: 2, 12: 2, 14: 2, 21: 2, 22: 1, 24: 1, 25: 2, 102: 1, 112: 2, 122: 1}


def test_every_plural_message_picks_the_right_form_for_0_to_30() -> None:
    messages = plural_messages()
    assert len(messages) >= 10
    wrong = []
    with use_locale("pl_PL"):
        for m in messages:
            for n in [*range(0, 31), 102, 112, 122, 1001]:
                got = ngettext(m.id[0], m.id[1], n)
                if got != m.string[polish_form(n)]:
                    wrong.append(f"{m.id[0]!r} n={n}: {got!r}")
    assert not wrong, "\n".join(wrong)


def test_every_plural_message_declines_its_noun() -> None:
    """The word after the count is the one / few / many form of a counted noun ("{count} wiersz",
    "{count} wiersze", "{count} wierszy"); a message whose count is not followed by a noun is not judged."""
    bad = []
    for m in plural_messages():
        after = [re.search(r"\{\w+\} (\w+)", s) for s in m.string]
        if not all(after):
            continue
        words = tuple(a.group(1) for a in after)
        known = {w for noun in NOUNS for w in noun}
        if (len(set(words)) > 1 and words not in NOUNS) or (len(set(words)) == 1 and words[0] in known):
            bad.append(f"{m.id[0]!r}: {m.string!r}")
    assert not bad, "plural strings without a known noun's three forms (add the noun to NOUNS):\n" + "\n".join(bad)

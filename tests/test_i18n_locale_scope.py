"""Two sets of definitions in two languages answer side by side and never mix (no fixture's help).

Regression: ``set_locale`` (``open_kpi`` outside the CLI's ``guarded``: a test, a plugin) left the
language set for the rest of the thread, and ``KPI`` preferred that language over its own ``locale:``,
so an English KPI asked after a Polish one answered '28 980,00 zł' and 'skuteczność'-style words. Now a
command's language lives only inside ``command_scope``; a KPI speaks its ``locale:`` unless a reader
scope (``use_locale``, a Slack user) says otherwise.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest

from metrics_core import i18n
from metrics_core.api import KPI
from metrics_core.cli import open_kpi

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "pl"
AS_OF = date(2026, 4, 15)
QUESTION = "avg_deal_size 2026-Q1"  # (12 500 + 7 250,50 + 120 000 + 1 149,50 + 4 000) / 5 = 28 980


@pytest.fixture(scope="module")
def pair() -> tuple[KPI, KPI]:
    text = (EXAMPLE / "definitions.yaml").read_text(encoding="utf-8")
    english = text.replace("locale: pl_PL", "locale: en_US", 1)
    assert english != text
    return KPI.from_text(text, base_dir=EXAMPLE), KPI.from_text(english, base_dir=EXAMPLE)


def answers(kpi: KPI) -> tuple[str, str]:
    r = kpi.query(QUESTION, as_of=AS_OF)
    return r.formatted, r.counted


def test_answers_alternate_languages_in_one_thread(pair: tuple[KPI, KPI]) -> None:
    pl, en = pair
    expected = {"pl": ("28\xa0980\xa0zł", "średnia z 5 wygranych transakcji"),
                "en": ("PLN28,980", "average over 5 wygranych transakcji")}  # measure labels are data
    for _round in range(3):
        assert answers(pl) == expected["pl"]
        i18n.set_locale("pl_PL")  # outside any command: must not outlive this line
        assert answers(en) == expected["en"]
        open_kpi(EXAMPLE / "definitions.yaml", cache=False)  # the CLI's opener, called outside `guarded`
        assert answers(en) == expected["en"]
        assert i18n.active_locale() is None and i18n._("{points} pp") == "{points} pp"


def test_answers_alternate_languages_under_threads(pair: tuple[KPI, KPI]) -> None:
    pl, en = pair
    want = {id(pl): answers(pl), id(en): answers(en)}
    assert want[id(pl)] != want[id(en)]
    jobs = [pl, en] * 12
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda k: (id(k), answers(k)), jobs))
    assert got == [(id(k), want[id(k)]) for k in jobs]


def test_a_reader_scope_overrides_the_definitions_and_ends_with_its_block(pair: tuple[KPI, KPI]) -> None:
    pl, en = pair
    with i18n.use_locale("en_US"):  # a Slack user who reads English, on Polish definitions
        assert answers(pl) == ("PLN28,980", "average over 5 wygranych transakcji")
    assert answers(pl) == ("28\xa0980\xa0zł", "średnia z 5 wygranych transakcji")


def test_a_command_speaks_its_language_only_inside_its_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPI_LOCALE", "pl_PL")
    with i18n.command_scope(i18n.env_locale()):
        assert i18n._("{points} pp") == "{points} p.p."
        i18n.set_locale("en_US")
        assert i18n._("{points} pp") == "{points} pp"
        assert i18n.active_locale() is None  # a command's choice is not a reader's: KPIs keep their own
    assert i18n._("{points} pp") == "{points} pp"


@pytest.mark.parametrize(("env", "want"), [({"KPI_LOCALE": "pl_PL", "LANG": "en_US.UTF-8"}, "pl_PL"),
                                           ({"LANG": "pl_PL.UTF-8"}, "pl_PL"), ({"LC_ALL": "C.UTF-8", "LANG": "pl_PL"}, None),
                                           ({"LC_MESSAGES": "pl_PL.utf8@euro"}, "pl_PL"), ({}, None)])
def test_environment_language(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], want: str | None) -> None:
    for name in ("KPI_LOCALE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert i18n.env_locale() == want

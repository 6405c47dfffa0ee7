"""The shipped Polish example (examples/pl): a Pipedrive export from a Polish account, asked in Polish.

transakcje.csv / organizacje.csv / koszty.csv are written as a Polish Pipedrive account and a Polish
spreadsheet write them: CRLF, ";" separators, "dd.mm.rrrr gg:mm" dates, "12 500,00 zł" with a no-break
space, Wygrana / Przegrana / Otwarta, organization names spelled differently in the two files. The
numbers are worked out by hand from the rows; the period is I kw. 2026 (Jan 1 .. Mar 31), asked on
2026-04-15.

I kw. 2026: won 1001 (12 500,00), 1003 (7 250,50), 1007 (120 000,00), 1009 (1 149,50), 1012 (4 000,00);
lost 1002, 1004 (no value), 1011. Not in it: 1006 (won 01.04.2026), 1008 (lost 30.12.2025); open: 1005,
1010, 1013. Created in it: 1003, 1004, 1005, 1006, 1009, 1010, 1011, 1012, 1013 (9).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from rich.console import Console

from metrics_core.api import KPI
from metrics_core.errors import QueryError
from metrics_core.cli_render import render_result

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "pl"
AS_OF = date(2026, 4, 15)


@pytest.fixture(scope="module")
def kpi() -> KPI:
    return KPI.from_path(EXAMPLE / "definitions.yaml")


def test_fixtures_keep_the_polish_export_quirks() -> None:
    for csv in EXAMPLE.glob("*.csv"):
        raw = csv.read_bytes()
        assert raw.count(b"\r\n") == raw.count(b"\n") > 3, f"{csv.name}: not CRLF throughout"
    deals = (EXAMPLE / "transakcje.csv").read_text(encoding="utf-8")
    assert "12\u00a0500,00 zł" in deals and ";Wygrana;" in deals and ";Przegrana;" in deals
    assert (EXAMPLE / "README.md").is_file() and (EXAMPLE.parent.parent / "README.pl.md").is_file()


def test_numbers_worked_out_by_hand(kpi: KPI) -> None:
    ask = lambda q: kpi.query(q, as_of=AS_OF)  # noqa: E731
    assert ask("skuteczność I kw. 2026").value == pytest.approx(5 / 8)
    assert ask("konwersja I kw. 2026").value == pytest.approx(5 / 9)
    assert ask("średnia wartość transakcji I kw. 2026").value == pytest.approx(
        (12_500 + 7_250.50 + 120_000 + 1_149.50 + 4_000) / 5)  # 28 980
    assert ask("cykl sprzedaży I kw. 2026").value == pytest.approx((76 + 85 + 128 + 53 + 43) / 5)  # 77 dni
    # Jan-Mar marketing and sales 15+30+12+30+18+31 = 136 000 (office costs left out); new customers:
    # Kowalski, Wiśniewski (two wins, one customer), Mazur, Kamińska; Nowak's first win is in April
    assert ask("koszt pozyskania klienta I kw. 2026").value == pytest.approx(136_000 / 4)
    assert ask("wartość klienta I kw. 2026").value == pytest.approx(144_900 / 4)


def test_names_spelled_differently_join(kpi: KPI) -> None:
    """"MAZUR PRODUKCJA" = "Mazur Produkcja", "Dąbrowski  Meble" = "Dąbrowski Meble", "wiśniewski i wspólnicy"."""
    r = kpi.query("skuteczność I kw. 2026 wg branza", as_of=AS_OF)
    rates = {row["branza"]: row["value"] for row in r.breakdown.to_dict("records")}
    assert rates == pytest.approx({"Oprogramowanie": 1.0, "Produkcja": 1 / 3, "Logistyka": 0.0})


def test_answers_read_as_polish(kpi: KPI) -> None:
    out = Console(record=True, width=100, color_system=None, force_terminal=False)
    render_result(out, kpi.query("skuteczność I kw. 2026", as_of=AS_OF), kpi)
    text = out.export_text()
    assert "62,5%" in text and "I kw. 2026 · 1 sty–31 mar 2026" in text and "stan na 15 kwi 2026" in text
    assert "5 wygranych transakcji z 8 zamkniętych transakcji" in text  # plural forms from forms:
    assert "cel 50,0%: zrealizowany" in text
    r = kpi.query("koszt pozyskania klienta I kw. 2026", as_of=AS_OF)
    assert r.formatted == "34\u00a0000\u00a0zł" and "4 nowych klientów" in r.counted


def test_a_breakdown_that_makes_no_sense_is_refused_in_polish(kpi: KPI) -> None:
    """By stage, the win rate is 100 % / 0 %: the definition allows only industry, segment and owner."""
    with pytest.raises(QueryError) as e:
        kpi.query("skuteczność I kw. 2026 wg etap", as_of=AS_OF)
    assert str(e.value) == ("nie można podzielić win_rate według 'etap': to nie jest sensowny podział tej metryki "
                            "(dozwolone: branza, opiekun, segment)")


@pytest.mark.parametrize("question", [
    "skuteczność w zeszłym kwartale", "konwersja od początku roku", "cykl sprzedaży ostatnie 6 miesięcy",
    "koszt pozyskania klienta w marcu 2026", "wartość klienta RF2026", "skuteczność I kw. 2026 wg segment vs rok do roku",
    "skuteczność 2026-Q1 gdzie segment=SMB",
])
def test_polish_questions_are_answered(kpi: KPI, question: str) -> None:
    assert kpi.query(question, as_of=AS_OF).metric


@pytest.mark.parametrize(("spoken", "name"), [("wg segmentu", "segment"), ("wg branży", "branza"),
                                              ("po opiekunie", "opiekun"), ("według branzy", "branza")])
def test_a_breakdown_named_in_a_polish_case_form(kpi: KPI, spoken: str, name: str) -> None:
    """Polish says "wg segmentu" (genitive) and "po opiekunie" (locative): the same breakdown as the name."""
    plain = kpi.query(f"skuteczność I kw. 2026 wg {name}", as_of=AS_OF)
    inflected = kpi.query(f"skuteczność I kw. 2026 {spoken}", as_of=AS_OF)
    assert inflected.dimensions == plain.dimensions == (name,)
    rows = lambda r: [(row[name], row["value"], row["sample_size"]) for row in r.breakdown.to_dict("records")]  # noqa: E731
    assert rows(inflected) == rows(plain) and len(rows(plain)) >= 2


def test_case_forms_match_one_name_or_none() -> None:
    from metrics_core.phrases import inflected

    assert inflected("segmentu", ["segment", "region"]) == "segment"
    assert inflected("regionach", ["segment", "region"]) == "region"
    assert inflected("etapu", ["segment", "region"]) is None
    assert inflected("kanału", ["kanal", "kanaly"]) is None  # two names with one stem: ask, do not guess

"""The message catalogs stay complete and correct (no database; reads the code with Babel's extractor).

Fails when code uses a message the Polish catalog lacks (run ``make i18n`` and translate), when a
translation is fuzzy or empty, drops or invents a ``{placeholder}``, or has the wrong plural forms.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from metrics_core import i18n
from metrics_core.i18n import _, available, ngettext, pgettext, use_locale

REPO = Path(__file__).resolve().parent.parent
METHODS = [("metrics_core/**.py", "python"), ("bot/**.py", "python"), ("sheets/**.py", "python")]


def used_messages() -> dict[tuple[str | None, str], tuple[str, int]]:
    """(context, msgid) -> (file, line) for every message the code marks, the way `make i18n` finds them."""
    found = {}
    keywords = {**DEFAULT_KEYWORDS, "_h": None}  # _h: --help texts (i18n.help_gettext), as `make i18n` passes -k _h
    for fname, line, msg, _comments, ctx in extract_from_dir(str(REPO), METHODS, keywords=keywords,
                                                              comment_tags=("TRANSLATORS:",)):
        msgid = msg[0] if isinstance(msg, tuple) else msg
        found[(ctx, msgid)] = (fname, line)
    return found


def catalog(lang: str):
    with (i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "kpi.po").open("rb") as f:
        return read_po(f, locale=lang, domain="kpi")


def test_polish_catalog_is_shipped_and_found() -> None:
    """The .po is read at run time, so it must be package data of an installed kpi (not only in a checkout)."""
    import tomllib

    assert "pl" in available()
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["metrics_core"]
    shipped = {p for pattern in patterns for p in (REPO / "metrics_core").glob(pattern)}
    assert i18n.LOCALE_DIR / "pl" / "LC_MESSAGES" / "kpi.po" in shipped


def test_extraction_finds_the_messages_renderers_emit() -> None:
    """A guard on the guard: the extractor sees the renderers' messages (CLI, Slack, Sheets, core)."""
    used = used_messages()
    for key in [(None, "{points} pp"), (None, "Data through {date}"), (None, "Metric"), ("target", "behind pace"),
                (None, "{period} to date"), (None, "counts: {what}"), (None, "({count} row)")]:
        assert key in used, key
    assert len(used) > 100


@pytest.mark.parametrize("lang", ["pl"])
def test_catalog_has_every_message_the_code_uses(lang: str) -> None:
    cat = catalog(lang)
    have = {(m.context, m.id[0] if isinstance(m.id, tuple) else m.id) for m in cat if m.id}
    missing = [f"{f}:{line}: {key[1]!r}" + (f" (context {key[0]!r})" if key[0] else "")
               for key, (f, line) in sorted(used_messages().items(), key=lambda kv: kv[1]) if key not in have]
    assert not missing, f"{len(missing)} messages missing from {lang}/kpi.po (run `make i18n`, then translate):\n" \
        + "\n".join(missing)


@pytest.mark.parametrize("lang", ["pl"])
def test_no_fuzzy_empty_or_broken_translations(lang: str) -> None:
    cat = catalog(lang)
    problems = []
    for m in cat:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        if m.fuzzy or not all(strings):
            problems.append(f"{ids[0]!r}: fuzzy or untranslated")
            continue
        wanted = set(re.findall(r"\{(\w*)\}", ids[-1]))
        for s in strings:
            if set(re.findall(r"\{(\w*)\}", s)) != wanted:
                problems.append(f"{ids[0]!r}: placeholders {sorted(wanted)} != {s!r}")
        if isinstance(m.id, tuple) and len(strings) != cat.num_plurals:
            problems.append(f"{ids[0]!r}: {len(strings)} plural forms, the language has {cat.num_plurals}")
        problems += [f"{ids[0]!r}: {e}" for e in m.check(cat)]
    assert not problems, "\n".join(problems)


def test_polish_has_three_plural_forms() -> None:
    cat = catalog("pl")
    assert cat.num_plurals == 3
    with use_locale("pl_PL"):
        forms = {n: ngettext("({count} row)", "({count} rows)", n).format(count=n) for n in (1, 2, 4, 5, 12, 22, 112)}
    assert forms == {1: "(1 wiersz)", 2: "(2 wiersze)", 4: "(4 wiersze)", 5: "(5 wierszy)", 12: "(12 wierszy)",
                     22: "(22 wiersze)", 112: "(112 wierszy)"}


def test_english_is_the_default_and_the_fallback() -> None:
    assert _("{points} pp") == "{points} pp"  # no scope: English
    with use_locale("pl_PL"):
        assert _("{points} pp") == "{points} p.p."
        assert pgettext("target", "behind pace") == "poniżej tempa"
        assert _("a message no catalog has") == "a message no catalog has"  # missing: English
        with use_locale("en_US"):
            assert _("{points} pp") == "{points} pp"
        assert _("{points} pp") == "{points} p.p."  # scopes nest and unwind
    with use_locale("de_DE"):  # no German catalog: English words
        assert _("{points} pp") == "{points} pp"


def _binds_underscore(fn: "ast.AST") -> list[int]:
    import ast

    lines = []
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and node.id == "_" and isinstance(node.ctx, ast.Store):
            lines.append(node.lineno)
    return lines


def test_no_function_hides_the_gettext_underscore() -> None:
    """Regression: ``for dim, _ in where`` made ``_`` local, so ``_("cannot filter ...")`` in the same
    function raised TypeError instead of the error message. Modules that translate never bind ``_``."""
    import ast

    bad = []
    for path in sorted([*REPO.glob("metrics_core/**/*.py"), *REPO.glob("bot/**/*.py"), *REPO.glob("sheets/**/*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imports_it = any(isinstance(n, ast.ImportFrom) and (n.module or "").endswith("i18n")
                         and any("_" in (a.name, a.asname) for a in n.names) for n in ast.walk(tree))
        if imports_it:
            bad += [f"{path.relative_to(REPO)}:{line}" for line in _binds_underscore(tree)]
    assert not bad, "rename these throwaway `_` (e.g. to `_unused`):\n" + "\n".join(bad)

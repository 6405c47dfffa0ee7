"""The Sheets add-on's words in every language kpi speaks (layer: sheets; a build step, no I/O at import).

The add-on (``sheets/addon/*.gs``, ``Sidebar.html``) runs in Google's Apps Script, where gettext is not
available: its messages are marked ``kpiT_('...')``, extracted into kpi's catalog by ``make i18n``
(babel.cfg reads them as JavaScript) and translated there like every other message. This module turns
the catalogs into ``sheets/addon/Messages.gs``, a plain object the add-on looks words up in:

    .venv/bin/python -m sheets.addon_messages          # rewrite Messages.gs (make i18n runs it)
    .venv/bin/python -m sheets.addon_messages --check  # exit 1 when Messages.gs is out of date

English is the msgids themselves; a language without a translation of a message falls back to them.
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib.resources import files
from pathlib import Path

from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

ADDON = Path(__file__).resolve().parent / "addon"
TARGET = ADDON / "Messages.gs"
KEYWORD = "kpiT_"
HEADER = ("// The add-on's words per language, made from kpi's gettext catalogs by "
          "`python -m sheets.addon_messages` (make i18n). Do not edit.\n")


def msgids() -> list[str]:
    """Every message the add-on marks with ``kpiT_('...')``, in file order."""
    out: list[str] = []
    for path in sorted(ADDON.glob("*.gs")) + sorted(ADDON.glob("*.html")):
        if path == TARGET:
            continue
        for _line, msg, _comments, _ctx in extract_from_file("javascript", str(path), keywords={KEYWORD: None}):
            if isinstance(msg, str) and msg not in out:
                out.append(msg)
    return out


def catalogs() -> dict[str, dict[str, str]]:
    """language -> {msgid: translation} for the add-on's messages that each catalog translates."""
    wanted = set(msgids())
    locale_dir = Path(str(files("metrics_core") / "locale"))
    out: dict[str, dict[str, str]] = {}
    for po in sorted(locale_dir.glob("*/LC_MESSAGES/kpi.po")):
        language = po.parent.parent.name.split("_")[0]
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parent.parent.name, domain="kpi")
        out[language] = {m.id: m.string for m in catalog
                         if isinstance(m.id, str) and m.id in wanted and m.string and not m.fuzzy}
    return out


def render() -> str:
    body = json.dumps(catalogs(), ensure_ascii=False, indent=1, sort_keys=True)
    return f"{HEADER}var KPI_MESSAGES = {body};\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when Messages.gs is out of date")
    args = ap.parse_args(argv)
    text = render()
    current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
    if args.check:
        if current != text:
            print(f"{TARGET} is out of date: run python -m sheets.addon_messages", file=sys.stderr)
            return 1
        return 0
    if current != text:
        TARGET.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

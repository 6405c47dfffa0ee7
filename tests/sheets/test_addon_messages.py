"""The Sheets add-on's words go through kpi's gettext catalogs (sheets/addon_messages.py)."""

from __future__ import annotations

import re

from sheets import addon_messages


def test_messages_gs_is_made_from_the_current_catalogs() -> None:
    assert addon_messages.TARGET.read_text(encoding="utf-8") == addon_messages.render(), \
        "run: .venv/bin/python -m sheets.addon_messages (make i18n)"


def test_every_addon_message_is_translated_to_polish_with_the_same_placeholders() -> None:
    ids = addon_messages.msgids()
    assert "Sync now" in ids and "Sync failed: {error}" in ids  # the extraction sees Code.gs and Sidebar.html
    polish = addon_messages.catalogs()["pl"]
    missing = [m for m in ids if m not in polish]
    assert not missing, f"add Polish translations to kpi.po for: {missing}"
    for msgid in ids:
        assert sorted(re.findall(r"\{(\w+)\}", msgid)) == sorted(re.findall(r"\{(\w+)\}", polish[msgid])), msgid


def test_no_addon_word_is_left_unmarked() -> None:
    """Literal English words shown to people (menu items, toasts, thrown errors) pass through kpiT_."""
    code = (addon_messages.ADDON / "Code.gs").read_text(encoding="utf-8")
    shown = re.findall(r"(?:addItem|new Error|toast|setTitle)\(\s*'(?!kpi'|kpi: ' \+)[^']*'", code)  # the name kpi is not a word
    assert not shown, f"unmarked words in Code.gs: {shown}"

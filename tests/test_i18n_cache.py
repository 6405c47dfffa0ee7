"""The compiled Polish catalog is cached by the .po file's path, size and mtime (metrics_core/i18n.py)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from metrics_core import i18n


@pytest.fixture
def catalogs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    locale_dir = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, locale_dir)
    monkeypatch.setattr(i18n, "LOCALE_DIR", locale_dir)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    i18n.translations.cache_clear()
    yield locale_dir / "pl" / "LC_MESSAGES" / "kpi.po"
    i18n.translations.cache_clear()


def test_the_compiled_catalog_is_cached_and_follows_edits(catalogs: Path, tmp_path: Path) -> None:
    assert i18n.translations("pl_PL").gettext("a list") == "lista"
    cached = list((tmp_path / "cache" / "kpi" / "catalogs").glob("kpi-pl-*.mo"))
    assert len(cached) == 1
    i18n.translations.cache_clear()
    assert i18n.translations("pl_PL").gettext("a list") == "lista"  # read back from the cache
    # an edited catalog is a new key: the edit shows at once, never the stale compiled form
    text = catalogs.read_text(encoding="utf-8").replace('msgid "a list"\nmsgstr "lista"', 'msgid "a list"\nmsgstr "lista wartości"')
    catalogs.write_text(text, encoding="utf-8")
    os.utime(catalogs, ns=(cached[0].stat().st_mtime_ns + 10**9,) * 2)
    i18n.translations.cache_clear()
    assert i18n.translations("pl_PL").gettext("a list") == "lista wartości"
    assert len(list(cached[0].parent.glob("kpi-pl-*.mo"))) == 2


def test_a_cache_that_cannot_be_written_still_translates(catalogs: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # mkdir under a file fails
    assert i18n.translations("pl_PL").gettext("a list") == "lista"

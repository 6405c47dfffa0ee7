"""Validated definitions kept on disk between processes (layer: definitions, beside load; its own files only).

A one-shot `kpi query` would otherwise parse the YAML and run every semantic check (about 50 ms, most
of it SQLGlot parsing each expression) on every call, although the file rarely changes. After a file
validates, its tree *as written* (before ``${VARS}`` are filled in, so no secret from the environment
reaches the disk) is stored here; the next process whose key matches fills the variables in again and
builds the pydantic model from it (about 1 ms), skipping the YAML parser and the checks.

The key holds everything a successful validation depends on:

- the file: resolved path, size, mtime_ns, and the SHA-256 of its text (an edit that keeps the size
  and the mtime still changes the text);
- the values of the environment variables the text names (only a digest of them is stored);
- the code that validated it: every ``metrics_core`` module's size and mtime, and the versions of
  pydantic, PyYAML, Babel, SQLGlot and Python;
- the name it was read under and the sections checked (``kpi query`` checks none).

Only a file that validated is stored: a broken file is parsed, and reported, every time. One entry
per (file, name, sections): a new version of the file replaces the old entry. Files live in the user's
cache directory (``$XDG_CACHE_HOME/kpi/definitions``, else ``~/.cache/kpi/definitions``), as JSON (no
code runs on load, unlike pickle), written to a temporary name and renamed. A missing, unreadable,
corrupted, foreign-owned or group/world-writable entry is a miss; a directory that cannot be written
only means nothing is kept. ``--no-cache`` skips the lookup (and still stores a fresh result).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from .yamlio import LineDict, LineList

FORMAT = 1  # bump when the layout of an entry changes
SUFFIX = ".json"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "kpi" / "definitions"


# -- the YAML tree (LineDict / LineList with their lines) as JSON and back ---------------------------

def encode(node: Any) -> Any:
    """A tree as JSON data: {"m": [[key, line, value], ...], "l": line} for a mapping, {"s": [[line, value],
    ...], "l": line} for a list, scalars as they are. Anything else (``!!binary``, ``!!set``) raises TypeError."""
    if isinstance(node, LineDict):
        return {"m": [[k, node.lines.get(k), encode(v)] for k, v in node.items()], "l": node.line}
    if isinstance(node, LineList):
        return {"s": [[line, encode(v)] for line, v in zip(node.lines, node)], "l": node.line}
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    raise TypeError(f"cannot keep a {type(node).__name__} in the definitions cache")


def decode(data: Any) -> Any:
    """The tree ``encode`` was given (raises KeyError/TypeError/ValueError on anything it did not write)."""
    if isinstance(data, dict):
        if "m" in data:
            out = LineDict()
            out.line, out.lines = data["l"], {}
            for key, line, value in data["m"]:
                if isinstance(key, (dict, list)):
                    raise TypeError("a key is a scalar")
                out[key] = decode(value)
                out.lines[key] = line
            return out
        items = data["s"]
        seq = LineList(decode(v) for _line, v in items)
        seq.line, seq.lines = data["l"], [line for line, _v in items]
        return seq
    if isinstance(data, list):
        raise TypeError("a bare list is not a node")
    return data


# -- the key -------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def code_version() -> str:
    """Size and mtime of every metrics_core module, and the versions of what validation runs on."""
    here = Path(__file__).resolve().parent
    parts = [sys.version, str(FORMAT)]
    with os.scandir(here) as entries:
        for e in sorted(entries, key=lambda e: e.name):
            if e.name.endswith(".py"):
                st = e.stat()
                parts.append(f"{e.name}:{st.st_size}:{st.st_mtime_ns}")
    for package, marker in (("pydantic", "version.py"), ("pydantic_core", "__init__.py"), ("yaml", "__init__.py"),
                            ("babel", "__init__.py"), ("sqlglot", "_version.py")):
        parts.append(f"{package}:{_stamp(package, marker)}")  # found without importing it (SQLGlot: 0.1 s)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _stamp(package: str, marker: str) -> str:
    try:
        spec = find_spec(package)
        where = list(spec.submodule_search_locations or ()) if spec else []
        st = (Path(where[0]) / marker).stat() if where else None
    except (ImportError, OSError, ValueError):
        return "-"
    return f"{where[0]}:{st.st_size}:{st.st_mtime_ns}" if st else "-"


def key_of(path: Path, text: str, source: str, sections: object, env: tuple[tuple[str, str | None], ...]) -> dict:
    """Everything a stored entry must match; ``path`` is the file as found (it is resolved here)."""
    st = path.stat()
    return {"path": str(path.resolve()), "source": source, "sections": repr(sections), "size": st.st_size,
            "mtime_ns": st.st_mtime_ns, "text": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            "env": hashlib.sha256(json.dumps(env).encode("utf-8")).hexdigest(), "code": code_version()}


def digest(key: dict) -> str:
    """One text for the whole key: what the plan cache (plancache.py) files its entries under."""
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode("utf-8")).hexdigest()


def _entry_path(key: dict, directory: Path) -> Path:
    """One file per (file, name, sections): a new version of the file replaces its entry."""
    name = hashlib.sha256(json.dumps([key["path"], key["source"], key["sections"]]).encode()).hexdigest()[:32]
    return directory / f"{name}{SUFFIX}"


# -- reading and writing entries ------------------------------------------------------------------

def get(key: dict, directory: Path | None = None) -> Any:
    """The tree stored for ``key`` (as written, before ``${VARS}``), or None: absent, another version,
    unreadable, corrupted or not safely ours -- a miss, never an error."""
    path = _entry_path(key, directory or cache_dir())
    try:
        st = path.stat()
        if not ours(st):  # someone else could have written it
            return None
        entry = json.loads(path.read_text(encoding="utf-8"))
        if entry.get("format") != FORMAT or entry.get("key") != key:
            return None
        tree = entry["tree"]
        if entry.get("check") != _checksum(tree):  # truncated or altered: parse the file instead
            return None
        return decode(tree)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None


def put(key: dict, tree: Any, directory: Path | None = None) -> bool:
    """Store the encoded ``tree`` for ``key`` atomically; False when it could not be (nothing raised)."""
    directory = directory or cache_dir()
    try:
        text = json.dumps({"format": FORMAT, "key": key, "check": _checksum(tree), "tree": tree})
    except (TypeError, ValueError, RecursionError):
        return False
    return write_private(_entry_path(key, directory), text.encode("utf-8"))


def write_private(target: Path, data: bytes) -> bool:
    """Write ``data`` to ``target`` atomically, readable and writable by this user only (``mkstemp``'s
    0600, then a rename), creating its directory; False when the disk would not take it (nothing raised)."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            return False
        raise
    return True


def ours(st: os.stat_result) -> bool:
    """A cache file this user owns and no one else may write: only such a file is read."""
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


def _checksum(tree: Any) -> str:
    return hashlib.sha256(json.dumps(tree, sort_keys=True).encode("utf-8")).hexdigest()

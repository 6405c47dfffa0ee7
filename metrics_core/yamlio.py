"""YAML in, plain data out, with the line of every key kept (layer: definitions, no project I/O).

PyYAML's SafeLoader (in yamlparse.py, imported only when a file is parsed) builds ``LineDict``/``LineList``
(a dict/list that also remember where each key or item started), so any later finding -- a pydantic error location like
``("metrics", "cac", "numerator")`` or a semantic rule -- can name ``definitions.yaml:42``.

``${VAR}`` and ``${VAR:-default}`` in string values are replaced from the environment, so secrets
stay out of the file (``url: postgresql://kpi:${PG_PASSWORD}@db/crm``). Nested forms
(``${A:-${B:-x}}``) are refused with their line.

Hostile files are bounded (yamlparse.py): at most ``MAX_CHARS`` characters, ``MAX_DEPTH`` levels of
nesting and ``MAX_NODES`` values once aliases are expanded (a "billion laughs" file of a few lines would
otherwise expand to 10^9 values); keys must be plain values (``? [a, b]: x`` is refused).
"""

from __future__ import annotations

import os
import re
from typing import Any, Callable, Iterable, Mapping

from .errors import Issue, mark_secret
from .i18n import _
from .redaction import SECRET_NAME

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
MAX_CHARS = 2_000_000  # a 500-metric file is ~150 KB
MAX_DEPTH = 40
MAX_NODES = 200_000


class LineDict(dict):
    """A dict that knows the line of each key (1-based) and of the mapping itself."""

    line: int | None = None
    lines: dict[Any, int]


class LineList(list):
    line: int | None = None
    lines: list[int]


def load_yaml(text: str, *, source: str, on_tree: Callable[[Any], None] | None = None) -> tuple[Any, list[Issue]]:
    """Parse YAML text; returns (data, issues). A syntax error is one issue with its line.
    ``on_tree`` sees the tree as written, before ``${VARS}`` are filled in (the definitions cache keeps
    that form, so no secret from the environment is written to disk)."""
    from .yamlparse import parse  # PyYAML: only when a file is parsed (yamlparse.py)

    data, problem = parse(text, source)
    if problem is not None:
        return None, [problem]
    return _finish(data, source, on_tree)


def _finish(data: Any, source: str, on_tree: Callable[[Any], None] | None = None) -> tuple[Any, list[Issue]]:
    if data is None:
        data = LineDict()
        data.line, data.lines = 1, {}
    if on_tree is not None:
        on_tree(data)
    return interpolate(data, source)


def interpolate(data: Any, source: str) -> tuple[Any, list[Issue]]:
    """Fill in every ``${VAR}`` of a tree, in place: (the tree, issues for unset variables)."""
    issues: list[Issue] = []
    data = _interpolate(data, source, (), issues)
    return data, issues


def _interpolate(value: Any, source: str, path: tuple, issues: list[Issue], line: int | None = None) -> Any:
    if isinstance(value, LineDict):
        for k in list(value):
            value[k] = _interpolate(value[k], source, (*path, k), issues, value.lines.get(k))
        return value
    if isinstance(value, LineList):
        for i, item in enumerate(value):
            value[i] = _interpolate(item, source, (*path, i), issues, value.lines[i])
        return value
    if isinstance(value, str) and "${" in value:
        if re.search(r"\$\{[^}]*\$\{", value) or re.search(r"\$\{(?![A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\})", value):
            issues.append(Issue(_("cannot read this ${{...}}: write ${{NAME}} or ${{NAME:-default}} (no nesting, "
                                  "closed with }})").format(), source, line, dotted(path)))
            return value

        def repl(m: re.Match) -> str:
            name, default = m.group(1), m.group(2)
            if name in os.environ:
                if SECRET_NAME.search(name):  # PG_PASSWORD, API_TOKEN: never shown once substituted
                    mark_secret(os.environ[name])
                return os.environ[name]
            if default is not None:
                return default
            issues.append(Issue(_("environment variable {name} is not set (export it, or write "
                                  "${{{name}:-default}})").format(name=name), source, line, dotted(path)))
            return ""
        return _ENV.sub(repl, value)
    return value


def env_names(text: str) -> tuple[str, ...]:
    """The environment variables a text reads: "url: ${PG_URL:-x} ${PG_URL}" -> ("PG_URL",)."""
    return tuple(dict.fromkeys(m.group(1) for m in _ENV.finditer(text)))


def dotted(path: Iterable[Any]) -> str:
    return ".".join(str(p) for p in path)


def line_of(data: Any, path: Iterable[Any]) -> int | None:
    """The line of the deepest key of ``path`` that exists in ``data`` (None when unknown)."""
    line = getattr(data, "line", None)
    node = data
    for part in path:
        if isinstance(node, LineDict) and part in node:
            line = node.lines.get(part, line)
            node = node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.lines[part]
            node = node[part]
        else:
            break
    return line


def plain(data: Any) -> Any:
    """Deep copy into builtin dict/list (for JSON or pickling)."""
    if isinstance(data, Mapping):
        return {k: plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [plain(v) for v in data]
    return data

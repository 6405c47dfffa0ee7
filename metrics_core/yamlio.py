"""YAML in, plain data out, with the line of every key kept (layer: definitions, no project I/O).

PyYAML's SafeLoader builds ``LineDict``/``LineList`` (a dict/list that also remember where each
key or item started), so any later finding -- a pydantic error location like
``("metrics", "cac", "numerator")`` or a semantic rule -- can name ``definitions.yaml:42``.

``${VAR}`` and ``${VAR:-default}`` in string values are replaced from the environment, so secrets
stay out of the file (``url: postgresql://kpi:${PG_PASSWORD}@db/crm``).
"""

from __future__ import annotations

import os
import re
from typing import Any, Iterable, Mapping

import yaml

from .errors import Issue

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class LineDict(dict):
    """A dict that knows the line of each key (1-based) and of the mapping itself."""

    line: int | None = None
    lines: dict[Any, int]


class LineList(list):
    line: int | None = None
    lines: list[int]


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line = node.start_mark.line + 1
    out.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}' (first at line {out.lines[key]})", key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = key_node.start_mark.line + 1
    return out


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(n, deep=True) for n in node.value)
    out.line = node.start_mark.line + 1
    out.lines = [n.start_mark.line + 1 for n in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
# YAML 1.2 booleans only: in YAML 1.1 `on:` (a join's key) and `no`/`yes`/`off` are booleans.
# Dates stay text too: periods and formats are parsed by kpi, not guessed by YAML.
_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    _Loader.yaml_implicit_resolvers.setdefault(_first, []).insert(
        0, ("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")))


def load_yaml(text: str, *, source: str) -> tuple[Any, list[Issue]]:
    """Parse YAML text; returns (data, issues). A syntax error is one issue with its line."""
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        msg = f"{e.problem or e.context}".strip()
        if e.context and e.context_mark and e.problem:  # "while parsing a flow mapping" started earlier
            msg += f" ({e.context} that starts on line {e.context_mark.line + 1})"
        return None, [Issue(f"invalid YAML: {msg}", source, line)]
    except yaml.YAMLError as e:
        return None, [Issue(f"invalid YAML: {e}", source)]
    if data is None:
        data = LineDict()
        data.line, data.lines = 1, {}
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
        def repl(m: re.Match) -> str:
            name, default = m.group(1), m.group(2)
            if name in os.environ:
                return os.environ[name]
            if default is not None:
                return default
            issues.append(Issue(f"environment variable {name} is not set (export it, or write ${{{name}:-default}})",
                                source, line, dotted(path)))
            return ""
        return _ENV.sub(repl, value)
    return value


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

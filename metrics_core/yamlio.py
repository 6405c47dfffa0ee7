"""YAML in, plain data out, with the line of every key kept (layer: definitions, no project I/O).

PyYAML's SafeLoader builds ``LineDict``/``LineList`` (a dict/list that also remember where each
key or item started), so any later finding -- a pydantic error location like
``("metrics", "cac", "numerator")`` or a semantic rule -- can name ``definitions.yaml:42``.

``${VAR}`` and ``${VAR:-default}`` in string values are replaced from the environment, so secrets
stay out of the file (``url: postgresql://kpi:${PG_PASSWORD}@db/crm``). Nested forms
(``${A:-${B:-x}}``) are refused with their line.

Hostile files are bounded: at most ``MAX_CHARS`` characters, ``MAX_DEPTH`` levels of nesting and
``MAX_NODES`` values once aliases are expanded (a "billion laughs" file of a few lines would
otherwise expand to 10^9 values); keys must be plain values (``? [a, b]: x`` is refused).
"""

from __future__ import annotations

import os
import re
from typing import Any, Callable, Iterable, Mapping

import yaml

from .errors import Issue, mark_secret
from .i18n import _, fmt_int
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


# libyaml's parser when PyYAML has it (5x faster: a 500-metric file in 0.3 s instead of 1.7 s); the
# constructors and resolvers below are the same Python code either way.
class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    pass


# libyaml's scanner and parser when PyYAML has them: 10x faster than the pure-Python ones on
# definitions.yaml, which every `kpi` command reads. A file that does not parse is read again by
# the pure-Python loader, whose messages say more ("expected ',' or '}', but got ':'").
class _FastLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line = node.start_mark.line + 1
    out.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (list, dict)):
            raise yaml.constructor.ConstructorError(
                None, None, _("a key must be a name or a number, not a list or mapping"), key_node.start_mark)
        if key in out:
            raise yaml.constructor.ConstructorError(
                None, None, _("duplicate key '{key}' (first at line {line})").format(key=key, line=out.lines[key]),
                key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = key_node.start_mark.line + 1
    return out


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(n, deep=True) for n in node.value)
    out.line = node.start_mark.line + 1
    out.lines = [n.start_mark.line + 1 for n in node.value]
    return out


# YAML 1.2 booleans only: in YAML 1.1 `on:` (a join's key) and `no`/`yes`/`off` are booleans.
# Dates stay text too: periods and formats are parsed by kpi, not guessed by YAML.
_RESOLVERS = {
    k: [(tag, rx) for tag, rx in v if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    _RESOLVERS.setdefault(_first, []).insert(
        0, ("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")))
for _cls in (_Loader, _FastLoader):
    _cls.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _cls.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
    _cls.yaml_implicit_resolvers = _RESOLVERS


class _TooBig(Exception):
    """A document too deep or too big once aliases expand (found before constructing it)."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def load_yaml(text: str, *, source: str, on_tree: Callable[[Any], None] | None = None) -> tuple[Any, list[Issue]]:
    """Parse YAML text; returns (data, issues). A syntax error is one issue with its line.
    ``on_tree`` sees the tree as written, before ``${VARS}`` are filled in (the definitions cache keeps
    that form, so no secret from the environment is written to disk)."""
    if len(text) > MAX_CHARS:
        return None, [Issue(_("the file has {count} characters; the limit is {limit}").format(
            count=fmt_int(len(text)), limit=fmt_int(MAX_CHARS)), source)]
    if _flow_depth(text) > MAX_DEPTH:  # PyYAML's scanner slows quadratically with [[[[ ... (5 s at 1,000)
        return None, [Issue(_too_deep(), source)]
    try:
        return _finish(_load(_FastLoader, text), source, on_tree)
    except _TooBig as e:
        return None, [Issue(str(e), source, e.line)]
    except (yaml.YAMLError, RecursionError):
        pass  # read again below, by the pure-Python loader, for the message
    try:
        data = _load(_Loader, text)  # the reader refuses control characters here
    except _TooBig as e:
        return None, [Issue(str(e), source, e.line)]
    except RecursionError:
        return None, [Issue(_too_deep(), source)]
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        msg = f"{e.problem or e.context}".strip()  # PyYAML's own words, quoted as they are
        if e.context and e.context_mark and e.problem:  # "while parsing a flow mapping" started earlier
            msg = _("{problem} ({context} that starts on line {line})").format(
                problem=msg, context=e.context, line=e.context_mark.line + 1)
        return None, [Issue(_("invalid YAML: {problem}").format(problem=msg), source, line)]
    except yaml.YAMLError as e:
        return None, [Issue(_("invalid YAML: {problem}").format(problem=e), source)]
    return _finish(data, source, on_tree)


def _too_deep() -> str:
    return _("invalid YAML: nested more than {limit} levels deep").format(limit=MAX_DEPTH)


def _load(cls: type, text: str) -> Any:
    """Compose, check the size of the node graph (aliases not expanded), then construct."""
    loader = cls(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        problem = _too_big(node)
        if problem:
            raise _TooBig(problem, node.start_mark.line + 1)
        return loader.construct_document(node)
    finally:
        loader.dispose()


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


def _flow_depth(text: str) -> int:
    """Deepest [ / { nesting outside quotes and comments (a cheap upper bound before parsing)."""
    depth = deepest = 0
    quote = ""
    for m in re.finditer(r"[\[\]{}'\"\n]|(?:^|\s)#", text):
        ch = m.group()[-1]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth = max(depth - 1, 0)
        elif ch == "#":
            nl = text.find("\n", m.end())
            if nl < 0:
                break
            # skip the comment: later matches before nl are ignored below
            quote = "\n"
    return deepest


def _too_big(root: yaml.Node) -> str | None:
    """What is wrong with a composed document's depth or expanded size, or None."""
    if _within_limits(root):  # the common case, told by one cheap pass
        return None
    return _measured(root)


def _within_limits(root: yaml.Node) -> bool:
    """True when the document, aliases expanded, has at most ``MAX_NODES`` values and ``MAX_DEPTH`` levels.
    Walks the expanded tree but stops at either limit, so it costs at most ``MAX_NODES`` steps (a cycle
    or a billion laughs stops there); ``_measured`` then says what is wrong. On definitions.yaml this
    takes 0.3 ms where ``_measured``'s bookkeeping takes 4 ms."""
    count = 0
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES or depth > MAX_DEPTH:
            return False
        if isinstance(node, yaml.MappingNode):
            stack += [(n, depth + 1) for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            stack += [(n, depth + 1) for n in node.value]
    return True


def _measured(root: yaml.Node) -> str | None:
    """Depth and expanded size of a composed document, without expanding it: an alias is the same
    node object as its anchor, so sizes are memoised per node (iterative: no recursion limit)."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    open_: set[int] = set()  # nodes whose children are still being measured
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        kids = _children(node)
        if done:
            open_.discard(id(node))
            size[id(node)] = 1 + sum(size[id(k)] for k in kids)
            depth[id(node)] = 1 + max((depth[id(k)] for k in kids), default=0)
            if depth[id(node)] > MAX_DEPTH:
                return _("the file nests more than {limit} levels deep (line {line})").format(
                    limit=MAX_DEPTH, line=node.start_mark.line + 1)
            if size[id(node)] > MAX_NODES:
                return _("the file expands to more than {limit} values (each *alias repeats its &anchor; "
                         "line {line})").format(limit=fmt_int(MAX_NODES), line=node.start_mark.line + 1)
        elif id(node) not in size:
            if id(node) in open_:
                return _("an alias refers to its own anchor (line {line})").format(line=node.start_mark.line + 1)
            open_.add(id(node))
            stack.append((node, True))
            stack += [(k, False) for k in kids if id(k) not in size]
    return None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


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

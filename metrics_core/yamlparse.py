"""YAML text -> the tree as written, with the line of every key (layer: definitions, no project I/O).

PyYAML's loaders (libyaml's C scanner when present) build ``yamlio.LineDict``/``LineList``; hostile
files are refused before they are constructed (``yamlio.MAX_CHARS`` characters, ``MAX_DEPTH`` levels,
``MAX_NODES`` values once aliases expand). Only ``yamlio.load_yaml`` imports this module, when a file
is actually parsed: a `kpi query` that reads its definitions from the definitions cache (defcache.py)
never loads PyYAML (about 10 ms, most of it compiling the pure-Python reader's character class).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from .errors import Issue
from .i18n import _, fmt_int
from .yamlio import MAX_CHARS, MAX_DEPTH, MAX_NODES, LineDict, LineList


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


def parse(text: str, source: str) -> tuple[Any, Issue | None]:
    """The tree of YAML text as written (``LineDict``/``LineList``, ``${VARS}`` not filled in), or
    ``(None, issue)``: a syntax error, a file too long, too deep or too big once aliases expand."""
    if len(text) > MAX_CHARS:
        return None, Issue(_("the file has {count} characters; the limit is {limit}").format(
            count=fmt_int(len(text)), limit=fmt_int(MAX_CHARS)), source)
    if _flow_depth(text) > MAX_DEPTH:  # PyYAML's scanner slows quadratically with [[[[ ... (5 s at 1,000)
        return None, Issue(_too_deep(), source)
    try:
        return _load(_FastLoader, text), None
    except _TooBig as e:
        return None, Issue(str(e), source, e.line)
    except (yaml.YAMLError, RecursionError):
        pass  # read again below, by the pure-Python loader, for the message
    try:
        return _load(_Loader, text), None  # the reader refuses control characters here
    except _TooBig as e:
        return None, Issue(str(e), source, e.line)
    except RecursionError:
        return None, Issue(_too_deep(), source)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        msg = f"{e.problem or e.context}".strip()  # PyYAML's own words, quoted as they are
        if e.context and e.context_mark and e.problem:  # "while parsing a flow mapping" started earlier
            msg = _("{problem} ({context} that starts on line {line})").format(
                problem=msg, context=e.context, line=e.context_mark.line + 1)
        return None, Issue(_("invalid YAML: {problem}").format(problem=msg), source, line)
    except yaml.YAMLError as e:
        return None, Issue(_("invalid YAML: {problem}").format(problem=e), source)


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
        stack += [(n, depth + 1) for n in _children(node)]
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

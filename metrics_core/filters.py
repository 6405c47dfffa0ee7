"""The ``where`` clause as a tree: =, !=, in, not in, >, >=, <, <=, and/or with parentheses
(layer: query parsing; pure: text in, frozen data out).

    parse_where("segment != SMB and (region = EMEA or amount > 50000)", [])
    -> AllOf((Cond("segment", "!=", ("SMB",)),
              AnyOf((Cond("region", "=", ("EMEA",)), Cond("amount", ">", ("50000",))))))

``and`` binds tighter than ``or``, as in SQL: ``a=1 or b=2 and c=3`` is ``a=1 or (b=2 and c=3)``.
Polish words: ``i``/``oraz`` (and), ``lub``/``albo`` (or), ``w`` (in), ``nie w`` (not in),
``jest``/``nie jest`` (= / !=). A value runs to the next ``and``/``or`` or closing parenthesis, so
``where segment=Mid Market`` is one value; quotes keep keywords inside a value
(``where segment='Small and Medium'``). Values stay text here: ``compile_filters`` checks them
against the field's type and binds each one as a parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator, Union

from .errors import QueryError
from .i18n import _

OPS = ("=", "!=", "in", "not in", ">", ">=", "<", "<=")
NEGATIVE = ("!=", "not in")
ORDERED = (">", ">=", "<", "<=")
_AND = ("and", "i", "oraz")
_OR = ("or", "lub", "albo")
# ( ) , an operator, a quoted value's marker (\x00N\x00, see grammar._protect_quotes), or a word
_TOKEN = re.compile(r"\s*(?:([(),])|(!=|<>|>=|<=|==|=|>|<)|(\x00\d+\x00)|([^\s(),=<>!\x00]+|!))")


@dataclass(frozen=True)
class Cond:
    dim: str
    op: str  # one of OPS
    values: tuple[str, ...]
    text: str = field(default="", compare=False)  # as typed, for messages


@dataclass(frozen=True)
class AllOf:
    parts: tuple["Filter", ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple["Filter", ...]


Filter = Union[Cond, AllOf, AnyOf]


@dataclass(frozen=True)
class _Tok:
    kind: str  # "(" ")" "," "op" "quoted" "word"
    text: str
    start: int
    end: int

    @property
    def word(self) -> str:
        return self.text.lower() if self.kind == "word" else ""


def _tokens(text: str) -> list[_Tok]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            break
        kind = "punct" if m[1] else "op" if m[2] else "quoted" if m[3] else "word" if m[4] else ""
        if kind:
            tok = m[1] or m[2] or m[3] or m[4]
            out.append(_Tok(tok if kind == "punct" else kind, tok, m.start(m.lastindex or 0), m.end()))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str, quoted: list[str]) -> None:
        self.src, self.quoted = text, quoted
        self.toks = _tokens(text)
        self.i = 0

    def peek(self, k: int = 0) -> _Tok | None:
        return self.toks[self.i + k] if self.i + k < len(self.toks) else None

    def shown(self, a: int, b: int) -> str:
        """Source text between two offsets, quotes shown as typed."""
        return re.sub("\x00(\\d+)\x00", lambda q: f"'{self.quoted[int(q.group(1))]}'", self.src[a:b]).strip()

    def restore(self, a: int, b: int) -> str:
        return re.sub("\x00(\\d+)\x00", lambda q: self.quoted[int(q.group(1))], self.src[a:b].strip())

    def parse(self) -> Filter:
        tree = self.either()
        tok = self.peek()
        if tok is not None:
            if tok.kind == ")":
                raise QueryError(_("filter '{text}': a ')' has no '(' before it").format(text=self.shown(0, len(self.src))))
            raise QueryError(_("cannot read filter '{text}'; write dim=value or dim in (a, b)")
                             .format(text=self.shown(tok.start, len(self.src))))
        return tree

    def either(self) -> Filter:
        parts = [self.both()]
        while (tok := self.peek()) is not None and tok.word in _OR:
            self.i += 1
            parts.append(self.both())
        return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))

    def both(self) -> Filter:
        parts = [self.one()]
        while (tok := self.peek()) is not None and tok.word in _AND:
            self.i += 1
            parts.append(self.one())
        flat: list[Filter] = []
        for p in parts:
            flat += p.parts if isinstance(p, AllOf) else [p]
        return flat[0] if len(flat) == 1 else AllOf(tuple(flat))

    def one(self) -> Filter:
        tok = self.peek()
        if tok is not None and tok.kind == "(":
            self.i += 1
            inner = self.either()
            close = self.peek()
            if close is None or close.kind != ")":
                raise QueryError(_("filter '{text}': a '(' is not closed").format(text=self.shown(tok.start, len(self.src))))
            self.i += 1
            return inner
        return self.cond()

    def cond(self) -> Cond:
        first = self.peek()
        start = first.start if first else len(self.src)
        if first is None or first.kind != "word" or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", first.text):
            raise QueryError(_("cannot read filter '{text}'; write dim=value or dim in (a, b)")
                             .format(text=self.shown(start, self._value_end(start))))
        self.i += 1
        op = self.operator()
        if op is None:
            raise QueryError(_("cannot read filter '{text}'; write dim=value or dim in (a, b)")
                             .format(text=self.shown(start, self._value_end(start))))
        dim = first.text.lower()
        if op in ("in", "not in"):
            return self.in_list(dim, op, start)
        a = self.peek()
        b_end = self._scalar_end()
        text = self.shown(start, b_end if a is not None else len(self.src))
        if a is None or a.start >= b_end:
            raise QueryError(_("cannot read filter '{text}'; write dim=value or dim in (a, b)").format(text=text))
        value = self.restore(a.start, b_end)
        if not value:
            raise QueryError(_("filter '{text}' has no value").format(text=text))
        return Cond(dim, op, (value,), text)

    def operator(self) -> str | None:
        tok, nxt = self.peek(), self.peek(1)
        if tok is None:
            return None
        if tok.kind == "op":
            self.i += 1
            return {"<>": "!=", "==": "="}.get(tok.text, tok.text)
        w, n = tok.word, (nxt.word if nxt else "")
        two = {("not", "in"): "not in", ("nie", "w"): "not in", ("is", "not"): "!=", ("nie", "jest"): "!="}
        if (w, n) in two:
            self.i += 2
            return two[(w, n)]
        one = {"in": "in", "w": "in", "is": "=", "jest": "="}
        if w in one:
            self.i += 1
            return one[w]
        return None

    def in_list(self, dim: str, op: str, start: int) -> Cond:
        open_ = self.peek()
        if open_ is None or open_.kind != "(":
            end = self._scalar_end()
            raise QueryError(_("filter '{text}': write {dimension} {op} (a, b)")
                             .format(text=self.shown(start, end), dimension=dim, op=op))
        depth, j = 0, self.i
        while j < len(self.toks):
            depth += {"(": 1, ")": -1}.get(self.toks[j].kind, 0)
            if depth == 0:
                break
            j += 1
        if j >= len(self.toks):
            raise QueryError(_("filter '{text}': a '(' is not closed").format(text=self.shown(start, len(self.src))))
        close = self.toks[j]
        text = self.shown(start, close.end)
        items, a = [], open_.end
        for t in [*(t for t in self.toks[self.i + 1:j] if t.kind == ","), close]:
            items.append(self.restore(a, t.start))
            a = t.end
        self.i = j + 1
        values = tuple(v for v in items if v)
        if not values:
            raise QueryError(_("filter '{text}' has no value").format(text=text))
        return Cond(dim, op, values, text)

    def _scalar_end(self) -> int:
        """Where the value starting at the cursor ends: before ``and``/``or`` or an unmatched ``)``
        (so ``Foo (EU)`` is one value); moves the cursor there."""
        depth = 0
        while (tok := self.peek()) is not None:
            if tok.kind == "(":
                depth += 1
            elif tok.kind == ")":
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and (tok.word in _AND or tok.word in _OR):
                break
            self.i += 1
        return self.toks[self.i - 1].end if self.i > 0 else len(self.src)

    def _value_end(self, start: int) -> int:
        return max(self._scalar_end(), start)


def parse_where(text: str, quoted: list[str]) -> Filter:
    """The tree of a ``where`` body (``quoted``: the values grammar took out, see its _protect_quotes)."""
    return _Parser(text, quoted).parse()


def conds(f: Filter | None) -> Iterator[Cond]:
    if isinstance(f, Cond):
        yield f
    elif f is not None:
        for p in f.parts:
            yield from conds(p)


def split(f: Filter | None) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], Filter | None]:
    """(plain ``dim in (values)`` conjuncts, the rest): the plain part is what filters were before
    issue 11 (rollups, targets, Slack trends read it); the rest travels as a tree."""
    parts = _conjuncts(f)
    plain = [(p.dim, p.values) for p in parts if isinstance(p, Cond) and p.op in ("=", "in")]
    rest = [p for p in parts if not (isinstance(p, Cond) and p.op in ("=", "in"))]
    return tuple(plain), (None if not rest else rest[0] if len(rest) == 1 else AllOf(tuple(rest)))


def _conjuncts(f: Filter | None) -> list[Filter]:
    if f is None:
        return []
    return [c for p in f.parts for c in _conjuncts(p)] if isinstance(f, AllOf) else [f]


def join(plain: tuple[tuple[str, tuple[str, ...]], ...], rest: Filter | None) -> Filter | None:
    """The inverse of ``split``: one tree (None when there is no filter)."""
    parts: list[Filter] = [Cond(d, "in" if len(v) > 1 else "=", tuple(v)) for d, v in plain]
    if rest is not None:
        parts += list(rest.parts) if isinstance(rest, AllOf) else [rest]
    return None if not parts else parts[0] if len(parts) == 1 else AllOf(tuple(parts))


def describe(f: Filter | None, top: bool = True) -> str:
    """The tree as text kpi reads back: ``segment != SMB and (region = EMEA or amount > 50000)``."""
    if f is None:
        return ""
    if isinstance(f, Cond):
        shown = [_quote(v) for v in f.values]
        if f.op in ("in", "not in"):
            return f"{f.dim} {f.op} ({', '.join(shown)})"
        return f"{f.dim} {f.op} {shown[0]}"
    word = " and " if isinstance(f, AllOf) else " or "
    text = word.join(describe(p, False) for p in f.parts)
    return text if top or isinstance(f, AllOf) else f"({text})"


def _quote(value: str) -> str:
    if re.search(r"[\s(),=<>!'\"]", value) or value.lower() in (*_AND, *_OR):
        return "'" + value + "'" if "'" not in value else '"' + value + '"'
    return value

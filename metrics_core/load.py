"""definitions.yaml -> validated ``Definitions`` (layer: definitions).

``parse_definitions(text, source=...)`` is pure (tests pass literal strings);
``load_definitions(path)`` only adds the file read. Every problem -- YAML syntax, shape (pydantic),
meaning (``validate.RULES``), and the ``slack:``/``sheets:`` sections checked by their own
packages through the ``kpi.sections`` entry point -- is collected and raised once as a
``DefinitionError`` whose lines read ``definitions.yaml:42: metrics.cac.numerator: ...``.

A section's validator is imported only when that section is checked: ``sections=True`` checks
every section present (``kpi validate``, the default), ``sections=False`` none (``kpi query``: the
bot's validator alone would pull in APScheduler), ``sections=("slack",)`` just those named.

A file is parsed once per version: the answer is kept in-process, keyed by the text, where it
came from and the environment variables it reads (the bot re-reads on every change; tests and
API users open the same file many times). With ``disk_cache=True`` (`kpi query`) a file that validated is
also kept between processes (defcache.py), so a one-shot command skips the YAML parser and the checks.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import threading
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from pydantic import BaseModel, ValidationError

from .errors import ConfigError, DefinitionError, Issue, hint_for
from .i18n import N_, _, fmt_int, use_locale
from .models import METRIC_TYPES, Definitions
from .yamlio import MAX_CHARS, dotted, env_names, interpolate, line_of, load_yaml

Sections = bool | Iterable[str]
_PARSED: dict[tuple, "Loaded"] = {}  # (text, source, base_dir, sections, env values) -> Loaded
_PARSED_MAX = 32
_PARSED_LOCK = threading.Lock()


@dataclass(frozen=True)
class Loaded:
    """Validated definitions plus where they came from (``raw`` keeps YAML line numbers)."""

    defs: Definitions
    raw: Any
    source: str
    base_dir: Path
    digest: str | None = None  # the file version's key in the definitions cache (defcache.py), when read through it


def find_definitions(path: str | Path | None = None) -> Path:
    """--definitions, then $KPI_DEFINITIONS, then ./definitions.yaml."""
    chosen = path or os.environ.get("KPI_DEFINITIONS") or "definitions.yaml"
    p = Path(chosen)
    if not p.is_file():
        how = "--definitions" if path else ("KPI_DEFINITIONS" if os.environ.get("KPI_DEFINITIONS") else _("the current directory"))
        raise ConfigError(_("no definitions file at '{path}' (from {how}); pass --definitions PATH or set "
                            "KPI_DEFINITIONS").format(path=p, how=how))
    return p


def load_definitions(path: str | Path | None = None, *, sections: Sections = True, disk_cache: bool = False,
                     use_cache: bool = True) -> Loaded:
    """``disk_cache``: keep the validated file between processes (defcache.py; only with ``sections=False``:
    the slack:/sheets: validators are other packages' code, which the cache key does not cover);
    ``use_cache=False`` skips the lookup there but still stores the result (``--no-cache``)."""
    p = find_definitions(path)
    text = _read(p)
    if disk_cache and sections is False:
        return _through_disk(p, text, use_cache)
    return parse_definitions(text, source=str(p), base_dir=p.resolve().parent, sections=sections)


def _through_disk(p: Path, text: str, use_cache: bool) -> Loaded:
    """The definitions of ``p`` from the disk cache when its key matches, else parsed, checked and stored."""
    from . import defcache

    source, base_dir = str(p), p.resolve().parent
    env = tuple((n, os.environ.get(n)) for n in env_names(text))
    key = (text, source, str(base_dir), False, env)
    hit = _PARSED.get(key)
    if hit is not None:
        return hit
    try:
        disk_key = defcache.key_of(p, text, source, False, env)
    except OSError:  # the file went away after it was read
        return parse_definitions(text, source=source, base_dir=base_dir, sections=False)
    tree = defcache.get(disk_key) if use_cache else None
    loaded = _from_tree(tree, source, base_dir) if tree is not None else None
    if loaded is None:
        kept: list[Any] = []
        loaded = _parse(text, source, base_dir, False, on_tree=lambda t: kept.append(_encoded(t)))
        if kept and kept[0] is not None:  # only a file that validated gets here
            defcache.put(disk_key, kept[0])
    loaded = dataclasses.replace(loaded, digest=defcache.digest(disk_key))
    _remember(key, loaded)
    return loaded


def _encoded(tree: Any) -> Any:
    from .defcache import encode

    try:
        return encode(tree)
    except (TypeError, RecursionError):  # a value JSON cannot hold (!!binary): just not kept
        return None


def _from_tree(tree: Any, source: str, base_dir: Path) -> Loaded | None:
    """A stored tree (as written) with the environment filled in again, as the model; None when anything
    differs from what was stored (then the file is parsed and checked as usual)."""
    raw, issues = interpolate(tree, source)
    if issues or not isinstance(raw, dict):
        return None
    try:
        return Loaded(Definitions.model_validate(raw), raw, source, base_dir)
    except ValidationError:
        return None


def _read(p: Path) -> str:
    """The file's text; too big or not UTF-8 is a definition error with its line."""
    if p.stat().st_size > 4 * MAX_CHARS:  # bytes: up to 4 per character; the exact check is on the text
        raise DefinitionError([Issue(_("the file is {size} bytes; the limit is {limit} characters").format(
            size=fmt_int(p.stat().st_size), limit=fmt_int(MAX_CHARS)), str(p))])
    data = p.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise DefinitionError([Issue(_("the file is not UTF-8 text (byte 0x{byte} at byte {offset}); save it as "
                                       "UTF-8").format(byte=f"{data[e.start]:02x}", offset=e.start + 1), str(p), line)]) from None


def parse_definitions(text: str, *, source: str = "definitions.yaml", base_dir: str | Path = ".",
                      sections: Sections = True) -> Loaded:
    """Validated definitions from YAML text (remembered: the same text and environment parse once)."""
    wanted = sections if isinstance(sections, bool) else frozenset(sections)
    key = (text, source, str(base_dir), wanted, tuple((n, os.environ.get(n)) for n in env_names(text)))
    hit = _PARSED.get(key)
    if hit is not None:
        return hit
    loaded = _parse(text, source, Path(base_dir), wanted)
    _remember(key, loaded)
    return loaded


def _remember(key: tuple, loaded: Loaded) -> None:
    with _PARSED_LOCK:
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.pop(next(iter(_PARSED)), None)
        _PARSED[key] = loaded


def _parse(text: str, source: str, base_dir: Path, sections: bool | frozenset[str],
           on_tree: Callable[[Any], None] | None = None) -> Loaded:
    """Every problem in the file's own language (its ``locale:``); a file too broken to say, or that
    says nothing, in the language spoken now (a Slack reader's, the command's KPI_LOCALE/LANG, or English).
    ``on_tree``: sees the YAML tree before ``${VARS}`` are filled in (yamlio.load_yaml)."""
    raw, issues = load_yaml(text, source=source, on_tree=on_tree)  # unset ${VARS} are issues, not a stop
    language = file_locale(raw)
    with use_locale(language):
        if issues and language:  # worded before the file's language was known: word them again
            raw, issues = load_yaml(text, source=source)
        return _validate(raw, list(issues), source, base_dir, sections)


def file_locale(raw: Any) -> str | None:
    """``locale: {locale: pl_PL}`` of a parsed file when it names a language Babel knows, else None."""
    section = raw.get("locale") if isinstance(raw, dict) else None
    value = section.get("locale") if isinstance(section, dict) else None
    if not isinstance(value, str) or not value.strip():
        return None
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(value.strip())
    except (UnknownLocaleError, ValueError, TypeError):
        return None
    return value.strip()


def _validate(raw: Any, issues: list[Issue], source: str, base_dir: Path, sections: bool | frozenset[str]) -> Loaded:
    if raw is not None and not isinstance(raw, dict):
        issues.append(Issue(_("the file must be a mapping (tables:, measures:, metrics: ...)"), source, 1))
    if raw is None or not isinstance(raw, dict):
        raise DefinitionError(issues)
    try:
        defs = Definitions.model_validate(raw)
    except ValidationError as e:
        issues += _pydantic_issues(e, raw, source)
        defs = _without_broken_keys(e, raw)
        if defs is None:
            raise DefinitionError(issues) from None
    from .validate import check  # here, not at the top: a file read from the definitions cache skips it

    issues += check(defs, raw, source)
    if sections:
        issues += _section_issues(defs, raw, source, sections)
    if issues:
        raise DefinitionError(issues)
    return Loaded(defs, raw, source, base_dir)


def _without_broken_keys(err: ValidationError, raw: Any, rounds: int = 3) -> Definitions | None:
    """Validate again with every offending key left out, so the meaning checks run too and one
    `kpi validate` lists everything (a bad timezone and a wrong measure name together). Returns
    None when that would mislead: a missing required key would drop its whole parent, and every
    reference to it would then be reported as unknown."""
    trimmed = copy.deepcopy(raw)
    for _round in range(rounds):
        if any(e["type"] == "missing" for e in err.errors()):
            return None
        for e in err.errors():
            _drop(trimmed, _data_path(trimmed, tuple(e["loc"])))
        try:
            return Definitions.model_validate(trimmed)
        except ValidationError as again:
            err = again
    return None


def _drop(data: Any, path: tuple) -> None:
    if not path:
        return
    node = data
    for part in path[:-1]:
        node = node[part]
    if isinstance(node, dict):
        node.pop(path[-1], None)
    elif isinstance(node, list) and isinstance(path[-1], int) and path[-1] < len(node):
        node[path[-1]] = None


def _section_issues(defs: Definitions, raw: Any, source: str, wanted: bool | frozenset[str]) -> list[Issue]:
    """Let bot/ and sheets/ validate their own sections, without metrics_core importing them."""
    from importlib.metadata import entry_points  # reading every package's metadata takes a while

    issues: list[Issue] = []
    for ep in entry_points(group="kpi.sections"):
        if isinstance(raw.get(ep.name), dict) and (wanted is True or ep.name in wanted):  # another type: the model says
            validate = ep.load()
            for issue in validate(raw[ep.name], defs):
                issues.append(Issue(issue.message, source, issue.line, issue.key or ep.name))
    return issues


# -- pydantic errors -> issues ------------------------------------------------------------------

def _pydantic_issues(err: ValidationError, raw: Any, source: str) -> list[Issue]:
    issues = []
    for e in err.errors():
        loc = tuple(e["loc"])
        path = _data_path(raw, loc)
        issues.append(Issue(_message(e, loc, raw), source, line_of(raw, path), dotted(path)))
    return issues


def _data_path(raw: Any, loc: tuple) -> tuple:
    """Drop the parts of a pydantic location that are not keys in the file (union tags, [key])."""
    node, path = raw, []
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
            path.append(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            path.append(part)
    return tuple(path)


def _message(e: dict, loc: tuple, raw: Any) -> str:
    kind, msg = e["type"], e["msg"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = _allowed_keys(loc[:-1])
        return _("unknown key '{key}'").format(key=key) + hint_for(key, allowed, what=_("allowed keys"))
    if kind == "missing":
        return _("missing required key '{key}'").format(key=loc[-1])
    if kind in ("literal_error", "enum"):
        expected = e.get("ctx", {}).get("expected", "")
        options = [o.strip(" '") for o in expected.replace(" or ", ",").split(",") if o.strip()]
        got = str(e.get("input"))
        return _("'{value}' is not allowed").format(value=got) + hint_for(got, options)
    if kind == "string_pattern_mismatch" and loc and loc[-1] == "[key]":
        return _not_a_name(loc[-2])
    if kind == "string_pattern_mismatch" and loc and loc[-1] == "within":
        return _("'{value}': write the window as a number of days, e.g. '90 days'").format(value=e.get("input"))
    if kind == "string_pattern_mismatch":
        return _not_a_name(e.get("input"))
    if kind == "metric_type":
        given = e.get("input", {}).get("type") if isinstance(e.get("input"), dict) else None
        if given is not None:
            return _("unknown metric type '{type}'").format(type=given) + hint_for(str(given), METRIC_TYPES)
        return _("cannot tell the metric's type: give type: simple|ratio|derived|conversion|constant|cumulative "
                 "(or measure:, numerator:, expr:, base:, value:, since: or window:)")
    if kind == "union_tag_invalid":
        tag = e.get("ctx", {}).get("tag", "")
        return _("unknown metric type '{type}'").format(type=tag) + hint_for(str(tag), METRIC_TYPES)
    bound = e.get("ctx", {})
    if kind == "greater_than_equal":
        return _("expected a number of at least {limit}, not {value}").format(limit=bound.get("ge"), value=_shown(e.get("input")))
    if kind == "greater_than":
        return _("expected a number above {limit}, not {value}").format(limit=bound.get("gt"), value=_shown(e.get("input")))
    if kind == "less_than_equal":
        return _("expected a number of at most {limit}, not {value}").format(limit=bound.get("le"), value=_shown(e.get("input")))
    if kind == "less_than":
        return _("expected a number below {limit}, not {value}").format(limit=bound.get("lt"), value=_shown(e.get("input")))
    if kind in _EXPECTED:
        return _("expected {what}, not {value}").format(what=_(_EXPECTED[kind]), value=_shown(e.get("input")))
    return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")


# pydantic's own words for a wrong type, in the reader's language ("expected a number, not 'abc'")
_EXPECTED = {"int_parsing": N_("a whole number"), "int_type": N_("a whole number"), "int_from_float": N_("a whole number"),
             "float_parsing": N_("a number"), "float_type": N_("a number"), "bool_parsing": N_("true or false"),
             "bool_type": N_("true or false"), "string_type": N_("text"), "dict_type": N_("a mapping (key: value)"),
             "model_type": N_("a mapping (key: value)"), "list_type": N_("a list")}


def _shown(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return _("a mapping") if isinstance(value, dict) else _("a list")
    return repr(value) if isinstance(value, str) else str(value)


def _not_a_name(value: Any) -> str:
    return _("'{name}' is not a valid name (letters, digits and _; not starting with a digit)").format(name=value)


def _allowed_keys(loc: tuple) -> list[str]:
    """Field names of the model at a pydantic location (walks annotations; skips dict keys)."""
    t: Any = Definitions
    for part in loc:
        t = _step(t, part)
        if t is None:
            return []
    t = _strip(t)
    if isinstance(t, type) and issubclass(t, BaseModel):
        return [f.alias or n for n, f in t.model_fields.items()]
    return []


def _strip(t: Any) -> Any:
    while typing.get_origin(t) is typing.Annotated:
        t = typing.get_args(t)[0]
    return t


def _step(t: Any, part: Any) -> Any:
    t = _strip(t)
    origin = typing.get_origin(t)
    if isinstance(t, type) and issubclass(t, BaseModel):
        for n, f in t.model_fields.items():
            if part in (n, f.alias):
                return f.annotation
        extra = typing.get_type_hints(t).get("__pydantic_extra__") if t.model_config.get("extra") == "allow" else None
        return typing.get_args(extra)[1] if extra else None  # a model whose extra keys are typed (rollups:)
    if origin is dict:
        return typing.get_args(t)[1]
    if origin is list:
        return typing.get_args(t)[0]
    if origin in (typing.Union, types.UnionType):
        for member in typing.get_args(t):
            meta = typing.get_args(member)[1:] if typing.get_origin(member) is typing.Annotated else ()
            if any(getattr(m, "tag", None) == part for m in meta):
                return _strip(member)
            inner = _strip(member)
            if isinstance(inner, type) and issubclass(inner, BaseModel) and part in inner.model_fields:
                return _step(inner, part)
        return None
    return None

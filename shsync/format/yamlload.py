"""Safe YAML loading with locations on demand.

PyYAML's event stream (libyaml's C parser where available) is turned into plain Python values by
one iterative loop, so that every guarantee an org file needs is enforced in one place:

* duplicate mapping keys are errors (PyYAML silently keeps the last one);
* aliases are allowed, but the number of values they expand to is bounded, so a billion-laughs
  document fails at once instead of eating memory downstream;
* nesting deeper than `MAX_DEPTH` is refused (no recursion here, so no stack to blow);
* only plain data: no ``!!python/...`` or other tags, no merge keys, string keys only;
* scalars follow YAML 1.2's core schema: only ``true``/``false`` are booleans, so the Norway
  problem (``no`` -> false) cannot happen; timestamps stay strings.

Locations are not kept while loading (a 26 MB file has millions of values). `Document.locate`
re-reads the text once with marks when there is something to point at.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

import yaml

from shsync.format import fileio
from shsync.model.vocabulary import MAX_DEPTH
from shsync.model.diagnostics import Diagnostic, KeyOf, Location, Path, Severity
from shsync.errors import LoadError

# Texts this long try the fast path first (see shsync.format.fastload); below it, the loader alone
# takes a few milliseconds and yaml_rs's import would cost more than it saves.
FAST_FROM = 256 * 1024
MAX_ALIAS_VALUES = 100_000

_Parser: Any = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader

_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_SPECIAL = {
    "": None, "~": None, "null": None, "Null": None, "NULL": None,
    "true": True, "True": True, "TRUE": True,
    "false": False, "False": False, "FALSE": False,
    ".inf": float("inf"), "+.inf": float("inf"), "-.inf": float("-inf"),
    ".nan": float("nan"), ".NaN": float("nan"),
}  # fmt: skip
_STR_TAGS = {"tag:yaml.org,2002:str", "!"}


class _Stop(Exception):
    """A problem after which the rest of the file cannot be read meaningfully."""


def _resolve_plain(text: str) -> Any:
    if text in _SPECIAL:
        return _SPECIAL[text]
    first = text[0]
    if first.isdigit() or first in "-+.":
        if _INT.match(text):
            return int(text)
        if _FLOAT.match(text):
            return float(text)
    return text


def scalar_kind(text: str) -> str:
    """What a plain (unquoted) scalar with this text reads as: str, int, float, bool or null.
    The exporter quotes anything that would not read back as the same string."""
    if not text:
        return "null"
    try:
        value = _resolve_plain(text)
    except ValueError:
        return "int"  # more digits than Python converts: a number all the same
    return "null" if value is None else type(value).__name__ if not isinstance(value, str) \
        else "str"


@dataclass(slots=True)
class _Frame:
    container: Any
    anchor: str | None
    mark: Any
    size: int = 1
    key: Any = None
    key_mark: Any = None
    has_key: bool = False
    key_lines: dict[str, int] = field(default_factory=dict)


class _Builder:
    """Builds plain values from a PyYAML event stream; see the module docstring for the rules."""

    def __init__(self, name: str):
        self.name = name
        self.diagnostics: list[Diagnostic] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.alias_values = 0
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.documents = 0
        # One string object per distinct text: keys and emails recur on every client, and a
        # large org's loaded data held over a million copies of a few thousand strings.
        self.strings: dict[str, str] = {}

    def fail(self, code: str, message: str, mark: Any) -> None:
        self.diagnostics.append(Diagnostic(Severity.ERROR, code, message, self._loc(mark)))

    def _loc(self, mark: Any) -> Location:
        return Location(self.name, mark.line + 1, mark.column + 1)

    def run(self, parser: Any) -> Any:
        get = parser.get_event
        while (event := get()) is not None:
            kind = type(event)
            if kind is yaml.ScalarEvent:
                self.scalar(event)
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                self.start(event, {} if kind is yaml.MappingStartEvent else [])
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                self.end()
            elif kind is yaml.AliasEvent:
                self.alias(event)
            elif kind is yaml.DocumentStartEvent:
                self.documents += 1
                if self.documents > 1:
                    self.fail("yaml-multiple-documents",
                              "a file holds one YAML document; split the others into their own "
                              "files", event.start_mark)
                    raise _Stop
        return self.root

    def scalar(self, event: Any) -> None:
        tag = event.tag
        if tag is None and event.implicit[0]:
            try:
                value = _resolve_plain(event.value)
            except ValueError:  # Python refuses int() of more than 4,300 digits
                self.fail("yaml-number-too-large",
                          f"a number of {len(event.value):,} digits is too large to read; "
                          "quote it if it is text", event.start_mark)
                value = event.value
        elif tag is None or tag in _STR_TAGS:
            value = event.value
        else:
            self.fail("yaml-tag", f"the tag {tag!r} is not allowed: org files hold plain data "
                                  "(strings, numbers, true/false, lists, mappings)",
                      event.start_mark)
            value = event.value
        if type(value) is str:
            value = self.strings.setdefault(value, value)
        self.add(value, 1, event.anchor, event.start_mark)

    def start(self, event: Any, container: Any) -> None:
        if event.tag is not None and event.tag not in ("tag:yaml.org,2002:map",
                                                       "tag:yaml.org,2002:seq"):
            self.fail("yaml-tag", f"the tag {event.tag!r} is not allowed: org files hold plain "
                                  "data", event.start_mark)
        if len(self.stack) >= MAX_DEPTH:
            self.fail("yaml-too-deep", f"values are nested more than {MAX_DEPTH} levels deep",
                      event.start_mark)
            raise _Stop
        self.stack.append(_Frame(container, event.anchor, event.start_mark))

    def end(self) -> None:
        frame = self.stack.pop()
        self.add(frame.container, frame.size, frame.anchor, frame.mark)

    def alias(self, event: Any) -> None:
        found = self.anchors.get(event.anchor)
        if found is None:
            self.fail("yaml-alias", f"the alias *{event.anchor} names no anchor defined before it "
                                    "(or an anchor of a value that contains it)",
                      event.start_mark)
            self.add(None, 1, None, event.start_mark)
            return
        value, size = found
        self.alias_values += size
        if self.alias_values > MAX_ALIAS_VALUES:
            self.fail("yaml-alias-bomb", f"aliases expand to more than {MAX_ALIAS_VALUES:,} "
                                         "values; refusing to expand further", event.start_mark)
            raise _Stop
        self.add(value, size, None, event.start_mark)

    def add(self, value: Any, size: int, anchor: str | None, mark: Any) -> None:
        if anchor is not None:
            self.anchors[anchor] = (value, size)
        if not self.stack:
            self.root = value
            return
        frame = self.stack[-1]
        frame.size += size
        container = frame.container
        if type(container) is list:
            container.append(value)
        elif not frame.has_key:
            self.key(frame, value, mark)
        else:
            frame.has_key = False
            if frame.key is not None:
                container[frame.key] = value

    def key(self, frame: _Frame, value: Any, mark: Any) -> None:
        frame.has_key = True
        frame.key = None
        if value == "<<":
            self.fail("yaml-merge-key", "merge keys (<<) are not supported: write the keys out, "
                                        "or use an anchor on a whole value", mark)
        elif type(value) is not str:
            shown = "a list or mapping" if isinstance(value, (list, dict)) else repr(value)
            self.fail("yaml-key-not-string", f"keys must be strings, not {shown}", mark)
        elif value in frame.key_lines:
            self.fail("yaml-duplicate-key", f"duplicate key {value!r} (first on line "
                                            f"{frame.key_lines[value]})", mark)
        else:
            frame.key = value
            frame.key_lines[value] = mark.line + 1


def _decode(raw: bytes, name: str) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LoadError([Diagnostic(Severity.ERROR, "encoding",
                                    "the file is UTF-16; save it as UTF-8",
                                    Location(name, 1, 1))])
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise LoadError([Diagnostic(Severity.ERROR, "encoding",
                                    f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
                                    Location(name, line, column))]) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise LoadError([Diagnostic(Severity.ERROR, "encoding",
                                    "the file holds binary data (a NUL byte)",
                                    Location(name, line, 1))])
    return text


def _syntax_diagnostic(exc: yaml.MarkedYAMLError, text: str, name: str) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    loc = Location(name, mark.line + 1, mark.column + 1) if mark else Location(name, 1, 1)
    problem = exc.problem or "invalid YAML"
    if mark is not None and text[mark.index: mark.index + 1] == "\t":
        return Diagnostic(Severity.ERROR, "yaml-tab",
                          "a tab character where YAML needs spaces; indent with spaces", loc)
    if "maximum nesting depth" in problem:  # libyaml's own limit, reached while scanning ahead
        return Diagnostic(Severity.ERROR, "yaml-too-deep",
                          f"values are nested more than {MAX_DEPTH} levels deep", loc)
    context = f" {exc.context}" if exc.context else ""
    return Diagnostic(Severity.ERROR, "yaml-syntax", f"{problem}{context}", loc)


@dataclass(frozen=True)
class Document:
    """One YAML file's data, and the text to find locations in when they are needed."""

    name: str
    data: Any
    text: str = field(repr=False)

    def locate(self, paths: Iterable[Path]) -> dict[Path, Location]:
        """Where each path is, or the nearest enclosing value found (aliases hide the rest)."""
        wanted = {p[:i] for p in paths for i in range(len(p) + 1)}
        found = _locate(self.text, wanted, self.name)
        result = {}
        for p in paths:
            for i in range(len(p), -1, -1):
                if p[:i] in found:
                    result[p] = found[p[:i]]
                    break
            else:
                result[p] = Location(self.name, 1, 1)
        return result


def _locate(text: str, wanted: set[Path], name: str) -> dict[Path, Location]:
    """One pass over the events, noting where each wanted path starts."""
    found: dict[Path, Location] = {}
    stack: list[list[Any]] = []  # [is_mapping, path, next_index_or_key, expecting_key]
    parser = _Parser(text)
    try:
        while (event := parser.get_event()) is not None:
            kind = type(event)
            if kind in (yaml.MappingEndEvent, yaml.SequenceEndEvent):
                stack.pop()
                _advance(stack)
                continue
            if kind not in (yaml.ScalarEvent, yaml.MappingStartEvent,
                            yaml.SequenceStartEvent, yaml.AliasEvent):
                continue
            path, is_key = _current_path(stack)
            loc = Location(name, event.start_mark.line + 1, event.start_mark.column + 1)
            if is_key:
                key = event.value if kind is yaml.ScalarEvent else ""
                stack[-1][2] = key
                if (path + (KeyOf(key),)) in wanted:
                    found[path + (KeyOf(key),)] = loc
                stack[-1][3] = False
                continue
            if path in wanted and path not in found:
                found[path] = loc
            if kind in (yaml.MappingStartEvent, yaml.SequenceStartEvent):
                stack.append([kind is yaml.MappingStartEvent, path, 0, True])
            else:
                _advance(stack)
    except yaml.YAMLError:
        pass  # the loader already reported it; locate what came before
    finally:
        parser.dispose()
    return found


def _current_path(stack: list[list[Any]]) -> tuple[Path, bool]:
    if not stack:
        return (), False
    is_mapping, path, cursor, expecting_key = stack[-1]
    if is_mapping and expecting_key:
        return path, True
    return path + (cursor,), False


def _advance(stack: list[list[Any]]) -> None:
    if not stack:
        return
    top = stack[-1]
    if top[0]:
        top[3] = True
    else:
        top[2] += 1


def load_text(text: str, name: str) -> Document:
    """Load one document from text, raising `LoadError` with every problem found."""
    if len(text) >= FAST_FROM:
        from shsync.format import fastload  # its patterns cost 1.5 ms to compile: large texts only

        data = fastload.load(text)
        if data is not None:
            return Document(name, data, text)
    return load_by_events(text, name)


def load_by_events(text: str, name: str) -> Document:
    """`load_text` by the authoritative loader alone, whatever the text's size."""
    builder = _Builder(name)
    parser = _Parser(text)
    try:
        data = builder.run(parser)
    except _Stop:
        raise LoadError(builder.diagnostics) from None
    except yaml.MarkedYAMLError as exc:
        raise LoadError([*builder.diagnostics, _syntax_diagnostic(exc, text, name)]) from None
    except yaml.YAMLError as exc:
        raise LoadError([*builder.diagnostics, Diagnostic(
            Severity.ERROR, "yaml-syntax", str(exc), Location(name, 1, 1))]) from None
    finally:
        parser.dispose()
    if builder.diagnostics:
        raise LoadError(builder.diagnostics)
    if builder.documents == 0 or data is None:
        raise LoadError([Diagnostic(Severity.ERROR, "empty-file", "the file is empty",
                                    Location(name, 1, 1))])
    if not isinstance(data, dict):
        raise LoadError([Diagnostic(Severity.ERROR, "not-a-mapping",
                                    "the file must be a mapping of keys (version:, members:, ...)",
                                    Location(name, 1, 1))])
    return Document(name, data, text)


def load_file(path: FsPath, name: str | None = None) -> Document:
    """Read (see `shsync.format.fileio`) and load one file; `name` is how diagnostics refer to
    it."""
    shown = name or str(path)
    try:
        raw = fileio.read_bytes(path, shown)
    except fileio.FileProblem as exc:
        raise LoadError([exc.diagnostic()]) from None
    return load_text(_decode(raw, shown), shown)

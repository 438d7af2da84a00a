"""Request bodies that carry files: an org file (YAML), a directory of them (a JSON map of
relative path -> text), or a snapshot. They are written to a private temporary directory and
read by the same loader the CLI uses, and every place in a diagnostic names the caller's own
relative paths, never the server's.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from shsync.model.diagnostics import Diagnostic, Location
from shsync.errors import BodyError, UserError
from shsync.core.plan import Message, Plan

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
FILES_TYPE = "application/json"
PLAN_TYPE = "application/vnd.shsync.plan+json"
MAX_FILES = 10_000
DEFAULT_NAME = "org.yaml"


def media_type(header: str | None) -> str:
    return (header or "").split(";")[0].strip().lower()


def materialise(body: bytes, kind: str, into: Path, name: str = DEFAULT_NAME) -> Path:
    """Write the body's files under `into`; the path to load (a file or the directory)."""
    if kind in YAML_TYPES:
        target = into / name
        target.write_bytes(body)
        return target
    if kind != FILES_TYPE:
        raise UserError(f"send the org as {YAML_TYPES[0]} (one file) or {FILES_TYPE} "
                        '({"files": {"PATH": "TEXT"}}), not ' + (kind or "no content type")[:80],
                        "unsupported-media-type")
    files = _files(body)
    for rel, text in files.items():
        target = into.joinpath(*PurePosixPath(rel).parts)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(text.encode("utf-8"))
        except OSError as exc:  # _files has refused every clash it knows; never a 500
            raise BodyError(f"file {_shown(rel)} cannot be written ({type(exc).__name__})") \
                from None
    return into


def _files(body: bytes) -> dict[str, str]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise BodyError('the body is not JSON like {"files": {"org.yaml": "version: 1 ..."}}') \
            from None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict) or not files:
        raise BodyError('the body needs "files": a non-empty map of relative path -> text')
    if len(files) > MAX_FILES:
        raise BodyError(f"at most {MAX_FILES:,} files in one body")
    seen: set[str] = set()
    for rel, text in files.items():
        _check_path(rel)
        if not isinstance(text, str) or not _encodes(text):
            raise BodyError(f"file {_shown(rel)}: its content must be text (UTF-8, no lone "
                            "surrogates)")
        folded = rel.lower()
        if folded in seen:
            raise BodyError(f"file {_shown(rel)} is given twice")
        seen.add(folded)
    # A file and a directory of one name cannot both be written (case folded, as above).
    directories = {"/".join(parts[:i]) for parts in (r.split("/") for r in seen)
                   for i in range(1, len(parts))}
    clash = sorted(seen & directories)
    if clash:
        raise BodyError(f"{_shown(clash[0])} is given both as a file and as a directory")
    return files


def _encodes(text: str) -> bool:
    """JSON may carry lone surrogates (`\\ud800`); UTF-8, and so no file, can hold them."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(rel: str) -> str:
    """A caller's path in a message: bounded, and escaped (repr) so it forges nothing."""
    return ascii(rel[:100])


def _check_path(rel: Any) -> None:
    if not isinstance(rel, str) or not rel or len(rel) > 500:
        raise BodyError("each file's path is 1-500 characters")
    if not _encodes(rel):
        raise BodyError(f"file path {_shown(rel)} is not UTF-8 text (a lone surrogate)")
    path = PurePosixPath(rel)
    if (rel.startswith("/") or "\\" in rel or "\0" in rel
            or any(p in ("", ".", "..") for p in rel.split("/")) or len(path.parts) > 20):
        raise BodyError(f"file path {_shown(rel)} must be relative, without '.', '..' or '\\'")
    # File systems bound a name in bytes (255 on Linux), not in characters.
    if any(len(p.encode("utf-8")) > 200 for p in path.parts):
        raise BodyError(f"file path {_shown(rel)}: each part is at most 200 bytes in UTF-8")


class Relabel:
    """Rewrites the server's temporary paths into the caller's relative ones."""

    def __init__(self, root: Path):
        absolute = str(root)
        self.prefixes = sorted({absolute + os.sep, os.path.relpath(absolute) + os.sep,
                                absolute, os.path.relpath(absolute)}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for prefix in self.prefixes:
            value = value.replace(prefix, "")
        return value

    def diagnostic(self, d: Diagnostic) -> Diagnostic:
        loc = d.location
        where = Location(self.text(loc.file) or DEFAULT_NAME, loc.line, loc.column) if loc else None
        return replace(d, message=self.text(d.message), location=where)

    def diagnostics(self, found: tuple[Diagnostic, ...]) -> tuple[Diagnostic, ...]:
        return tuple(self.diagnostic(d) for d in found)

    def message(self, m: Message) -> Message:
        return Message(m.code, self.text(m.message),
                       self.text(m.location) if m.location else None)

    def plan(self, plan: Plan) -> Plan:
        return replace(plan, warnings=tuple(self.message(m) for m in plan.warnings),
                       errors=tuple(self.message(m) for m in plan.errors))

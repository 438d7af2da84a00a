"""Diagnostics: what shsync says about a user's input, and where.

Every user mistake ends up as a `Diagnostic`. Rules do not know files or lines: they report a
`Finding` against a path into the org (``("members", 3, "npi")``), and the loader turns paths into
`Location`s only when there is something to point at.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

Path = tuple[Any, ...]


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a file; line and column are 1-based. A roster row has no column."""

    file: str
    line: int
    column: int | None

    def __str__(self) -> str:
        if self.column is None:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class KeyOf:
    """A path element that points at a mapping key itself rather than at its value."""

    name: str


@dataclass(frozen=True, slots=True)
class Diagnostic:
    severity: Severity
    code: str
    message: str
    location: Location | None = None

    def render(self) -> str:
        head = f"{self.location}: " if self.location else ""
        return f"{head}{self.severity.value}[{self.code}]: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        loc = self.location
        return {
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "file": loc.file if loc else None,
            "line": loc.line if loc else None,
            "column": loc.column if loc else None,
        }

    def promoted(self) -> Diagnostic:
        """The same diagnostic as an error (``--strict``)."""
        return Diagnostic(Severity.ERROR, self.code, self.message, self.location)


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule's verdict before it is placed in a file: one diagnostic per path."""

    severity: Severity
    code: str
    message: str
    paths: tuple[Path, ...] = ()


def error(code: str, message: str, *paths: Path) -> Finding:
    return Finding(Severity.ERROR, code, message, tuple(paths))


def warning(code: str, message: str, *paths: Path) -> Finding:
    return Finding(Severity.WARNING, code, message, tuple(paths))


def has_errors(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)


def sort_key(d: Diagnostic) -> tuple[str, int, int, str]:
    loc = d.location
    return (loc.file, loc.line, loc.column or 0, d.code) if loc else ("", 0, 0, d.code)

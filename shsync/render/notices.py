"""Repeated warnings as one line: a count and the first few names.

3,001 practitioners without an NPI are one problem to a reader, not 3,001 lines. Warnings of one
code seen more than `LIMIT` times collapse into their first occurrence, which keeps its place and
gains `(3,001 warnings like this: ann@x, bob@x, cat@x and 2,998 more)`. The names are what
differs between the messages (an email, a client id). Errors are never collapsed: each is a
place to fix. Pure functions for text a person reads; JSON output lists every warning.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

from shsync.model.diagnostics import Diagnostic, Severity
if TYPE_CHECKING:  # `validate` prints diagnostics without importing the planner
    from shsync.core.plan import Message

LIMIT = 5  # a code repeated more than this many times collapses
SHOWN = 3  # names shown in the collapsed line

T = TypeVar("T", Diagnostic, "Message")


def _names(messages: Sequence[str]) -> list[str]:
    """What differs between messages of one template, word by word: the names they are about."""
    words = [m.split(" ") for m in messages]
    shortest = min(len(w) for w in words)
    head = 0
    while head < shortest and all(w[head] == words[0][head] for w in words):
        head += 1
    tail = 0
    while tail < shortest - head and all(w[-1 - tail] == words[0][-1 - tail] for w in words):
        tail += 1
    return [" ".join(w[head:len(w) - tail]).strip(",;:.()'\"") for w in words]


def summary(messages: Sequence[str], shown: int = SHOWN) -> str:
    """`3,001 warnings like this: ann@x, bob@x, cat@x and 2,998 more`"""
    names = _names(messages)
    listed = ", ".join(n for n in names[:shown] if n)
    rest = len(messages) - min(shown, len(messages))
    return (f"{len(messages):,} warnings like this" + (f": {listed}" if listed else "")
            + (f" and {rest:,} more" if rest and listed else ""))


def _collapse(items: Sequence[T], is_warning: Callable[[T], bool], limit: int,
              shown: int) -> list[T]:
    groups: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        if is_warning(item):
            groups.setdefault(item.code, []).append(i)
    out: list[T] = []
    for i, item in enumerate(items):
        group = groups.get(item.code) if is_warning(item) else None
        if group is None or len(group) <= limit:
            out.append(item)
        elif i == group[0]:
            note = summary([items[j].message for j in group], shown)
            out.append(replace(item, message=f"{item.message} ({note})"))
    return out


def collapse(diagnostics: Sequence[Diagnostic], limit: int = LIMIT,
             shown: int = SHOWN) -> list[Diagnostic]:
    """Diagnostics for a person to read: each warning code repeated more than `limit` times
    becomes one line, at its first place; errors stay as they are."""
    return _collapse(diagnostics, lambda d: d.severity is Severity.WARNING, limit, shown)


def collapse_messages(warnings: Sequence[Message], limit: int = LIMIT,
                      shown: int = SHOWN) -> list[Message]:
    """The same for a plan's warnings."""
    return _collapse(warnings, lambda w: True, limit, shown)


# --- who an audit entry names ---------------------------------------------------------------

def is_operator(actor: str) -> bool:
    """`operator:root`, `operator`: the actor recorded when nobody was named (jobs.app.actor)."""
    return actor == "operator" or actor.startswith("operator:")


OPERATOR_NOTE = (
    "`operator:NAME` is the operator: whoever ran shsync with the store's own credentials (its "
    "database file or URL), NAME being their login on that machine (root, in a container or "
    "on a server), which names no member. To have the log name who acted, run as a member "
    "with `--actor EMAIL` (or `SHSYNC_ACTOR`), with that member's rights; a script or CI job "
    "behind `shsync serve` gets its own token (`shsync token create --operator NAME`), and "
    "the log names it. Entries already written keep the name they were recorded with.")


_COUNTED = (("invite", "invited"), ("change", "changed"), ("remove", "removed"),
            ("clients", "client(s) updated"))


def counts(summary: Mapping[str, object]) -> str:
    """An audit entry's counts, naming none that is 0 (`1 invited, 2 changed`), or ''."""
    return ", ".join(f"{summary.get(key)} {label}" for key, label in _COUNTED
                     if isinstance(summary.get(key), int) and summary.get(key))

"""Which audit entries an export asks for (`shsync history --since ... --member ... --kind`):
a pure filter over entries already read, so a SIEM's page (`after`, `limit`) is read from the
store and only then narrowed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from shsync.core.entry import AuditEntry
from shsync.model.clock import parse_instant


@dataclass(frozen=True)
class Selection:
    """Each bound None where not asked for. Seqs and times are inclusive; a time is compared
    with when the entry was written (`written_at`, else the time it was planned for)."""

    since_seq: int | None = None
    since_time: str | None = None
    until_seq: int | None = None
    until_time: str | None = None
    member: str | None = None
    client: str | None = None
    kinds: tuple[str, ...] = ()

    @property
    def everything(self) -> bool:
        return self == Selection()


def selected(entries: Iterable[AuditEntry], selection: Selection) -> list[AuditEntry]:
    since = parse_instant(selection.since_time) if selection.since_time else None
    until = parse_instant(selection.until_time) if selection.until_time else None
    member = selection.member.strip().lower() if selection.member else None
    found = []
    for e in entries:
        if selection.since_seq is not None and e.seq < selection.since_seq:
            continue
        if selection.until_seq is not None and e.seq > selection.until_seq:
            continue
        if since is not None or until is not None:
            when = parse_instant(e.written_at or e.at)
            if (since is not None and when < since) or (until is not None and when > until):
                continue
        if selection.kinds and (e.kind or "apply") not in selection.kinds:
            continue
        if member is not None and not (e.actor.lower() == member or _mentions(
                (e.operations, e.details), member, lower=True)):
            continue
        if selection.client is not None and not _mentions((e.operations, e.details),
                                                          selection.client):
            continue
        found.append(e)
    return found


def _mentions(value: Any, wanted: str, *, lower: bool = False) -> bool:
    """Does `wanted` appear as a whole string anywhere in `value` (an entry's operations and
    details: a target, a member of a grant, a handoff's receiver, a seeded member)?"""
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if (item.lower() if lower else item) == wanted:
                return True
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return False


def kinds_known(kinds: Sequence[str]) -> list[str]:
    """The kinds asked for that no entry can have (for the error)."""
    from shsync.core.entry import KINDS

    return [k for k in kinds if k not in KINDS]

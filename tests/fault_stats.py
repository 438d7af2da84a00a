"""Counters the reliability tests fill in; tests/conftest.py prints them as one line at the end.

A check records what it compared before it asserts, so the line says how much was checked (and
how many of those checks found a store changed), not a counter that only a failure moves.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

COUNTS: Counter[str] = Counter()


def tried(kind: str, n: int = 1) -> None:
    COUNTS[kind] += n


def compared(intact: bool, state: Any = None, entries: int = 0) -> bool:
    """Record one comparison of a store with what it must hold (`state`: the practice it was
    compared with; `entries`: audit entries compared), and whether it held; returns `intact`."""
    COUNTS["stores compared"] += 1
    COUNTS["stores intact"] += intact
    if state is not None:
        COUNTS["members compared"] += len(state.members)
        COUNTS["clients compared"] += len(state.clients)
    COUNTS["audit entries compared"] += entries
    return intact


def summary() -> str:
    c = COUNTS
    return (f"reliability: {c['crash points']} crash points tried, {c['corpus files']} corpus "
            f"files tried, {c['fuzz examples']} fuzz examples run; {c['stores compared']} stores "
            f"compared afterwards ({c['members compared']} members, {c['clients compared']} "
            f"clients, {c['audit entries compared']} audit entries), "
            f"{c['stores compared'] - c['stores intact']} lost or corrupted anything (must be 0)")

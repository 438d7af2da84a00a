"""Counters the reliability tests fill in; tests/conftest.py prints them as one line at the end."""

from collections import Counter

COUNTS: Counter = Counter()


def tried(kind: str, n: int = 1) -> None:
    COUNTS[kind] += n


def lost(n: int = 1) -> None:
    COUNTS["lost or corrupted"] += n

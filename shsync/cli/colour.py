"""Whether to colour: only on a terminal, never with `--no-color` or a non-empty NO_COLOR
(https://no-color.org)."""

from __future__ import annotations

import os
import sys
from typing import Callable, TextIO

import click


def enabled(stream: TextIO | None = None) -> bool:
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.find_root().meta.get("shsync.no_color"):
        return False
    if os.environ.get("NO_COLOR", ""):
        return False
    stream = stream or sys.stdout
    return stream is not None and stream.isatty()


def style(text: str, colour: str) -> str:
    return click.style(text, fg=colour) if enabled() else text


def _unstyled(text: str, colour: str) -> str:
    return text


def styler(stream: TextIO | None = None) -> Callable[[str, str], str]:
    """`style` with the terminal asked once: a plan of 200k steps styles every line, and
    asking each time cost a third of a second at L (bench/notes.md)."""
    if enabled(stream):
        return lambda text, colour: click.style(text, fg=colour)
    return _unstyled

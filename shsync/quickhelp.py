"""`shsync --help` and `shsync COMMAND --help` answered without importing click, which is most of
their start-up (issue #15: `--help` under 60 ms).

The pages are click's own output, rendered in advance by `make helppages`
(shsync/cli/helppages.py) into `helppages.txt` at the widths a pipe and the usual terminals get,
and held to click's output by tests/cli/test_helppages.py. A page is printed only where click
would print exactly it: the terminal's width is one stored, shell completion is not asking, and
the click installed is the release that rendered the pages (the CLI names itself `shsync`
whatever runs it). Anything else, and every other command line, goes to click. This module
imports only `os` and `sys`, which the interpreter has loaded already.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

PAGES_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "helppages.txt")
HELP_OPTIONS = ("--help", "-h")
#: Terminal widths the stored pages are rendered for: what a pipe gets (click assumes 80
#: columns there) and any terminal of 100 columns or more (the CLI's max_content_width).
COLUMNS = (80, 100)
MAX_CONTENT_WIDTH = 100
#: Between pages in PAGES_FILE; a page is printable ASCII and newlines only, so never holds it.
SEPARATOR = "\x1e"
#: click's variable for shell completion: when set, click answers completion, not the arguments.
COMPLETE_VAR = "_SHSYNC_COMPLETE"


def page(args: Sequence[str]) -> str | None:
    """The help page click would print for `shsync *args`, or None to leave it to click."""
    if not args or args[-1] not in HELP_OPTIONS or COMPLETE_VAR in os.environ:
        return None
    pages = read(PAGES_FILE)
    if pages is None:
        return None
    click_release, found = pages
    if not click_installed(click_release):
        return None
    return found.get((help_width(terminal_columns()), *args[:-1]))


def help_width(columns: int) -> int:
    """The width click wraps help to in a terminal of `columns` (click.formatting.HelpFormatter)."""
    return max(min(columns, MAX_CONTENT_WIDTH) - 2, 50)


def terminal_columns() -> int:
    """`shutil.get_terminal_size().columns`, which click asks, without importing shutil (6 ms of
    imports: fnmatch, bz2, lzma); tests/test_quickhelp.py holds it to shutil's answer."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


def click_installed(release: str) -> bool:
    """Whether the click that `import click` would load is `release`, told by its distribution's
    metadata folder beside it, without importing click or importlib.metadata."""
    for entry in sys.path:
        if not isinstance(entry, str):
            continue
        folder = entry or os.curdir
        if os.path.isdir(os.path.join(folder, "click")) or \
                os.path.isfile(os.path.join(folder, "click.py")):
            return os.path.isdir(os.path.join(folder, f"click-{release}.dist-info"))
    return False


def read(path: str) -> tuple[str, dict[tuple[object, ...], str]] | None:
    """The click release that rendered the pages, and the pages by (width, *command path)."""
    try:
        with open(path, encoding="ascii") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError):
        return None
    header, *records = text.split(SEPARATOR)
    if not header.startswith("click "):
        return None
    pages: dict[tuple[object, ...], str] = {}
    for record in records:
        head, _, body = record.partition("\n")
        width, *command = head.split(" ")
        if not width.isdigit():
            return None
        pages[(int(width), *command)] = body
    return header.removeprefix("click ").strip(), pages


def encode(click_release: str, pages: dict[tuple[object, ...], str]) -> str:
    """PAGES_FILE's text for `pages` (the inverse of `read`)."""
    records = [f"click {click_release}\n"]
    for (width, *path), body in pages.items():
        records.append(" ".join([str(width), *map(str, path)]) + "\n" + body)
    return SEPARATOR.join(records)

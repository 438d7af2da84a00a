"""`shsync --help` and `shsync COMMAND --help` answered without importing click, which is most of
their start-up (issue #15: `--help` under 60 ms).

The pages are click's own output, rendered in advance by `make helppages`
(shsync/cli/helppages.py) into `helppages.txt` at the widths a pipe and the usual terminals get,
and held to click's output by tests/cli/test_helppages.py. A page is printed only where click
would print exactly it: the terminal's width is one stored, shell completion is not asking, the
click that `import click` would load is the release that rendered the pages, no gettext catalogue
would translate click's words ("Usage:", "Options:"), docstrings are kept (not `python -OO`), and
the file is whole (its length and CRC-32 are in its first line). The CLI names itself `shsync`
whatever runs it. Anything else, and every other command line, goes to click. This module imports
`os` and `sys`, which the interpreter has loaded already, then `zlib` (0.3 ms), and `gettext`
(with `re` and `locale`) only where Python has a share/locale folder and a language other than C
is set: 1 ms more on Debian's Python with LANG=C.UTF-8 (bench/notes.md).
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
    if sys.flags.optimize >= 2:  # -OO drops the docstrings click prints as the description
        return None
    width = help_width(terminal_columns())
    if width not in {help_width(columns) for columns in COLUMNS}:
        return None  # a width no page is stored for: decided before the file is read
    found = read(PAGES_FILE)
    if found is None:
        return None
    click_release, pages = found
    if not click_installed(click_release) or translated():
        return None
    return pages.get((width, *args[:-1]))


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
    """Whether the click that `import click` would load is `release`: found as the import
    system finds it (a folder, a zip, a compiled file, a finder of an editable install), and
    told by its distribution's metadata folder beside it, without importing click or
    importlib.metadata."""
    spec = None
    for finder in sys.meta_path:
        find = getattr(finder, "find_spec", None)
        spec = find("click", None) if find is not None else None
        if spec is not None:
            break
    origin = getattr(spec, "origin", None)
    if not isinstance(origin, str) or not spec.submodule_search_locations:  # type: ignore[union-attr]
        return False  # not the click package (a module, a namespace, a built-in)
    folder = os.path.dirname(os.path.dirname(origin))
    return os.path.isdir(os.path.join(folder, f"click-{release}.dist-info"))


def translated() -> bool:
    """Whether gettext would translate click's words ("Usage:", "Options:"), which click passes
    through `gettext.gettext`: the default domain `messages`, in Python's share/locale, for the
    languages of LANGUAGE, LC_ALL, LC_MESSAGES or LANG (the first set). Asked of
    `gettext.find` itself, except where it finds nothing for certain without importing gettext
    (6 ms, with `re`): no such folder (a Python built from source, or python.org's), no language
    set, or C or POSIX first."""
    localedir = os.path.join(sys.base_prefix, "share", "locale")
    if not os.path.isdir(localedir):
        return False
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable)
        if value:
            break
    else:
        return False
    if value.split(":")[0] in ("C", "POSIX"):
        return False
    import gettext

    return gettext.find("messages", localedir) is not None


def read(path: str) -> tuple[str, dict[tuple[object, ...], str]] | None:
    """The click release that rendered the pages, and the pages by (width, *command path); None
    for a file that is missing, cut short or changed since it was written."""
    try:
        with open(path, encoding="ascii", newline="") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError):
        return None
    header, _, body = text.partition(SEPARATOR)
    words = header.split()
    if len(words) != 4 or words[0] != "click" or words[2:] != [str(len(body)), _crc(body)]:
        return None
    pages: dict[tuple[object, ...], str] = {}
    for record in body.split(SEPARATOR):
        head, _, page = record.partition("\n")
        width, *command = head.split(" ")
        if not width.isdigit():
            return None
        pages[(int(width), *command)] = page
    return words[1], pages


def encode(click_release: str, pages: dict[tuple[object, ...], str]) -> str:
    """PAGES_FILE's text for `pages` (the inverse of `read`)."""
    body = SEPARATOR.join(" ".join([str(width), *map(str, path)]) + "\n" + page
                          for (width, *path), page in pages.items())
    return f"click {click_release} {len(body)} {_crc(body)}\n{SEPARATOR}{body}"


def _crc(text: str) -> str:
    import zlib

    return f"{zlib.crc32(text.encode('ascii')):08x}"

"""Reading a file shsync was pointed at, safely: opened once, a regular file, bounded in size.

Every file shsync reads (an org file, each file of an org directory, a roster, a saved plan, a
snapshot, an observation) goes through `read_bytes`. The file is opened once with O_NONBLOCK,
so a FIFO cannot hang the command, and checked with fstat on that same descriptor, so nothing
can be swapped in between the check and the read: `/dev/zero`, a FIFO, a socket or a directory
is refused as `not-a-file`. At most the limit is read (`file-too-large`), even from a file that
grows while it is read. The limit is 256 MiB, or `SHSYNC_MAX_FILE_BYTES`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from shsync.errors import FileProblem, UserError

LIMIT_VARIABLE = "SHSYNC_MAX_FILE_BYTES"
DEFAULT_LIMIT = 256 * 1024 * 1024
_CHUNK = 1024 * 1024

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


def limit() -> int:
    """The most bytes shsync reads from one file: SHSYNC_MAX_FILE_BYTES, else 256 MiB."""
    text = os.environ.get(LIMIT_VARIABLE, "").strip()
    if not text:
        return DEFAULT_LIMIT
    if not (text.isascii() and text.isdigit() and len(text) <= 18 and int(text) > 0):
        raise UserError(f"{LIMIT_VARIABLE}={text[:40]!r} is not a number of bytes like "
                        f"{DEFAULT_LIMIT}", "invalid-setting")
    return int(text)


def kind(mode: int) -> str:
    """What a file that is not a regular file is, in words."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def read_bytes(path: Path | str, name: str | None = None, *, max_bytes: int | None = None) -> bytes:
    """The whole content of a regular file, read once; raises `FileProblem` otherwise."""
    shown = name or str(path)
    bound = limit() if max_bytes is None else max_bytes
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except OSError as exc:
        raise _unopened(path, exc, shown) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileProblem(f"{kind(info.st_mode)}, not a regular file", "not-a-file", shown)
        if info.st_size > bound:
            raise _too_large(info.st_size, bound, shown)
        chunks, total = [], 0
        while chunk := os.read(fd, min(_CHUNK, bound + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > bound:
                raise _too_large(bound, bound, shown, growing=True)
        return b"".join(chunks)
    except OSError as exc:
        raise FileProblem(f"cannot read: {_reason(exc)}", "unreadable", shown) from None
    finally:
        os.close(fd)


def _unopened(path: Path | str, exc: OSError, shown: str) -> FileProblem:
    try:  # a socket cannot be opened at all (ENXIO): say what it is
        mode = os.stat(path).st_mode
    except OSError:
        mode = stat.S_IFREG
    if not stat.S_ISREG(mode):
        return FileProblem(f"{kind(mode)}, not a regular file", "not-a-file", shown)
    return FileProblem(f"cannot read: {_reason(exc)}", "unreadable", shown)


def _too_large(size: int, bound: int, shown: str, growing: bool = False) -> FileProblem:
    what = "more than " if growing else ""
    return FileProblem(f"the file is {what}{size:,} bytes; the limit is {bound:,} (set "
                       f"{LIMIT_VARIABLE} to raise it)", "file-too-large", shown)


def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()

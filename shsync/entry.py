"""The `shsync` program: `--version` is answered before click is imported (importing click is
most of a bare command's start-up; a test checks that this line is exactly what click prints);
the rest goes to the click layer (shsync/cli), a lazy group that imports a command's module only
when that command runs or its help is asked for, with the cyclic garbage collector off (see
`main`)."""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence

from shsync import __version__

VERSION_LINE = f"shsync, version {__version__}\n"


def main(argv: Sequence[str] | None = None) -> None:
    # One command is one short process, and the millions of values it builds are freed by
    # reference counting: the cyclic collector only rescanned them, 0.15 s of an L plan and
    # 0.9 s of the L onboarding apply, with the same peak memory (bench/notes.md). `shsync
    # serve`, the one long-lived process, turns it back on.
    gc.disable()
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"] and sys.stdout is not None:  # closed: the CLI says so
        _say(VERSION_LINE)
        return
    from shsync.cli import main as cli

    cli(args)


def _say(text: str) -> None:
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as exc:  # a full disk, a closed pipe: as every command says it
        from shsync.cli import _unreported

        _unreported(exc)

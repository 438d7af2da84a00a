"""Every help page, rendered by click at the widths shsync/quickhelp.py serves, into
shsync/helppages.txt: `make helppages` (python -m shsync.cli.helppages) writes it, and
tests/cli/test_helppages.py fails when the stored pages are not what click renders now."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator
from importlib.metadata import version

import click

from shsync import quickhelp
from shsync.cli import cli

CommandPath = tuple[str, ...]  # ("token", "create"); () is the program itself


def commands(command: click.Command = cli, path: CommandPath = ()) -> Iterator[CommandPath]:
    """The command path of every command and group, the program's own first."""
    yield path
    if isinstance(command, click.Group):
        context = click.Context(command, info_name="shsync")
        for name in command.list_commands(context):
            found = command.get_command(context, name)
            assert found is not None and " " not in name, name
            yield from commands(found, (*path, name))


def render(path: CommandPath, columns: int, option: str = "--help") -> str:
    """What `shsync *path --help` prints in a terminal of `columns` columns, as click prints it
    in English (quickhelp serves no other language)."""
    out = io.StringIO()
    with _environment(COLUMNS=str(columns), LANGUAGE="C"), contextlib.redirect_stdout(out):
        code = cli.main([*path, option], prog_name="shsync", standalone_mode=False)
    if code != 0:
        raise RuntimeError(f"shsync {' '.join(path)} {option} exited {code}")
    return out.getvalue()


def pages() -> dict[tuple[object, ...], str]:
    """Every page at every width quickhelp serves, keyed as quickhelp looks them up."""
    return {(quickhelp.help_width(columns), *path): render(path, columns)
            for columns in quickhelp.COLUMNS for path in commands()}


def stored_text() -> str:
    """quickhelp.PAGES_FILE's text as it should be now."""
    if sys.flags.optimize >= 2:
        raise RuntimeError("python -OO drops the docstrings the help pages are made of")
    return quickhelp.encode(version("click"), pages())


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value


if __name__ == "__main__":
    with open(quickhelp.PAGES_FILE, "w", encoding="ascii", newline="") as file:
        file.write(stored_text())
    print(f"wrote {quickhelp.PAGES_FILE}", file=sys.stderr)

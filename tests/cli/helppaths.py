"""Every command path of the CLI, and its help as click renders it: for tests that go through
every help page (the lazy group imports each command's module to do so)."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator

import click

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
    """What `shsync *path --help` prints in a terminal of `columns` columns, in English: the
    program's own run (not CliRunner's, which fixes the width at 80)."""
    out = io.StringIO()
    with _environment(COLUMNS=str(columns), LANGUAGE="C"), contextlib.redirect_stdout(out):
        code = cli.main([*path, option], prog_name="shsync", standalone_mode=False)
    if code != 0:
        raise RuntimeError(f"shsync {' '.join(path)} {option} exited {code}")
    return out.getvalue()


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

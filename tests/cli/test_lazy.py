"""The lazy group (shsync/cli/__init__.py): every command it names loads, `shsync --help` lists
them all in the table's order, and every command's help works through the installed program.
Which modules each of these imports is tests/cli/test_startup.py's."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from shsync.cli import COMMANDS, SUMMARIES, LazyGroup, cli
from tests.cli.helppaths import commands, render

PROGRAM = Path(sys.executable).with_name("shsync")  # the console script `pip install` made
PATHS = list(commands())


def test_the_two_tables_name_the_same_commands_in_the_same_order():
    assert list(SUMMARIES) == list(COMMANDS)
    assert cli.list_commands(click.Context(cli)) == list(COMMANDS)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_name_loads_a_click_command_of_that_name_from_a_cli_module(name):
    command = cli.get_command(click.Context(cli), name)
    assert isinstance(command, click.Command)
    assert command.name == name  # what `shsync COMMAND --help` and errors call it
    assert COMMANDS[name].startswith("shsync.cli.")


def test_an_entry_that_is_not_a_command_is_refused():
    group = LazyGroup(name="x", lazy_subcommands={"bad": "shsync.cli:SUMMARIES"})
    with pytest.raises(ValueError, match="non-command"):
        group.get_command(click.Context(group), "bad")
    assert group.get_command(click.Context(group), "nothing") is None


@pytest.mark.parametrize("columns", [80, 100])  # a pipe, an 80-column terminal, a wide one
def test_help_lists_every_command_in_the_tables_order_each_on_one_line(columns):
    page = render((), columns)
    assert page.startswith("Usage: shsync [OPTIONS] COMMAND [ARGS]...\n")
    listed = page.split("\nCommands:\n", 1)[1].splitlines()
    width = max(map(len, COMMANDS))
    assert listed == [f"  {name:<{width}}  {summary}" for name, summary in SUMMARIES.items()]


def test_every_command_and_subcommand_has_a_help_page():
    assert PATHS[0] == ()
    assert [p[0] for p in PATHS[1:] if len(p) == 1] == list(COMMANDS)
    assert {("token", "create"), ("token", "list"), ("token", "revoke")} <= set(PATHS)


@pytest.mark.parametrize("path", PATHS, ids=" ".join)
def test_every_help_works_through_the_program_and_is_clicks_page(path):
    # A fresh process of the installed program, standard output a pipe (80 columns to click):
    # each command's module imports cleanly on its own, and the page is click's.
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LANGUAGE", "LC_ALL",
                                                             "LC_MESSAGES", "LANG")}
    result = subprocess.run([str(PROGRAM), *path, "--help"], capture_output=True, text=True,
                            timeout=120, env=env)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith(f"Usage: {' '.join(('shsync', *path))} ")
    assert result.stdout == render(path, 80)


@pytest.mark.parametrize("path", PATHS, ids=" ".join)
def test_dash_h_prints_the_same_page_as_dash_dash_help(path):
    assert render(path, 80, "-h") == render(path, 80, "--help")


MISTYPED = [["plna", "org/"], ["aply"], ["zzzz"], ["-x"], ["--no-color", "plna"]]

OLD_CLICK = textwrap.dedent("""
    # click before 8.4: no NoSuchCommand, and an unknown command is ctx.fail's plain UsageError
    import json, sys
    import click, click.exceptions
    if hasattr(click.exceptions, "NoSuchCommand"):
        del click.exceptions.NoSuchCommand

    def resolve_command(self, ctx, args):
        command = self.get_command(ctx, args[0])
        if command is None:
            ctx.fail(f"No such command {args[0]!r}.")
        return args[0], command, args[1:]

    click.Group.resolve_command = resolve_command
    from click.testing import CliRunner
    from shsync.cli import NoSuchCommand, cli
    assert NoSuchCommand.__module__ == "shsync.cli"
    runs = [CliRunner().invoke(cli, args) for args in json.loads(sys.argv[1])]
    print(json.dumps([[r.exit_code, r.output] for r in runs]))
""")


def test_a_mistyped_command_gets_the_same_did_you_mean_under_a_click_before_8_4():
    import json

    expected: list[list[Any]] = [[r.exit_code, r.output]
                                 for r in (CliRunner().invoke(cli, a) for a in MISTYPED)]
    assert "Did you mean one of: 'plan', 'plans'?" in expected[0][1]
    assert expected[1][1].endswith("Error: No such command 'aply'. Did you mean 'apply'?\n")
    result = subprocess.run([sys.executable, "-c", OLD_CLICK, json.dumps(MISTYPED)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected

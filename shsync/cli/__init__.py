"""The command line: parse, call the library, render, exit code. Nothing else imports click.

Each command lives in its own module and is imported only when it runs, so `shsync --help`
and `shsync --version` start without loading the planner, pydantic or a database driver.
`COMMANDS` is the one table of commands: name -> (module, function, one-line help).
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from shsync import __version__

COMMANDS: dict[str, tuple[str, str, str]] = {
    "validate": ("validate", "validate", "Check an org file (or a directory of them)."),
    "schema": ("validate", "schema", "Print the JSON Schema of the org file format."),
    "plan": ("plan", "plan", "Show what applying an org file would change."),
    "apply": ("plan", "apply_command", "Apply a saved plan, or plan an org file and apply it."),
    "accepted": ("lifecycle", "accepted", "Record that members accepted their invitations."),
    "refresh": ("lifecycle", "refresh", "Record what was observed in Sessions Health."),
    "access": ("access", "access", "Show effective access: who can see what, and why."),
    "onboard": ("onboard", "onboard", "Turn an HR roster (CSV) into org files."),
    "seed": ("store", "seed", "Load a practice snapshot into an empty store."),
    "export": ("store", "export", "Write the live practice as an org file."),
    "history": ("store", "history", "Show (and verify) the audit log."),
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use; help lists them from `COMMANDS`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = COMMANDS.get(cmd_name)
        if found is None:
            return None
        module = importlib.import_module(f"shsync.cli.{found[0]}")
        command: click.Command = getattr(module, found[1])
        command.name = cmd_name
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_, _, short) in COMMANDS.items()])


@click.group(cls=LazyGroup,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="shsync")
def cli() -> None:
    """Run a group therapy practice's organization as code.

    Declare members, roles, supervision and client access in YAML; validate it, plan it against
    the live practice, and apply the plan safely, all or nothing.
    """


def main(argv: Any = None) -> None:
    cli(args=argv, prog_name="shsync")

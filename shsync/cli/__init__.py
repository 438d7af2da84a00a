"""The command line: parse, call the library, render, exit code. Nothing else imports click.

Each command lives in its own module and is imported only when it runs, so `shsync --help`
and `shsync --version` start without loading the planner, pydantic or a database driver.
`COMMANDS` is the one table of commands: name -> (module, function, one-line help).
"""

from __future__ import annotations

import errno
import importlib
import io
import os
import sys
from typing import Any

import click

from shsync import __version__
# The exit codes are the table's (shsync.errors): 64 a mistake in the command line itself
# (sysexits.h EX_USAGE), 3 changed and committed, but the report of it could not be written.
from shsync.errors import CODES, EXIT_UNREPORTED, EXIT_USAGE

COMMANDS: dict[str, tuple[str, str, str]] = {
    "validate": ("validate", "validate", "Check an org file (or a directory of them)."),
    "schema": ("validate", "schema", "Print the JSON Schema of the org file format."),
    "plan": ("plan", "plan", "Show what applying an org file would change."),
    "apply": ("plan", "apply_command", "Apply a saved plan, or plan an org file and apply it."),
    "approve": ("approvals", "approve", "Approve a stored plan (the two-person rule)."),
    "plans": ("approvals", "plans", "List stored plans, their approvals and status."),
    "accepted": ("lifecycle", "accepted", "Record that members accepted their invitations."),
    "refresh": ("lifecycle", "refresh", "Record what was observed in Sessions Health."),
    "access": ("access", "access", "Show effective access: who can see what, and why."),
    "onboard": ("onboard", "onboard", "Turn an HR roster (CSV) into org files."),
    "seed": ("store", "seed", "Load a practice snapshot into an empty store."),
    "export": ("store", "export", "Write the live practice as an org file."),
    "history": ("store", "history", "Show (and verify) the audit log."),
    "graph": ("pictures", "graph", "Draw the supervision tree, or who can see a client."),
    "report": ("pictures", "report", "Write the access review as one HTML page."),
    "completion": ("pictures", "completion", "Print the shell completion script."),
    "break-glass": ("emergency", "break_glass", "Emergency access to one client, for a while."),
    "expire": ("emergency", "expire", "Take back access whose end has passed."),
    "review": ("emergency", "review", "Record an administrator's review of emergency access."),
    "serve": ("serve", "serve", "Serve the store over HTTP (tokens, plans, applies)."),
    "token": ("tokens", "token", "Create, list and revoke API tokens for `shsync serve`."),
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

    def resolve_command(self, ctx: click.Context,
                        args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        """click's, with a did-you-mean for a mistyped command (`plna` -> `plan`): click takes
        its suggestions from `self.commands`, which a lazy group leaves empty."""
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as exc:
            if exc.possibilities:
                raise
            raise click.exceptions.NoSuchCommand(exc.command_name, possibilities=list(COMMANDS),
                                                 ctx=ctx) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_, _, short) in COMMANDS.items()])

    def main(self, args: Any = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        """Click's main, but a usage error exits 64 (EX_USAGE), never 2: with
        `--detailed-exitcode`, 2 means "changes pending", and CI must not read a typo as that."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        _stand_in_for_closed_streams()
        argv = sys.argv[1:] if args is None else list(args)
        try:
            returned = super().main(args, prog_name, complete_var, standalone_mode=False,
                                    **extra)
        except click.UsageError as exc:
            _usage_error(exc, _wants_json(argv))
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        except Unwritten as exc:  # writing to standard output failed: a full disk, a closed pipe
            _unreported(exc.error)
        except OSError as exc:
            _unreported(exc)
        # `--help` and `--version` come back as their exit code; commands return None.
        sys.exit(returned if isinstance(returned, int) else 0)


    # Click ends an EPIPE (standard output is a pipe whose reader has gone) with a silent exit
    # 1, even after an apply committed: a failed write is carried past it as `Unwritten`.
    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except OSError as exc:
            raise Unwritten(exc) from exc

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OSError as exc:
            raise Unwritten(exc) from exc


class Unwritten(Exception):  # noqa: N818  (not an error of its own: it carries the OSError)
    """A write to standard output failed inside a command; `error` is the OSError."""

    def __init__(self, error: OSError):
        super().__init__(error)
        self.error = error


@click.group(cls=LazyGroup,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="shsync")
@click.option("--no-color", "--no-colour", "no_color", is_flag=True,
              help="Never colour the output (also: the NO_COLOR environment variable).")
@click.pass_context
def cli(ctx: click.Context, no_color: bool) -> None:
    """Run a group therapy practice's organization as code.

    Declare members, roles, supervision and client access in YAML; validate it, plan it against
    the live practice, and apply the plan safely, all or nothing.

    Exit codes: 0 done, 1 error (nothing changed), 2 changes pending (only with
    --detailed-exitcode), 3 changed, but the report could not be written, 64 a mistake in the
    command line.
    """
    ctx.meta["shsync.no_color"] = no_color


class _ClosedOutput(io.RawIOBase):
    """Standard output closed by the caller (`>&-`): every write fails as a write to a closed
    descriptor does, so the report that cannot be written is `output-failed` (exit 1, or 3 after
    a commit), never lost in silence."""

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))


def _stand_in_for_closed_streams() -> None:
    """Python sets a stream the caller closed to None: `None.isatty()` was a traceback. A closed
    input reads as empty (not a terminal); a closed output fails on the first write; a closed
    error stream swallows what is written to it (the exit code still tells)."""
    if sys.stdin is None:
        sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115  (for the whole run)
    if sys.stdout is None:
        sys.stdout = io.TextIOWrapper(io.BufferedWriter(_ClosedOutput()), encoding="utf-8")
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115


def _wants_json(argv: list[str]) -> bool:
    """`--format json` anywhere on a command line click refused: scripts then read JSON."""
    pairs = zip(argv, argv[1:], strict=False)
    return "--format=json" in argv or any(a == "--format" and b == "json" for a, b in pairs)


def _usage_error(exc: click.UsageError, as_json: bool) -> None:
    """Exit 64 with click's usage text on stderr and, with `--format json`, the JSON envelope on
    stdout; a stream that cannot be written neither changes the exit code nor is a traceback."""
    try:
        exc.show()
    except OSError:
        pass  # standard error is broken: the exit code still tells
    if as_json:
        from shsync.cli.common import envelope

        try:
            click.echo(envelope(False, [{"severity": "error", "code": "usage",
                                         "message": exc.format_message(), "file": None,
                                         "line": None, "column": None}]), nl=False)
        except OSError as failed:
            _quiet_stdout()
            _say(f"error[output-failed]: could not write to standard output: {_why(failed)}; "
                 "nothing was changed")
    sys.exit(EXIT_USAGE)


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _quiet_stdout() -> None:
    """What is still buffered for a broken stdout goes nowhere, as Python's documentation
    advises for a closed pipe, so exiting does not fail again with a traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):
        sys.stdout = None  # closed: nothing is flushed at exit


def _say(message: str) -> None:
    try:
        click.echo(message, err=True)
    except OSError:
        pass


def _unreported(exc: OSError) -> None:
    """Say on stderr what could not be written, and whether anything was changed before: an
    audit entry, or a change the audit log does not hold (a token, a stored plan, an approval:
    `common.changed`). Exit 3 when something was, 1 when nothing was."""
    from shsync.cli.common import CHANGED, committed
    from shsync.render.escape import shown, visible

    written = committed()
    why = _why(exc)
    # A failure naming a file (one the command was writing after its change) names it.
    target = "standard output" if exc.filename is None else shown(os.fsdecode(exc.filename), 120)
    _quiet_stdout()
    if written:
        last = written[-1]
        message = (f"error[output-failed]: the change WAS applied and committed, as audit "
                   f"entry #{last.seq} (head {last.entry_hash}), but its report could not be "
                   f"written to {target}: {why}")
    elif CHANGED:
        message = (f"error[output-failed]: the change WAS made "
                   f"({'; '.join(what for what, _ in CHANGED)}), but its report could not be "
                   f"written to {target}: {why}")
        message += "".join(f". {advice}" for _, advice in CHANGED if advice)
    else:
        message = f"error[output-failed]: could not write to {target}: {why}; nothing was " \
                  "changed"
    _say(visible(message))
    sys.exit(EXIT_UNREPORTED if written or CHANGED else CODES["output-failed"].exit)


def main(argv: Any = None) -> None:
    cli(args=argv, prog_name="shsync")

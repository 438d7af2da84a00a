"""The command line: parse, call the library, render, exit code. Nothing else imports click.

The program is a lazy group (click's documented pattern, "Lazily Loading Subcommands"): each
command lives in its own module, named in `COMMANDS`, and that module is imported only when the
command runs or its own help is asked for. `shsync --help` lists the commands from `COMMANDS` and
`SUMMARIES` and imports none of them; `shsync --version` is answered before click is imported
(shsync/entry.py).
"""

from __future__ import annotations

import errno
import importlib
import io
import os
import sys
from gettext import gettext, ngettext
from typing import Any

import click

from shsync import __version__
# The exit codes are the table's (shsync.errors): 64 a mistake in the command line itself
# (sysexits.h EX_USAGE), 3 changed and committed, but the report of it could not be written.
from shsync.errors import CODES, EXIT_UNREPORTED, EXIT_USAGE

#: The commands, in the order `shsync --help` lists them: name -> "module.path:attribute" of the
#: click command (click's `lazy_subcommands`), imported on first use.
COMMANDS: dict[str, str] = {
    "init": "shsync.cli.setup:init",
    "validate": "shsync.cli.validate:validate",
    "schema": "shsync.cli.validate:schema",
    "plan": "shsync.cli.plan:plan",
    "apply": "shsync.cli.plan:apply_command",
    "adopt": "shsync.cli.setup:adopt",
    "approve": "shsync.cli.approvals:approve",
    "plans": "shsync.cli.approvals:plans",
    "accepted": "shsync.cli.lifecycle:accepted",
    "refresh": "shsync.cli.lifecycle:refresh",
    "runbook": "shsync.cli.runbook:runbook",
    "done": "shsync.cli.runbook:done",
    "show": "shsync.cli.runbook:show",
    "access": "shsync.cli.access:access",
    "onboard": "shsync.cli.onboard:onboard",
    "seed": "shsync.cli.store:seed",
    "export": "shsync.cli.store:export",
    "history": "shsync.cli.store:history",
    "graph": "shsync.cli.pictures:graph",
    "report": "shsync.cli.pictures:report",
    "completion": "shsync.cli.pictures:completion",
    "break-glass": "shsync.cli.emergency:break_glass",
    "expire": "shsync.cli.emergency:expire",
    "review": "shsync.cli.emergency:review",
    "serve": "shsync.cli.serve:serve",
    "token": "shsync.cli.tokens:token",
}

#: The line `shsync --help` gives each command. Click would import every command's module for
#: its docstring's first sentence (and cut that at the terminal's width); these are written to
#: fit, and listing them imports nothing. tests/cli/test_lazy.py holds them to COMMANDS.
SUMMARIES: dict[str, str] = {
    "init": "Write shsync.toml: this repository's store and org files.",
    "validate": "Check an org file (or a directory of them).",
    "schema": "Print the JSON Schema of the org file format.",
    "plan": "Show what applying an org file would change.",
    "apply": "Apply a saved plan, or plan an org file and apply it.",
    "adopt": "Record a practice that already runs in Sessions Health.",
    "approve": "Approve a stored plan (the two-person rule).",
    "plans": "List stored plans, their approvals and status.",
    "accepted": "Record that members accepted their invitations.",
    "refresh": "Record what was observed in Sessions Health.",
    "runbook": "Show what people must still do in Sessions Health.",
    "done": "Record runbook steps as carried out in Sessions Health.",
    "show": "Show a saved plan in any format (runbook too).",
    "access": "Show effective access: who can see what, and why.",
    "onboard": "Turn an HR roster (CSV) into org files.",
    "seed": "Load a practice snapshot into an empty store.",
    "export": "Write the live practice as an org file.",
    "history": "Show (and verify) the audit log.",
    "graph": "Draw the supervision tree, or who can see a client.",
    "report": "Write the access review as one HTML page.",
    "completion": "Print the shell completion script.",
    "break-glass": "Emergency access to one client, for a while.",
    "expire": "Take back access whose end has passed.",
    "review": "Record an administrator's review of emergency access.",
    "serve": "Serve the store over HTTP (tokens, plans, applies).",
    "token": "Create, list and revoke API tokens for `shsync serve`.",
}


if hasattr(click.exceptions, "NoSuchCommand"):  # click 8.4 and later
    NoSuchCommand = click.exceptions.NoSuchCommand
else:
    class NoSuchCommand(click.UsageError):  # type: ignore[no-redef]
        """click 8.4's NoSuchCommand, for an older click: the same message and did-you-mean."""

        def __init__(self, command_name: str, message: str | None = None,
                     possibilities: Any = None, ctx: click.Context | None = None) -> None:
            if message is None:
                message = gettext("No such command {name!r}.").format(name=command_name)
            super().__init__(message, ctx)
            self.command_name = command_name
            if possibilities:
                from difflib import get_close_matches

                self.possibilities = get_close_matches(command_name, possibilities) or None
            else:
                self.possibilities = None

        def format_message(self) -> str:
            if not self.possibilities:
                return self.message
            shown = ", ".join(repr(p) for p in sorted(self.possibilities))
            return f"{self.message} " + ngettext(
                "Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)",
                len(self.possibilities)).format(possibility=shown, possibilities=shown)


class LazyGroup(click.Group):
    """A group whose commands are imported on first use (click's "Lazily Loading Subcommands"):
    `lazy_subcommands` maps a command's name to "module.path:attribute", in the order help lists
    them, and `summaries` gives the line help lists for each, so that listing them imports none."""

    def __init__(self, *args: Any, lazy_subcommands: dict[str, str] | None = None,
                 summaries: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_subcommands = dict(lazy_subcommands or {})
        self.summaries = dict(summaries or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *self.lazy_subcommands]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_subcommands:
            return self._lazy_load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def _lazy_load(self, cmd_name: str) -> click.Command:
        import_path = self.lazy_subcommands[cmd_name]
        module_name, attribute = import_path.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise ValueError(f"lazy loading of {import_path} returned a non-command object")
        return command

    def resolve_command(self, ctx: click.Context,
                        args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        """click's, with a did-you-mean for a mistyped command (`plna` -> `plan`): click takes
        its suggestions from `self.commands`, which a lazy group leaves empty, and before 8.4
        gives none (its "No such command" is then a plain UsageError, the only one a group's
        resolving raises: its parsing errors are UsageError's subclasses)."""
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            name = click.utils.make_str(args[0])
            unknown = isinstance(exc, NoSuchCommand) or (
                type(exc) is click.UsageError and name not in self.lazy_subcommands)
            if not unknown or getattr(exc, "possibilities", None):
                raise
            raise NoSuchCommand(getattr(exc, "command_name", name),
                                possibilities=self.list_commands(ctx), ctx=ctx) from None

    def rearranged(self, argv: list[str]) -> list[str]:
        """The command line as Terraform and git users write it, in click's order: a global
        option may come before or after the command (`shsync --backend URL plan org/`, `shsync
        plan org/ --no-color`), and a long option with one dash (`-out`, `-no-color`) is a
        usage error that names the option meant, never `-o ut`."""
        argv = [str(a) for a in argv]
        at = _command_at(argv)
        if at is None or argv[at] not in self.lazy_subcommands:
            _single_dash(argv[:at] if at is not None else argv,
                         {"no-color", "no-colour", *GLOBAL_VALUED})
            if at is not None:  # no such command: say that, not that an option is unknown
                return [*_without_globals(argv[:at]), *argv[at:]]
            return argv
        command = self._lazy_load(argv[at])
        if isinstance(command, click.Group):
            # A group's own commands (token create, ...) have options of their own: the line
            # after it is theirs, as written.
            _single_dash(argv[:at], {"no-color", "no-colour", *GLOBAL_VALUED})
            return argv
        names, valued = _options_of(command)
        before, rest = argv[:at], argv[at + 1:]
        _single_dash(before, names | {"no-color", "no-colour"} | set(GLOBAL_VALUED))
        group: list[str] = []
        moved: list[str] = []
        i = 0
        while i < len(before):
            token = before[i]
            name = token.split("=", 1)[0]
            if name in ("--no-color", "--no-colour") or not name.startswith("--"):
                group.append(token)
            elif name.lstrip("-") in GLOBAL_VALUED:
                if name.lstrip("-") not in names:
                    raise click.UsageError(f"{name} does not apply to `shsync {argv[at]}`")
                take = 1 if "=" in token else 2
                moved += before[i:i + take]
                i += take
                continue
            else:
                group.append(token)
            i += 1
        kept: list[str] = []
        i = 0
        while i < len(rest):
            token = rest[i]
            if token == "--":
                kept += rest[i:]
                break
            if token in ("--no-color", "--no-colour"):
                group.append(token)
            elif token.startswith("-") and not token.startswith("--") and len(token) > 2 \
                    and token[1:].split("=", 1)[0] in names | {"no-color", "no-colour"}:
                _single_dash([token], names | {"no-color", "no-colour"})
            elif token in valued and i + 1 < len(rest):
                kept += rest[i:i + 2]  # an option's value is never an option of its own
                i += 2
                continue
            else:
                kept.append(token)
            i += 1
        return [*group, argv[at], *moved, *kept]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, self.summaries[name]) for name in self.list_commands(ctx)])

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
            if complete_var is None and "_SHSYNC_COMPLETE" not in os.environ:
                args = self.rearranged(argv)
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


#: Options of many commands that may also be given before the command, as a global option.
GLOBAL_VALUED = ("backend", "actor", "format")
# The group's own options that take no value; `--version` and `--help` end the parsing.
_GROUP_FLAGS = ("--no-color", "--no-colour", "--version", "-h", "--help")


def _command_at(argv: list[str]) -> int | None:
    """Where the command's name is: the first word that is neither a group flag nor a global
    option with its value."""
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--" or not token.startswith("-"):
            return i if token != "--" else None
        if token in _GROUP_FLAGS or "=" in token:
            i += 1
        elif token.lstrip("-") in GLOBAL_VALUED and token.startswith("--"):
            i += 2
        else:
            i += 1
    return None


def _without_globals(tokens: list[str]) -> list[str]:
    kept, i = [], 0
    while i < len(tokens):
        name = tokens[i].split("=", 1)[0]
        if name.startswith("--") and name[2:] in GLOBAL_VALUED:
            i += 1 if "=" in tokens[i] else 2
            continue
        kept.append(tokens[i])
        i += 1
    return kept


def _options_of(command: click.Command) -> tuple[set[str], set[str]]:
    """(every long option's name without dashes, the spellings of those that take a value)."""
    names: set[str] = set()
    valued: set[str] = set()
    for param in command.params:
        if not isinstance(param, click.Option):
            continue
        for spelling in [*param.opts, *param.secondary_opts]:
            if spelling.startswith("--"):
                names.add(spelling[2:])
            if not param.is_flag and not param.count:
                valued.add(spelling)
    return names, valued


def _single_dash(tokens: list[str], names: set[str]) -> None:
    for token in tokens:
        if token == "--":
            return
        if token.startswith("-") and not token.startswith("--") and len(token) > 2:
            name = token[1:].split("=", 1)[0]
            if name in names:
                raise click.UsageError(f"{token.split('=', 1)[0]} is not an option: shsync's long "
                                       f"options take two dashes (--{name})")


class Unwritten(Exception):  # noqa: N818  (not an error of its own: it carries the OSError)
    """A write to standard output failed inside a command; `error` is the OSError."""

    def __init__(self, error: OSError):
        super().__init__(error)
        self.error = error


@click.group(cls=LazyGroup, lazy_subcommands=COMMANDS, summaries=SUMMARIES,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="shsync")
@click.option("--no-color", "--no-colour", "no_color", is_flag=True,
              help="Never colour the output (also: the NO_COLOR environment variable).")
@click.pass_context
def cli(ctx: click.Context, no_color: bool) -> None:
    """Run a group therapy practice's organization as code.

    Declare members, roles, supervision and client access in YAML; validate it, plan it against
    the live practice, and apply the plan safely, all or nothing.

    --backend, --actor and --format may also come before the command, and --no-color after
    it. The store comes from --backend, SHSYNC_BACKEND or the repository's shsync.toml
    (`shsync init`); in CI, or with no terminal, naming none is an error.

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

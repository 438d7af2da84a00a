"""Shared pieces of the command line: options, error handling, styling, exit codes.

Only light modules are imported at the top: `validate` and `schema` use this module too, and must
start without the application, the planner or a store (tests/cli/test_startup.py).
"""

from __future__ import annotations

import functools
import os
import json
import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from shsync.jobs import outfile
from shsync.cli import colour
from shsync.model.diagnostics import Diagnostic, Severity
from shsync.errors import (
    CODES,
    EXIT_CHANGES as EXIT_CHANGES,
    EXIT_ERROR as EXIT_ERROR,
    EXIT_OK as EXIT_OK,
    FileRefused,
    InvalidInput,
    ShsyncError,
    exit_of,
)  # fmt: skip
from shsync.render.escape import shown, visible
from shsync.render.notices import collapse

if TYPE_CHECKING:
    from shsync.jobs import app
    from shsync.stores.base import Backend

#: The version of the JSON envelope every `--format json` output shares (a plan's own JSON
#: carries the plan format's version instead, and the same `ok`/`errors`/`warnings` keys).
JSON_VERSION = 1

_COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow"}


def envelope(ok: bool, errors: Sequence[dict[str, Any]] = (),
             warnings: Sequence[dict[str, Any]] = (), **payload: Any) -> str:
    """`{"format_version", "ok", "errors", "warnings", ...payload}` as indented JSON."""
    return json.dumps({"format_version": JSON_VERSION, "ok": ok, "errors": list(errors),
                       "warnings": list(warnings), **payload}, indent=2) + "\n"


def entry_json(entry: Any) -> dict[str, object]:
    """An audit entry as the JSON outputs name it (`audit_entry`)."""
    return {"seq": entry.seq, "hash": entry.entry_hash, "kind": entry.kind or "apply",
            "at": entry.at, "written_at": entry.written_at, "actor": entry.actor}


def plan_with_entry(plan: Any, entry: Any, steps: Sequence[Any] = ()) -> str:
    """A plan's JSON with the audit entry that recorded it (`null`: nothing was recorded) and
    the runbook steps it recorded, for the commands that print a plan and then apply it
    (refresh, expire, accepted)."""
    from shsync.render import plan as render

    data = json.loads(render.as_json(plan))
    data["audit_entry"] = entry_json(entry) if entry is not None else None
    data["runbook"] = [s.to_dict() for s in steps]
    return json.dumps(data, indent=2) + "\n"


def runbook_note(steps: Sequence[Any], entry: Any) -> str:
    """What every command that records a change ends with: the steps it left for people to
    carry out in Sessions Health, or that it left none."""
    if not steps:
        return "Nothing to do in Sessions Health for this change.\n"
    ids = (steps[0].label if len(steps) == 1 else f"{steps[0].label} to {steps[-1].label}")
    first = min(s.due for s in steps)
    return (f"Recorded in shsync's store only: Sessions Health changes when people carry out "
            f"{len(steps)} new runbook step(s), {ids}, the first due {first}. Print them with "
            f"`shsync runbook --entry {entry.seq}`; record each with `shsync done R-N`.\n")


def diagnostic_dicts(diagnostics: Sequence[Diagnostic],
                     severity: Severity) -> list[dict[str, Any]]:
    return [d.as_dict() for d in diagnostics if d.severity is severity]


def error_dict(exc: ShsyncError) -> dict[str, Any]:
    """An error object of the envelope: the same keys as a diagnostic's."""
    return {"severity": "error", "code": exc.code, "message": str(exc), "file": exc.where,
            "line": None, "column": None}


def echo_diagnostics(diagnostics: Sequence[Diagnostic], fmt: str) -> None:
    if fmt == "json":
        click.echo(envelope(not any(d.severity is Severity.ERROR for d in diagnostics),
                            diagnostic_dicts(diagnostics, Severity.ERROR),
                            diagnostic_dicts(diagnostics, Severity.WARNING)), nl=False)
        return
    for d in collapse(diagnostics):
        click.echo(colour.style(visible(d.render()), _COLOURS[d.severity]))


def strictly(diagnostics: Sequence[Diagnostic], strict: bool) -> tuple[Diagnostic, ...]:
    return tuple(d.promoted() if strict else d for d in diagnostics)


# --- shared options and error handling -------------------------------------------------------

def handled(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn every user-facing failure into a clear message and its code's exit code (1: see
    shsync.errors.CODES), never a traceback.

    With `--format json` the failure is the JSON envelope on stdout (`ok: false`), so a script
    reading stdout always gets JSON; the text form goes to stderr as well for people."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        as_json = kwargs.get("fmt") == "json"
        MADE.clear()  # one command's changes (an in-process caller, like the tests, runs many)
        CHANGED.clear()
        failed: ShsyncError
        try:
            return command(*args, **kwargs)
        except _invalid_input() as exc:
            _after_a_change(exc, as_json)
            if as_json:
                echo_diagnostics(exc.diagnostics, "json")
            else:
                echo_diagnostics(exc.diagnostics, "text")
            click.echo(visible(f"error: {exc}; nothing was changed"), err=True)
            failed = exc
        except ShsyncError as exc:
            _after_a_change(exc, as_json)
            _report(exc, as_json)
            failed = exc
        except OSError as exc:
            # A file the command was given that the system refuses (a name too long, no
            # permission) where no check of ours caught it first. One without a name is a
            # write to standard output, and any failure after a change must say the change was
            # made: both are for the CLI's outer handler (cli/__init__.py, `_unreported`).
            if exc.filename is None or committed() or CHANGED:
                raise
            failed = FileRefused(f"{shown(os.fsdecode(exc.filename), 120)}: "
                                 f"{exc.strerror or type(exc).__name__}; nothing was changed")
            _report(failed, as_json)
        sys.exit(exit_of(failed))

    return wrapper


def _report(exc: ShsyncError, as_json: bool, *also: dict[str, Any]) -> None:
    if as_json:
        click.echo(envelope(False, [error_dict(exc), *also]), nl=False)
    click.echo(visible(exc.render()), err=True)
    for error in also:
        click.echo(visible(f"error[{error['code']}]: {error['message']}"), err=True)


def _after_a_change(exc: ShsyncError, as_json: bool) -> None:
    """An error after this command committed a change (a later batch of `apply --batch-size`,
    the `-o` file of `plan --save`): exit 3, saying what WAS committed, never exit 1, which
    says that nothing was changed. Nothing to do when nothing was."""
    written = committed()
    if not written and not CHANGED:
        return
    if written:
        last = written[-1]
        done = (f"the change WAS applied and committed, as audit entry #{last.seq} (head "
                f"{last.entry_hash})")
    else:
        done = f"the change WAS made ({'; '.join(what for what, _ in CHANGED)})"
    _report(exc, as_json, {"severity": "error", "code": "partly-applied", "file": None,
                           "line": None, "column": None,
                           "message": f"before that error, {done}; what came after it was not"})
    sys.exit(CODES["partly-applied"].exit)


class GivenPath(click.Path):
    """click's Path, except that an empty one is a mistake, not the current directory: a
    script's unset variable (`shsync apply "$ORG" --auto-approve`) must not read every YAML
    file where it runs. `.` still names the current directory."""

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            self.fail("is empty: give a file or a directory (`.` for this one)", param, ctx)
        return super().convert(value, param, ctx)


class GivenText(click.ParamType):
    """A duration, time or email option's value, which may not be empty: `--for ''` (a script's
    unset variable) is a mistake in the command line (exit 64), never the default."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            self.fail("is empty: give a value, or leave the option out for its default", param,
                      ctx)
        return value


GIVEN = GivenText()


def _invalid_input() -> type[InvalidInput]:
    return InvalidInput


def _given_backend(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise click.BadParameter("is empty: name a store (sqlite:///PATH, postgresql://..., or "
                                 "a server's https://HOST/practices/NAME)", ctx, param)
    return value


def backend_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--backend", "backend_url", default=None, metavar="URL", callback=_given_backend,
        help="Where the live practice is kept: sqlite:///PATH, postgresql://USER@HOST/DB, or "
             "a server's https://HOST/practices/NAME with SHSYNC_TOKEN. Default: "
             "SHSYNC_BACKEND, else `backend` in shsync.toml, else sqlite:///.shsync/practice.db "
             "at a terminal (in CI, or with no terminal, naming none is error[no-backend]).")(
        command)


def actor_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--actor", envvar="SHSYNC_ACTOR", metavar="EMAIL", default=None,
                        type=GIVEN,
                        help="Act as this member, with only their rights (env SHSYNC_ACTOR). "
                             "Default: the operator holding the store's credentials.")(command)


def plan_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option("--assume-accepted", is_flag=True,
                           help="Migration only: record every member as having accepted, so no "
                                "step waits for an acceptance.")(command)
    command = actor_option(command)
    command = click.option("--allow-mass-removal", is_flag=True,
                           help="Allow removing more members than --max-removals.")(command)
    return click.option("--max-removals", type=click.IntRange(min=0), default=None,
                        help="Refuse plans removing more members than this "
                             "[default: 10% of the practice, at least 1].")(command)


def application(stack: ExitStack, url: str | None, actor: str | None,
                lock_timeout: float = 60.0, *, create: bool = False,
                or_nothing: bool = False) -> app.Shsync:
    """The application object for one command: its store, who is acting, the clock.

    Only commands that write a practice (seed, adopt, apply) pass `create`; every other command
    refuses a missing store or practice (`no-practice`) and creates nothing. With `or_nothing`
    (plan, and apply until it writes) a SQL store or practice that does not exist yet is an
    empty practice in memory (`app.nothing_yet`): nothing is created, and `is_nothing_yet`
    says so."""
    from shsync.jobs import app
    from shsync.errors import NoPractice

    if actor is None and "SHSYNC_ACTOR" in os.environ:
        # click reads an empty SHSYNC_ACTOR as unset, which would be the operator's full
        # rights; an actor that is set must name someone.
        actor = os.environ["SHSYNC_ACTOR"]
    resolved = store_url(url)
    try:
        backend = open_url(stack, resolved, lock_timeout, create=create)
    except NoPractice:
        if not or_nothing or resolved.startswith(("http://", "https://")):
            raise  # a server's practice is made by its operator, with a token for it
        from shsync.stores.url import practice_in

        backend = app.nothing_yet(practice_in(resolved))
        stack.callback(backend.close)
    # A server's token says who is acting; --actor may only repeat it (the server refuses a
    # member token claiming anyone else).
    identity = getattr(backend, "identity", None)
    who = identity if identity is not None and actor is None else app.actor(actor)
    if identity is not None and identity.email is not None and who != identity:
        from shsync.errors import Forbidden

        raise Forbidden(f"this token acts as {identity.email}; it cannot act as anyone else "
                        f"(--actor {who.email or 'the operator'})")
    made = app.Shsync(backend, who, app.now)
    MADE.append(made)
    return made


# Every application object this process made: if writing the report fails after a commit, the
# error says which audit entries were written (cli/__init__.py, LazyGroup.main).
MADE: list[Any] = []


def committed() -> list[Any]:
    return [e for made in MADE for e in made.written]


#: Changes this process made that are not audit entries (a token created or revoked, a plan
#: stored or approved), with advice if their report is lost: (what, advice or "").
CHANGED: list[tuple[str, str]] = []


def changed(what: str, advice: str = "") -> None:
    """Record a change that is not an audit entry, so that a report that cannot be written
    says it WAS made (exit 3), never "nothing was changed"."""
    CHANGED.append((what, advice))


def org_or_config(path: Path | None, command: str) -> Path:
    """The org files a command reads: PATH, else `org` in the repository's shsync.toml."""
    if path is not None:
        return path
    from shsync.jobs import config

    found = config.org_path(None, config.nearest())
    if found is None:
        raise click.UsageError(f"{command} needs PATH, the org file or directory (or `org` in a "
                               "shsync.toml: `shsync init` writes one)")
    return found


def is_nothing_yet(shsync: app.Shsync) -> bool:
    """Is this application's practice a stand-in for one that does not exist yet?"""
    return bool(getattr(shsync.backend, "nothing_yet", False))


def store_url(flag: str | None) -> str:
    """The store a command opens: the flag, SHSYNC_BACKEND, shsync.toml or the default
    (shsync.jobs.config), or `error[no-backend]`."""
    from shsync.jobs import config

    return config.store(flag, config=config.nearest()).url


def open_store(stack: ExitStack, url: str | None, lock_timeout: float = 60.0, *,
               create: bool = False) -> Backend:
    """The store `--backend` (None: not given) names, as `store_url` finds it, opened."""
    return open_url(stack, store_url(url), lock_timeout, create=create)


def open_url(stack: ExitStack, url: str, lock_timeout: float = 60.0, *,
             create: bool = False) -> Backend:
    """A store URL already found (`store_url`), opened and closed with the stack."""
    from shsync.stores import open_backend

    backend = open_backend(url, lock_timeout, create=create)
    stack.callback(backend.close)
    return backend


def render_plan(plan: Any, fmt: str) -> str:
    from shsync.render import plan as render

    if fmt == "json":
        return render.as_json(plan)
    if fmt == "markdown":
        return render.markdown(plan)
    if fmt == "runbook":
        return render.runbook(plan)
    return render.text(plan, colour.styler())


def out_option(help: str, *more: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`-o/--out FILE`, the same two spellings on every command that writes a file (`more`:
    older spellings a command keeps)."""
    return click.option("-o", "--out", *more, "out", type=GivenPath(path_type=Path), help=help)


def write_output(out: Path, text: str, *, force: bool = True) -> bool:
    """Write a command's output to OUT atomically (`-` is standard output); `force=False`
    refuses to replace an existing file. True when a file was written."""
    if str(out) == "-":
        click.echo(text, nl=False)
        return False
    outfile.write_text(out, text, overwrite=force)
    return True


def echo_warnings(diagnostics: Sequence[Diagnostic]) -> None:
    for d in collapse(diagnostics):
        click.echo(visible(d.render()), err=True)

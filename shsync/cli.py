"""The command line: parse, call the library, render, exit code. Nothing else imports click."""

from __future__ import annotations

import functools
import json
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click

from shsync import __version__, app
from shsync import onboard as onboarding
from shsync.backends import DEFAULT_URL, open_backend
from shsync.backends.base import Backend, BackendError, verify_chain
from shsync.diagnostics import Diagnostic, Severity
from shsync.reconcile.planner import Options
from shsync.render import access as render_access
from shsync.render import plan as render
from shsync.schema import published
from shsync.schema.load import load_org

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2

_COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow"}


def _echo_diagnostics(diagnostics: Sequence[Diagnostic], fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps([d.as_dict() for d in diagnostics], indent=2))
        return
    for d in diagnostics:
        text = d.render()
        click.echo(click.style(text, fg=_COLOURS[d.severity]) if sys.stdout.isatty() else text)


def _strictly(diagnostics: Sequence[Diagnostic], strict: bool) -> tuple[Diagnostic, ...]:
    return tuple(d.promoted() if strict else d for d in diagnostics)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="shsync")
def cli() -> None:
    """Run a group therapy practice's organization as code.

    Declare members, roles, supervision and client access in YAML; validate it, plan it against
    the live practice, and apply the plan safely, all or nothing.
    """


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="How to print the diagnostics.")
def validate(path: Path, strict: bool, fmt: str) -> None:
    """Check an org file (or a directory of them) against the schema and the practice's rules.

    Exit 0 when valid (warnings alone pass unless --strict), 1 when not.
    """
    loaded = load_org(path)
    diagnostics = _strictly(loaded.diagnostics, strict)
    _echo_diagnostics(diagnostics, fmt)
    failed = any(d.severity is Severity.ERROR for d in diagnostics)
    if fmt == "text":
        errors = sum(d.severity is Severity.ERROR for d in diagnostics)
        warnings = len(diagnostics) - errors
        if failed:
            click.echo(f"{path}: {errors} error(s), {warnings} warning(s)", err=True)
        else:
            org = loaded.model
            assert org is not None
            click.echo(f"{path}: valid ({len(org.members)} members, {len(org.clients)} clients"
                       f"{f', {warnings} warning(s)' if warnings else ''})", err=True)
    sys.exit(EXIT_ERROR if failed else EXIT_OK)


@cli.command()
@click.option("--snapshot", is_flag=True, help="The snapshot format (shsync seed) instead.")
def schema(snapshot: bool) -> None:
    """Print the JSON Schema (Draft 2020-12) of the org file format.

    Editors (yaml-language-server) and CI (check-jsonschema) can use it directly.
    """
    click.echo(published.text("snapshot" if snapshot else "org"), nl=False)


# --- shared options and error handling -------------------------------------------------------

def _handled(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn every user-facing failure into a clear message and exit code 1, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except app.InvalidInput as exc:
            _echo_diagnostics(exc.diagnostics, "text")
            click.echo(f"error: {exc}; nothing was changed", err=True)
        except app.UserError as exc:
            click.echo(str(exc) if exc.code else f"error: {exc}", err=True)
        except BackendError as exc:
            click.echo(f"error[{exc.code}]: {exc}", err=True)
        sys.exit(EXIT_ERROR)

    return wrapper


def _backend_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--backend", "backend_url", envvar="SHSYNC_BACKEND", default=DEFAULT_URL,
        show_default=True, metavar="URL",
        help="Where the live practice is kept: sqlite:///PATH or postgresql://USER@HOST/DB "
             "(env SHSYNC_BACKEND).")(command)


def _plan_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option("--allow-pending-grants", is_flag=True,
                           help="Allow granting client access to members who have not accepted "
                                "their invitation (bulk migration).")(command)
    command = click.option("--actor", envvar="SHSYNC_ACTOR", metavar="EMAIL", default=None,
                           help="Act as this member, with only their rights (env SHSYNC_ACTOR). "
                                "Default: the operator holding the backend's credentials.")(command)
    command = click.option("--allow-mass-removal", is_flag=True,
                           help="Allow removing more members than --max-removals.")(command)
    return click.option("--max-removals", type=click.IntRange(min=0), default=None,
                        help="Refuse plans removing more members than this "
                             "[default: 10% of the practice, at least 1].")(command)


def _open(stack: ExitStack, url: str, lock_timeout: float = 60.0) -> Backend:
    backend = open_backend(url, lock_timeout)
    stack.callback(backend.close)
    return backend


def _style(text: str, colour: str) -> str:
    return click.style(text, fg=colour) if sys.stdout.isatty() else text


def _render(plan: Any, fmt: str) -> str:
    if fmt == "json":
        return render.as_json(plan)
    if fmt == "markdown":
        return render.markdown(plan)
    if fmt == "runbook":
        return render.runbook(plan)
    return render.text(plan, _style)


# --- plan and apply ---------------------------------------------------------------------------

@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
@_backend_option
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False),
              help="Save the plan, to apply exactly it later with `shsync apply PLANFILE`.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown", "runbook"]),
              default="text", show_default=True)
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 2 when the plan has changes (drift detection), 0 when none.")
@_plan_options
@_handled
def plan(path: Path, backend_url: str, out: Path | None, fmt: str, detailed_exitcode: bool,
         max_removals: int | None, allow_mass_removal: bool, actor: str | None,
         allow_pending_grants: bool) -> None:
    """Show what applying the org file at PATH to the live practice would change, and who
    gains or loses access to which clients."""
    with ExitStack() as stack:
        backend = _open(stack, backend_url)
        planned = app.make_plan(path, backend, at=app.now(), who=app.actor(actor),
                                options=Options(max_removals, allow_mass_removal,
                                                allow_pending_grants))
    _echo_warnings(planned.diagnostics)
    result = planned.plan
    click.echo(_render(result, fmt), nl=False)
    if result.errors:
        if out:
            click.echo(f"error: the plan has errors; {out} was not written", err=True)
        sys.exit(EXIT_ERROR)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(result.to_file(), "utf-8")
        click.echo(f"Saved the plan to {out}; apply it with `shsync apply {out}`.", err=True)
    sys.exit(EXIT_CHANGES if detailed_exitcode and result.has_changes else EXIT_OK)


def _echo_warnings(diagnostics: Sequence[Diagnostic]) -> None:
    for d in diagnostics:
        click.echo(d.render(), err=True)


@cli.command("apply")
@click.argument("target", type=click.Path(path_type=Path))
@_backend_option
@click.option("--auto-approve", is_flag=True,
              help="Apply an org file's plan without asking (needed when not on a terminal).")
@click.option("--lock-timeout", type=click.FloatRange(min=0), default=60.0, show_default=True,
              help="Seconds to wait while another apply of the same practice holds the lock.")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, metavar="N",
              help="Apply an org file's invitations in waves of N, each its own transaction; "
                   "running it again after an interruption continues where it stopped.")
@_plan_options
@_handled
def apply_command(target: Path, backend_url: str, auto_approve: bool, lock_timeout: float,
                  batch_size: int | None, max_removals: int | None, allow_mass_removal: bool,
                  actor: str | None, allow_pending_grants: bool) -> None:
    """Apply a saved plan (PLANFILE from `plan --out`), or plan an org file and apply that.

    A saved plan is applied exactly as it was reviewed; if the live practice has changed since,
    it is refused and nothing changes. Either way the apply is one transaction: all or nothing.
    """
    who = app.actor(actor)
    with ExitStack() as stack:
        backend = _open(stack, backend_url, lock_timeout)
        at = app.now()
        options = Options(max_removals, allow_mass_removal, allow_pending_grants)
        if app.is_plan_file(target):
            if batch_size:
                raise app.UserError("--batch-size applies an org file, not a saved plan")
            result = app.read_plan_file(target)
        else:
            planned = app.make_plan(target, backend, at=at, who=who, options=options)
            _echo_warnings(planned.diagnostics)
            result = planned.plan
            click.echo(render.text(result, _style), nl=False)
            if result.errors:
                sys.exit(EXIT_ERROR)
            if result.has_changes and not auto_approve:
                _confirm()
        if not result.has_changes:
            click.echo("No changes to apply.")
            return
        if batch_size:
            _apply_in_waves(target, backend, at, who, batch_size, options,
                            result.summary.invite)
            return
        try:
            entry = _apply_with_progress(result, backend, at, who)
        except BackendError as exc:
            refused = app.UserError(f"{target}: error[{exc.code}]: {exc}")
            refused.code = exc.code
            raise refused from None
    click.echo(f"Applied. {result.summary.line()} Audit entry #{entry.seq} "
               f"({entry.plan_hash[:19]}).")


def _apply_in_waves(target: Path, backend: Backend, at: str, who: Any, size: int,
                    options: Options, total: int) -> None:
    started = time.monotonic()
    bar = click.progressbar(length=max(total, 1), label="Inviting", file=sys.stderr,
                            show_pos=True) if sys.stderr.isatty() else None

    def report(batch: app.Batch) -> None:
        rate = batch.invited / max(time.monotonic() - started, 1e-6)
        if bar is not None:
            bar.label = f"Inviting ({rate:,.0f}/s)"
            bar.update(batch.invited - bar.pos)
        else:
            last = " (final pass)" if batch.final else ""
            click.echo(f"batch {batch.number}{last}: {batch.invited:,} of {total:,} invited, "
                       f"{rate:,.0f}/s", err=True)

    with bar if bar is not None else ExitStack():
        batches = app.apply_in_batches(target, backend, who=who, at=at, size=size,
                                       options=options, on_batch=report)
    entries = [b.entry.seq for b in batches if b.entry]
    click.echo(f"Applied in {len(entries)} transaction(s); audit entries "
               f"{', '.join(f'#{n}' for n in entries) or 'none'}.")


def _confirm() -> None:
    if not sys.stdin.isatty():
        raise app.UserError("not on a terminal: pass --auto-approve to apply without asking, or "
                            "save a plan with `shsync plan --out` and apply that")
    if not click.confirm("Apply these changes?", default=False):
        raise app.UserError("not applied")


def _apply_with_progress(result: Any, backend: Backend, at: str, who: Any) -> Any:
    total = len(result.operations)
    if not sys.stderr.isatty() or total < 200:
        return app.apply(result, backend, who=who, at=at)
    with click.progressbar(length=total, label="Applying", file=sys.stderr,
                           show_pos=True, show_eta=True) as bar:
        state = {"done": 0}

        def advance(done: int) -> None:
            bar.update(done - state["done"])
            state["done"] = done

        return app.apply(result, backend, who=who, at=at, progress=advance)


# --- access --------------------------------------------------------------------------------

@cli.command()
@click.option("--client", "client_id", metavar="ID", help="Who can see this client, and why.")
@click.option("--member", metavar="EMAIL", help="What this member can see, and why.")
@click.option("--file", "org_path", type=click.Path(path_type=Path),
              help="Read an org file (or directory) instead of the live practice.")
@_backend_option
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True, help="json and csv: one row per member, client and capability.")
@_handled
def access(client_id: str | None, member: str | None, org_path: Path | None, backend_url: str,
           fmt: str) -> None:
    """Show effective access: each capability a member holds on a client, and the reason.

    Capabilities: record, notes, diagnoses, treatment_plans, schedule, billing, limited_info,
    manage_access, sign_notes. Reasons: assigned, admin, granted, scheduler, biller,
    supervisor, full_clinical_access.
    """
    if (client_id is None) == (member is None):
        raise app.UserError("give exactly one of --client ID or --member EMAIL")
    if org_path is not None:
        state = app.desired_state(org_path)
    else:
        with ExitStack() as stack:
            state = _open(stack, backend_url).read()
    rows = app.access_rows(state, client=client_id, member=member)
    if fmt == "json":
        click.echo(render_access.as_json(rows), nl=False)
    elif fmt == "csv":
        click.echo(render_access.as_csv(rows), nl=False)
    elif client_id is not None:
        click.echo(render_access.table_for_client(client_id, rows), nl=False)
    else:
        click.echo(render_access.table_for_member(str(member).lower(), rows, len(state.clients)),
                   nl=False)


# --- onboarding ----------------------------------------------------------------------------

def _mapping(pairs: Sequence[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        column, sep, field = pair.rpartition("=")
        if not sep or not column.strip() or not field.strip():
            raise app.UserError(f"--map {pair!r}: write it as COLUMN=FIELD, like "
                                "'Work Email=email'")
        mapping[column.strip()] = field.strip()
    return mapping


@cli.command()
@click.argument("roster", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-o", "--out", type=click.Path(path_type=Path, file_okay=False), default="org",
              show_default=True, help="The org directory to merge into (created if missing).")
@click.option("--map", "maps", multiple=True, metavar="COLUMN=FIELD",
              help="Map a roster column to a field, like 'Work Email=email' (repeatable).")
@click.option("--skip-invalid", is_flag=True,
              help="Write the good rows and report the rest, instead of writing nothing.")
@click.option("--update", is_flag=True,
              help="Replace members already declared whose data differ in the roster.")
@_handled
def onboard(roster: Path, out: Path, maps: tuple[str, ...], skip_invalid: bool,
            update: bool) -> None:
    """Turn an HR roster (CSV) into org files, checked with the same rules as validate.

    Columns map by header: email, first_name, last_name, roles (separated by ; or |), admin,
    npi, taxonomy, billing_access, supervised_by. Nothing is written unless every row is good
    (or --skip-invalid). Members already declared in OUT are never touched without --update.
    """
    try:
        outcome = onboarding.onboard(roster, out, _mapping(maps), skip_invalid=skip_invalid,
                                     update=update)
    except onboarding.OnboardRefused as exc:
        _echo_diagnostics(exc.outcome.diagnostics, "text")
        raise app.UserError("the roster has problems; nothing was written") from None
    _echo_diagnostics(outcome.diagnostics, "text")
    click.echo(f"Added {len(outcome.added)} member(s), updated {len(outcome.updated)}, "
               f"{len(outcome.unchanged)} already declared"
               + (f"; skipped rows {', '.join(map(str, outcome.skipped_rows))}"
                  if outcome.skipped_rows else "")
               + (f". Wrote {', '.join(str(p) for p in outcome.written)}." if outcome.written
                  else ". Nothing to write."), err=True)


# --- seed, export, history --------------------------------------------------------------------

@cli.command()
@click.argument("snapshot", type=click.Path(path_type=Path))
@_backend_option
@_handled
def seed(snapshot: Path, backend_url: str) -> None:
    """Load a practice snapshot (YAML) into an empty backend: the live state to plan against."""
    with ExitStack() as stack:
        backend = _open(stack, backend_url)
        state = app.seed(snapshot, backend)
    click.echo(f"Seeded practice {backend.practice!r} at {backend.display_url}: "
               f"{len(state.members)} members, {len(state.clients)} clients, "
               f"{len(state.appointments)} appointments, {len(state.notes)} notes.")


@cli.command()
@_backend_option
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Write to this file (or directory, with --split-by) instead of standard "
                   "output.")
@click.option("--split-by", type=click.Choice(["none", "role"]), default="none",
              show_default=True,
              help="role: a directory of files a team can own in parts: org.yaml, "
                   "members/<role>.yaml, clients.yaml.")
@_handled
def export(backend_url: str, output: Path | None, split_by: str) -> None:
    """Write the live practice as an org file (it validates and plans to no changes)."""
    with ExitStack() as stack:
        state = _open(stack, backend_url).read()
    if split_by == "role":
        if output is None:
            raise app.UserError("--split-by role writes a directory: give it with -o DIR")
        written = app.export_split(state, output)
        click.echo(f"Wrote {len(written)} files under {output}.", err=True)
        return
    text = app.export(state)
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, "utf-8")
        click.echo(f"Wrote {output}.", err=True)
    else:
        click.echo(text, nl=False)


@cli.command()
@_backend_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--verify", is_flag=True,
              help="Check the hash chain of the log and report the first broken entry.")
@_handled
def history(backend_url: str, fmt: str, verify: bool) -> None:
    """Show the audit log of applies: who, when, which plan, what changed.

    Each entry carries the hash of the one before it, so an edited or deleted entry shows.
    """
    with ExitStack() as stack:
        entries = _open(stack, backend_url).history()
    if verify:
        broken = verify_chain(entries)
        if broken:
            raise app.UserError(f"the audit log is not intact: {broken}")
        click.echo(f"The audit log is intact: {len(entries)} entr"
                   f"{'y' if len(entries) == 1 else 'ies'}, each chained to the one before.")
        return
    if fmt == "json":
        click.echo(json.dumps([e.to_dict() for e in entries], indent=2))
        return
    if not entries:
        click.echo("No applies yet.")
    for e in entries:
        s = e.summary
        click.echo(f"#{e.seq} {e.at} by {e.actor}: {s['invite']} invited, {s['change']} changed, "
                   f"{s['remove']} removed, {s['clients']} client(s) updated; "
                   f"{len(e.operations)} operation(s); plan {e.plan_hash[:19]}")


def main() -> None:
    cli(prog_name="shsync")

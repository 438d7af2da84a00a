"""`shsync plan` and `shsync apply`."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click

from shsync.jobs import app
from shsync.cli import colour
from shsync.cli.common import (
    GIVEN,
    GivenPath,
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    application,
    backend_option,
    changed,
    entry_json,
    envelope,
    echo_warnings,
    handled,
    is_nothing_yet,
    org_or_config,
    out_option,
    plan_options,
    render_plan,
    runbook_note,
    write_output,
)
from shsync.model.diagnostics import Severity
from shsync.errors import BackendError, NoPractice, ShsyncError
from shsync.core.plan import Plan
from shsync.core.operations import to_dict
from shsync.core.planner import Options
from shsync.render import plan as render


@click.command()
@click.argument("path", required=False, type=GivenPath(path_type=Path))
@backend_option
@out_option("Save the plan, to apply exactly it later with `shsync apply PLANFILE` "
            "(written whole or not at all; `-` for standard output).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown", "runbook"]),
              default="text", show_default=True,
              help="text: for a terminal; json: every step, the access delta, errors and "
                   "warnings; markdown: a pull-request comment; runbook: numbered steps to "
                   "carry out in Sessions Health.")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 2 when something is left to do (changes, expiries, emergency access, "
                   "or steps deferred until an invitation is accepted), 0 when nothing is.")
@click.option("--save", is_flag=True,
              help="Keep the plan in the store and print its id, for `shsync approve PLAN_ID` "
                   "(the two-person rule) and `shsync apply PLAN_ID`.")
@click.option("--at", "at", type=GIVEN, metavar="TIME",
              help="Plan as of this time (ISO, like 2026-12-04T17:00:00Z): preview what will "
                   "have expired by then. The store applies such a plan only once each end "
                   "it takes back has passed.")
@plan_options
@handled
def plan(path: Path | None, backend_url: str | None, out: Path | None, fmt: str,
         detailed_exitcode: bool, save: bool, at: str | None, max_removals: int | None,
         allow_mass_removal: bool, actor: str | None, assume_accepted: bool) -> None:
    """Show what applying the org file at PATH to the live practice would change, and who
    gains or loses access to which clients.

    \b
    Examples:
      shsync plan org/                                 # what would change
      shsync plan org/ -o plan.json                    # save it for review ...
      shsync apply plan.json                           # ... and apply just that
      shsync plan org/ --format markdown > comment.md  # a pull-request comment
      shsync plan org/ --detailed-exitcode             # exit 2 on drift
      shsync plan org/ --save                          # store it for approval:
      shsync approve PLAN_ID --actor dana@example.org  # an admin approves,
      shsync apply PLAN_ID                             # and its author applies
    """
    path = org_or_config(path, "plan")
    with ExitStack() as stack:
        shsync, org = _open(stack, backend_url, actor, path, at)
        planned = shsync.plan_org(org, Options(max_removals, allow_mass_removal,
                                               assume_accepted))
        result = planned.plan
        fresh = is_nothing_yet(shsync)
        if fresh and save:
            raise app.UserError(f"--save keeps the plan in the store, which holds no practice "
                                f"{result.practice!r} yet: save it to a file (-o plan.json) "
                                "and apply that, or apply the org file", "no-practice")
        stored = shsync.save_plan(result) if save and not result.errors else None
        if stored is not None:
            changed(f"plan stored as {stored.id}")
    echo_warnings(planned.diagnostics)
    if fresh and fmt != "json":
        click.echo(_nothing_yet_line(result) + "\n")
    # In JSON, standard output is one document: a plan file that cannot be written is then
    # the error envelope alone, not the plan followed by it.
    saved_first = fmt == "json" and not result.errors
    if saved_first and out is not None:
        _save(result, out)
    if fmt == "json" and stored is not None:
        click.echo(render.as_json(result, plan_id=stored.id,
                                  approvals_required=stored.required), nl=False)
    elif fresh and fmt == "json":
        click.echo(_with_new_practice(render.as_json(result), result), nl=False)
    else:
        click.echo(render_plan(result, fmt), nl=False)
    if result.errors:
        if out:
            click.echo(f"error: the plan has errors; {out} was not written", err=True)
        if save:
            click.echo("error: the plan has errors; it was not stored", err=True)
        sys.exit(EXIT_ERROR)
    if stored is not None and fmt != "json":
        click.echo(_stored_line(stored), err=fmt != "text")
    if out and not saved_first:
        _save(result, out)
    sys.exit(EXIT_CHANGES if detailed_exitcode and result.drift else EXIT_OK)


def _open(stack: ExitStack, backend_url: str | None, actor: str | None, path: Path,
          at: str | None) -> tuple[app.Shsync, app.OrgFile]:
    """The org file, read once, and the store to plan it against, on the planning clock
    (`--at`, SHSYNC_NOW or now).

    A time that cannot be read, the file's errors and a store that cannot be opened (none yet,
    unreachable) are reported together, in one run: a broken file planned against no store
    said only that there was no store, and the file's errors came a run later."""
    failed: list[ShsyncError] = []
    when: str | None = None
    try:
        when = app.parse_time(at, "--at") if at is not None else app.now()
    except ShsyncError as exc:
        failed.append(exc)
    org, diagnostics = app.read_org(path, when)
    try:
        shsync = application(stack, backend_url, actor, or_nothing=True)
    except BackendError as exc:
        failed.append(exc)
    bad_file = any(d.severity is Severity.ERROR for d in diagnostics)
    if bad_file or len(failed) > 1:
        raise app.InvalidInput((*(diagnostics if bad_file else ()),
                                *(exc.as_diagnostic() for exc in failed)))
    if failed:
        raise failed[0]
    assert org is not None  # a time, and a file without errors
    if at is not None:
        fixed = org.at
        shsync = app.Shsync(shsync.backend, shsync.who, lambda: fixed)
    return shsync, org


def _nothing_yet_line(result: Plan) -> str:
    return (f"no practice {result.practice!r} yet: everything below would be created "
            "(nothing was; `shsync apply` creates it, or `shsync adopt` records a practice "
            "that already runs in Sessions Health)")


def _with_new_practice(document: str, result: Plan) -> str:
    """The plan's JSON on standard output with `new_practice` (and the header line as
    `notice`); a saved plan file (-o) is the plan alone, unchanged."""
    data = json.loads(document)
    data["new_practice"] = True
    data["notice"] = _nothing_yet_line(result)
    return json.dumps(data, indent=2) + "\n"


def _stored_line(stored: app.StoredPlan) -> str:
    if stored.required:
        return (f"Stored as plan {stored.id}: it needs {stored.required} approval(s) from "
                f"administrators other than its author (`shsync approve {stored.id}`), then "
                f"`shsync apply {stored.id}`.")
    return f"Stored as plan {stored.id}: apply it with `shsync apply {stored.id}`."


def _save(result: Plan, out: Path) -> None:
    if write_output(out, result.to_file()):
        click.echo(f"Saved the plan to {out}; apply it with `shsync apply {out}`.", err=True)


@click.command("apply")
@click.argument("target", required=False, type=GivenPath(path_type=Path))
@backend_option
@click.option("--auto-approve", is_flag=True,
              help="Apply an org file's plan without asking (needed when not on a terminal).")
@click.option("--lock-timeout", type=click.FloatRange(min=0), default=60.0, show_default=True,
              help="Seconds to wait while another apply of the same practice holds the lock.")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, metavar="N",
              help="Apply an org file's invitations in waves of N, each its own transaction; "
                   "running it again after an interruption continues where it stopped.")
@click.option("--expect-head", metavar="HASH",
              help="Refuse unless the audit log currently ends at this entry hash (what the "
                   "last apply printed): nothing was applied in between.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True,
              help="json: what was applied and the audit entry, or the errors, on stdout.")
@plan_options
@handled
def apply_command(target: Path | None, backend_url: str | None, auto_approve: bool,
                  lock_timeout: float, batch_size: int | None, expect_head: str | None, fmt: str,
                  max_removals: int | None, allow_mass_removal: bool, actor: str | None,
                  assume_accepted: bool) -> None:
    """Apply a saved plan (PLANFILE from `plan --out`), a stored plan (PLAN_ID from
    `plan --save`), or plan an org file and apply that.

    A saved plan is applied exactly as it was reviewed; if the live practice has changed since,
    it is refused and nothing changes. Either way the apply is one transaction: all or nothing,
    checked again by the store against the live practice before anything is written.

    \b
    Examples:
      shsync plan org/ -o plan.json && shsync apply plan.json
      shsync apply org/ --auto-approve                 # plan and apply (CI)
      shsync apply plan.json --expect-head sha256:...  # nothing applied since
      shsync apply plan.json --format json             # with the audit entry
      shsync apply p-3f2a9c41d0b7                      # a stored plan, approved
    """
    target = org_or_config(target, "apply")
    stored_id = str(target) if _names_a_stored_plan(target) else None
    from_file = None if stored_id else app.saved_plan(target)
    org = None
    if stored_id is None and from_file is None:  # an org file: its errors before any store
        org, diagnostics = app.read_org(target, app.now())
        if org is None:
            raise app.InvalidInput(diagnostics)
    with ExitStack() as stack:
        # An org file, or a plan saved from one against no practice yet, may bring a practice
        # into being, and the store is created at the first write: a plan made here, or refused
        # at the prompt, leaves nothing behind. A stored plan is in a store already.
        creates = stored_id is None
        shsync = application(stack, backend_url, actor, lock_timeout,
                             create=creates and batch_size is not None, or_nothing=creates)
        if from_file is not None and is_nothing_yet(shsync) \
                and not app.made_from_nothing(from_file):
            raise NoPractice(f"no practice {from_file.practice!r} in this store, and the "
                                 "plan was made against one that had members: apply it to the "
                                 "store it was planned against")
        if expect_head is not None:
            shsync.check_log(expect_head)
        options = Options(max_removals, allow_mass_removal, assume_accepted)
        saved = shsync.stored_plan(str(target)).plan if stored_id else from_file
        if saved is not None:
            if batch_size:
                raise app.UserError("--batch-size applies an org file, not a saved plan",
                                    "usage")
            result = saved
        else:
            assert org is not None  # neither a saved nor a stored plan: an org file
            planned = shsync.plan_org(org, options)
            echo_warnings(planned.diagnostics)
            result = planned.plan
            if fmt == "json" and result.errors:
                click.echo(envelope(False, [m.to_dict() for m in result.errors],
                                    [m.to_dict() for m in result.warnings]), nl=False)
                sys.exit(EXIT_ERROR)
            if batch_size and not result.errors:
                # A batched apply is a bulk onboarding: thousands of steps a person will not
                # read line by line here (`shsync plan` shows them all); say what will happen.
                click.echo(render.brief(result), nl=False, err=fmt == "json")
            else:
                click.echo(render.text(result, colour.styler()), nl=False,
                           err=fmt == "json")
            if result.errors:
                sys.exit(EXIT_ERROR)
            if result.has_changes and not auto_approve:
                _confirm()
        if not result.has_changes:
            # Nothing to write, but a plan file is still checked as any other would be.
            shsync.check_unchanged(result)
            if fmt == "json":
                click.echo(_applied_json(result, None), nl=False)
                return
            click.echo("No changes to apply." + (" Deferred steps wait for acceptances."
                                                 if result.deferred else ""))
            return
        if batch_size:
            _apply_in_waves(shsync, target, batch_size, options, result.summary.invite, fmt)
            return
        if is_nothing_yet(shsync):
            shsync = application(stack, backend_url, actor, lock_timeout, create=True)
        try:
            entry = _apply_with_progress(shsync, result, stored_id)
        except ShsyncError as exc:
            exc.where = exc.where or str(target)
            raise
        steps = shsync.steps_of(entry)
    if fmt == "json":
        click.echo(_applied_json(result, entry, steps), nl=False)
        return
    click.echo(f"Applied. {result.summary.line()} Audit entry #{entry.seq}, head "
               f"{entry.entry_hash}.")
    if result.deferred:
        click.echo(f"{len(result.deferred)} step(s) wait for invitations to be accepted: record "
                   "them with `shsync accepted EMAIL`, then plan again.")
    click.echo(runbook_note(steps, entry), nl=False)


def _applied_json(result: Plan, entry: app.AuditEntry | None,
                  steps: Sequence[Any] = ()) -> str:
    """What `apply --format json` prints: the steps applied, the audit entry that records
    them (`audit_entry: null` when there was nothing to apply) and the runbook steps it left
    for people to carry out in Sessions Health (`runbook`)."""
    return envelope(True, [], [m.to_dict() for m in result.warnings],
                    practice=result.practice, plan_hash=result.digest(),
                    summary=result.summary.to_dict(),
                    applied=[to_dict(o) for o in result.operations] if entry else [],
                    deferred=[d.to_dict() for d in result.deferred],
                    audit_entry=entry_json(entry) if entry else None,
                    runbook=[s.to_dict() for s in steps])


def _apply_in_waves(shsync: app.Shsync, target: Path, size: int, options: Options,
                    total: int, fmt: str = "text") -> None:
    started = time.monotonic()
    bar = click.progressbar(length=max(total, 1), label="Inviting", file=sys.stderr,
                            show_pos=True) if sys.stderr.isatty() else None

    def report(batch: app.Batch) -> None:
        rate = batch.invited / max(time.monotonic() - started, 1e-6)
        if bar is not None:
            bar.label = f"Inviting ({rate:,.0f}/s)"
            bar.update(batch.invited - bar.pos)
        else:
            rest = ", and every other change" if batch.final else ""
            click.echo(f"batch {batch.number} of {batch.total}: {batch.invited:,} of {total:,} "
                       f"invited{rest}, {rate:,.0f}/s", err=True)

    with bar if bar is not None else ExitStack():
        batches = shsync.apply_in_batches(target, size=size, options=options, on_batch=report)
    entries = [b.entry for b in batches if b.entry]
    if fmt == "json":
        click.echo(envelope(True, batches=[{"number": b.number, "total": b.total,
                                            "invited": b.invited,
                                            "audit_entry": entry_json(b.entry) if b.entry
                                            else None} for b in batches]), nl=False)
        return
    click.echo(f"Applied in {len(entries)} transaction(s); audit entries "
               f"{', '.join(f'#{e.seq}' for e in entries) or 'none'}"
               + (f", head {entries[-1].entry_hash}." if entries else "."))


def _confirm() -> None:
    if not sys.stdin.isatty():
        raise app.UserError("not on a terminal: pass --auto-approve to apply without asking, or "
                            "save a plan with `shsync plan --out` and apply that", "not-confirmed")
    if not click.confirm("Apply these changes?", default=False, err=True):  # stdout: the report
        raise app.UserError("not applied", "not-confirmed")


def _names_a_stored_plan(target: Path) -> bool:
    from shsync.core.approvals import is_plan_id

    return is_plan_id(str(target)) and not os.path.exists(target)


def _apply_with_progress(shsync: app.Shsync, result: Plan,
                         stored_id: str | None = None) -> app.AuditEntry:
    def apply(progress: app.Progress | None = None) -> app.AuditEntry:
        if stored_id is not None:
            return shsync.apply_stored(stored_id, progress)
        return shsync.apply(result, progress)

    total = len(result.operations)
    if not sys.stderr.isatty() or total < 200:
        return apply()
    with click.progressbar(length=total, label="Applying", file=sys.stderr,
                           show_pos=True, show_eta=True) as bar:
        state = {"done": 0}

        def advance(done: int) -> None:
            bar.update(done - state["done"])
            state["done"] = done

        return apply(advance)

"""`shsync accepted` and `shsync refresh`: recording what happened in Sessions Health.

Sessions Health has no API, so shsync learns of acceptances and of changes made in its web page
from an operator. Both are planned, checked and audited like any other change.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click

from shsync.jobs import app
from shsync.cli.common import (
    GivenPath,
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    actor_option,
    application,
    backend_option,
    echo_warnings,
    entry_json,
    handled,
    plan_with_entry,
    runbook_note,
    render_plan,
)
from shsync.render.escape import visible


@click.command()
@click.argument("emails", nargs=-1, required=True, metavar="EMAIL...")
@backend_option
@actor_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True,
              help="json: the plan recorded, with its audit_entry, or the errors, on stdout.")
@handled
def accepted(emails: tuple[str, ...], backend_url: str | None, actor: str | None,
             fmt: str) -> None:
    """Record that members accepted their invitations in Sessions Health.

    An administrator's observation (Sessions Health has no API to ask). Steps that waited for
    these members (grants, clients, supervision, full clinical access) appear in the next plan.

    \b
    Examples:
      shsync accepted victor.okafor@riverbend.example
      shsync plan org.yaml  # the deferred steps are planned now
      shsync accepted a@p.example b@p.example --actor admin@p.example
      shsync accepted victor.okafor@riverbend.example --format json
    """
    with ExitStack() as stack:
        shsync = application(stack, backend_url, actor)
        result = shsync.plan_acceptance(emails)
        if result.errors:
            raise app.PlanRefused(result)
        entry = shsync.apply(result)
        steps = shsync.steps_of(entry)
    if fmt == "json":
        click.echo(plan_with_entry(result, entry, steps), nl=False)
        return
    names = visible(", ".join(o.target for o in result.operations))
    click.echo(f"Recorded that {names} accepted. Audit entry #{entry.seq}, head "
               f"{entry.entry_hash}.")
    click.echo(runbook_note(steps, entry), nl=False)


@click.command()
@click.argument("observed", type=GivenPath(path_type=Path))
@backend_option
@actor_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown", "runbook"]),
              default="text", show_default=True, help="How to show the drift.")
@click.option("--auto-approve", is_flag=True, help="Record the drift without asking.")
@click.option("--save", is_flag=True,
              help="Store the drift as a plan instead of recording it now (for the two-person "
                   "rule: `shsync approve PLAN_ID`, then `shsync apply PLAN_ID`).")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 2 when the store and the observation differ (with nothing recorded "
                   "unless --auto-approve).")
@handled
def refresh(observed: Path, backend_url: str | None, actor: str | None, fmt: str,
            auto_approve: bool, save: bool, detailed_exitcode: bool) -> None:
    """Record what was observed in Sessions Health (a snapshot file) into the store.

    Shows the drift between the store and the observation (members accepted, added, removed
    or changed in the Sessions Health web page, outside shsync) and records it, and the runbook
    steps the observation shows carried out, after a prompt, or with --auto-approve. Like
    Terraform's refresh, for a service with no API.

    An org file (as `shsync export` writes it) is read as an observation too: its `prune` and
    `policy`, the desired state, are ignored with a warning each, and since it is a copy of the
    store it is no evidence that runbook steps were carried out (they stay pending).

    \b
    Examples:
      shsync refresh observed.yaml                 # show the drift, ask, record
      shsync refresh observed.yaml --auto-approve  # in a script
      shsync refresh observed.yaml --save          # for the two-person rule
    """
    with ExitStack() as stack:
        shsync = application(stack, backend_url, actor)
        planned = shsync.plan_refresh(observed)
        echo_warnings(planned.diagnostics)
        result = planned.plan
        # In JSON the plan is printed once, after it is recorded, with its `audit_entry`.
        deferred = fmt == "json" and not result.errors and result.has_changes and not save
        if not deferred and not (fmt == "json" and not result.has_changes):
            click.echo(render_plan(result, fmt), nl=False)
        if result.errors:
            sys.exit(EXIT_ERROR)
        _not_yet(planned.not_carried_out)
        carried = _evidence(planned.carried_out, planned.diagnostics)
        if not result.has_changes:
            if carried and not auto_approve:
                # Recording that steps were carried out is a change, asked for as drift is.
                if not sys.stdin.isatty():
                    if detailed_exitcode:
                        sys.exit(EXIT_CHANGES)
                    raise app.UserError(
                        f"not on a terminal: pass --auto-approve to record that "
                        f"{len(carried)} runbook step(s) were seen carried out "
                        f"({', '.join(s.label for s in carried)})", "not-confirmed")
                if not click.confirm(f"Record {len(carried)} runbook step(s) as carried out?",
                                     default=False, err=True):
                    raise app.UserError("not recorded", "not-confirmed")
            seen = shsync.record_observed(carried)
            if fmt == "json":
                click.echo(_refresh_json(result, None, seen, planned, carried), nl=False)
            _observed(carried, seen)
            click.echo("Apart from the steps not carried out yet, the store matches the "
                       "observation." if planned.not_carried_out else
                       "The store matches the observation.", err=True)
            sys.exit(EXIT_OK)
        if save:
            stored = shsync.save_plan(result)
            click.echo(f"Stored as plan {stored.id}: {stored.required} approval(s) needed "
                       f"(`shsync approve {stored.id}`), then `shsync apply {stored.id}`.",
                       err=True)
            sys.exit(EXIT_CHANGES if detailed_exitcode else EXIT_OK)
        if not auto_approve:
            if not sys.stdin.isatty():
                if detailed_exitcode:
                    if deferred:
                        click.echo(_refresh_json(result, None, None, planned, carried),
                                   nl=False)
                    sys.exit(EXIT_CHANGES)
                raise app.UserError("not on a terminal: pass --auto-approve to record the drift",
                                    "not-confirmed")
            if not click.confirm("Record this drift in the store?", default=False, err=True):
                raise app.UserError("not recorded", "not-confirmed")
        entry = shsync.apply(result)
        steps = shsync.steps_of(entry)
        seen = shsync.record_observed(carried)
    if deferred:
        click.echo(_refresh_json(result, entry, seen, planned, carried, steps), nl=False)
    click.echo(f"Recorded the observation. Audit entry #{entry.seq}, head {entry.entry_hash}.",
               err=True)
    _observed(carried, seen)
    click.echo(runbook_note(steps, entry), nl=False, err=True)
    sys.exit(EXIT_CHANGES if detailed_exitcode else EXIT_OK)


def _evidence(steps: Sequence[Any], diagnostics: Sequence[Any]) -> Sequence[Any]:
    """The pending steps a refresh records as observed carried out: none when the observation
    is an org file (its desired-state keys were ignored), a copy of the store such as `shsync
    export` writes, which matches the store whatever Sessions Health shows."""
    ignored = sorted({d.location.file for d in diagnostics
                      if d.code == "ignored-key" and d.location is not None})
    if not (steps and ignored):
        return steps
    click.echo(visible(
        f"{', '.join(ignored)}: an org file (it holds prune or policy), as `shsync export` writes "
        "it, so no evidence that runbook steps were carried out in Sessions Health: "
        f"{len(steps)} pending step(s) stay pending ({', '.join(s.label for s in steps)}); "
        "`shsync done R-N` records one carried out."), err=True)
    return ()


def _not_yet(steps: Sequence[Any]) -> None:
    if steps:
        click.echo(visible(
            f"Not carried out yet, as observed: {', '.join(s.label for s in steps)} (still "
            "pending; the observation's difference about them is not recorded as drift)."),
            err=True)


def _observed(steps: Sequence[Any], entry: Any) -> None:
    if steps and entry is not None:
        click.echo(f"Observed carried out in Sessions Health: "
                   f"{', '.join(s.label for s in steps)}. Audit entry #{entry.seq}.", err=True)


def _refresh_json(result: Any, entry: Any, seen: Any, planned: Any, carried: Sequence[Any],
                  steps: Sequence[Any] = ()) -> str:
    data = json.loads(plan_with_entry(result, entry, steps))
    data["runbook_observed"] = [s.label for s in carried]
    data["runbook_not_carried_out"] = [s.label for s in planned.not_carried_out]
    data["observed_entry"] = entry_json(seen) if seen is not None else None
    return json.dumps(data, indent=2) + "\n"

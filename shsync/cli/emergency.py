"""`shsync break-glass`, `shsync expire` and `shsync review`: access that ends by itself."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import click

from shsync.cli.common import (
    GIVEN,
    GivenPath,
    actor_option,
    application,
    backend_option,
    handled,
    plan_with_entry,
    runbook_note,
    render_plan,
)


@click.command("break-glass")
@click.option("--client", "client_id", required=True, metavar="ID",
              help="The client who needs care now.")
@click.option("--reason", required=True, help="Why, in one line (recorded and reviewed).")
@click.option("--for", "length", type=GIVEN, metavar="DURATION",
              help="How long: 4h, 90m, 1h30m [default: 4h, or the policy's max if shorter].")
@click.option("--org", "org_path", envvar="SHSYNC_ORG", type=GivenPath(path_type=Path),
              help="Accepted so older scripts run, and not read: the live practice's "
                   "policy governs.")
@backend_option
@actor_option
@handled
def break_glass(client_id: str, reason: str, length: str | None, org_path: Path | None,
                backend_url: str | None, actor: str | None) -> None:
    """Emergency access: give yourself (--actor) access to one client at once, outside the org
    file, for a limited time.

    Only for an active member the practice's policy allows (default: practitioners), on a
    client they cannot already see, for no longer than the policy's max (default 8h). The
    policy is the one the live practice keeps: the org file's `policy.break_glass`, once a plan
    has applied it (never the file given with --org, which is not read). The store checks
    every emergency step against it, and bounds its end by the store's own clock plus the
    policy's max (SHSYNC_NOW fixes the planning clock only). It is written to the
    audit log as its own kind, shown in every later plan, taken back by the first plan or
    `shsync expire` after its end, and listed by `shsync history --break-glass` until an
    administrator records a review (`shsync review ENTRY --note TEXT`).

    \b
    Examples:
      shsync break-glass --actor sam.lee@riverbend.example \\
          --client C-1003 --reason "client in crisis, Lena unreachable" --for 2h
    """
    with ExitStack() as stack:
        shsync = application(stack, backend_url, actor)
        result = shsync.plan_break_glass(client_id, reason, length)
        entry = shsync.apply(result)
        steps = shsync.steps_of(entry)
    step = result.operations[0]
    click.echo(f"Emergency access: {step.get('member')} on client {step.target} until "
               f"{step.get('until')}, reason: {step.get('reason')}. Audit entry #{entry.seq}, "
               f"head {entry.entry_hash}.")
    click.echo(f"In Sessions Health now: Clients > {step.target} > Manage Access: tick "
               f"{step.get('member')}. Save. It is taken back after {step.get('until')} by the "
               "first `shsync plan`/`apply` or `shsync expire`; an administrator then records "
               f"a review: `shsync review {entry.seq} --note TEXT`.")
    click.echo(runbook_note(steps, entry), nl=False)


@click.command()
@backend_option
@actor_option
@click.option("--dry-run", is_flag=True, help="Show what has expired; change nothing.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown", "runbook"]),
              default="text", show_default=True)
@handled
def expire(backend_url: str | None, actor: str | None, dry_run: bool, fmt: str) -> None:
    """Take back every access whose end has passed: time-bound grants, emergency access and
    full clinical access. Needs no org file; run it on a schedule.

    The runbook (--format runbook) says what to untick in Sessions Health's Manage Access.

    \b
    Examples:
      shsync expire --dry-run         # what has ended; nothing changes
      shsync expire --format runbook  # take it back; steps for Sessions Health
    """
    with ExitStack() as stack:
        shsync = application(stack, backend_url, actor)
        result = shsync.plan_expiry()
        if fmt == "json":  # once, after it is recorded, with its `audit_entry`
            entry = None if dry_run or not result.operations else shsync.apply(result)
            steps = shsync.steps_of(entry) if entry else []
            click.echo(plan_with_entry(result, entry, steps), nl=False)
            return
        if dry_run or not result.operations:
            click.echo(render_plan(result, fmt), nl=False)
            return
        # Taking access back must not wait on the report: a cron job's full log disk would
        # otherwise leave ended access in place. Apply, then print what was taken back.
        entry = shsync.apply(result)
        steps = shsync.steps_of(entry)
        click.echo(render_plan(result, fmt), nl=False)
    click.echo(f"Recorded the end of {len(result.operations)} access(es) in shsync's store. "
               f"Audit entry #{entry.seq}, head {entry.entry_hash}.")
    click.echo(runbook_note(steps, entry), nl=False)


@click.command()
@click.argument("entry", type=click.IntRange(min=1))
@click.option("--note", required=True, help="What the review found (recorded in the log).")
@backend_option
@actor_option
@handled
def review(entry: int, note: str, backend_url: str | None, actor: str | None) -> None:
    """Record an administrator's review of the emergency access in audit entry ENTRY.

    The reviewer is an active administrator named with --actor (or SHSYNC_ACTOR), and not the
    member who broke glass (self-review); the operator, unnamed, cannot review
    (review-needs-actor). Reviewed emergencies leave `shsync history --break-glass`.

    \b
    Examples:
      shsync history --break-glass
      shsync review 42 --actor dana.ortiz@riverbend.example \\
          --note "justified: crisis call, Dana unreachable"
    """
    with ExitStack() as stack:
        shsync = application(stack, backend_url, actor)
        recorded = shsync.review(entry, note)
    click.echo(f"Recorded the review of entry #{entry}. Audit entry #{recorded.seq}, head "
               f"{recorded.entry_hash}.")

"""`shsync approve` and `shsync plans`: stored plans and the two-person rule."""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING

import click

from shsync.cli.common import (actor_option, application, backend_option, changed, envelope,
                               handled)
from shsync.render.escape import visible

if TYPE_CHECKING:
    from shsync.core.approvals import StoredPlan


def progress_line(stored: StoredPlan) -> str:
    """`1 of 2 approval(s) needed (by dana@...)` and what to do next."""
    who = f" (by {', '.join(stored.approvers)})" if stored.approvals else ""
    line = f"{len(stored.approvals)} of {stored.required} approval(s) needed{who}"
    if stored.status == "applied":
        return f"{line}; applied as audit entry #{stored.applied_entry}"
    if stored.status == "stale":
        when = f" (refused as stale at {stored.refused})" if stored.refused else ""
        return (f"{line}; stale{when}: the live practice has changed since it was made, so "
                "the store will refuse it; make a new plan")
    if stored.status == "ready":
        author = stored.author or "the operator"
        return f"{line}; ready: {author} applies it with `shsync apply {stored.id}`"
    return f"{line}; waiting for {stored.required - len(stored.approvals)} more"


@click.command()
@click.argument("plan_id", metavar="PLAN_ID")
@backend_option
@actor_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: the stored plan, its approvals and status.")
@handled
def approve(plan_id: str, backend_url: str | None, actor: str | None, fmt: str) -> None:
    """Approve a stored plan (from `shsync plan ORG --save`) as the acting member.

    The practice's two-person rule (`policy: {approvals: ...}` in the org file, once applied)
    says how many administrators other than a plan's author must approve a plan that widens
    access or removes members. Only an active administrator other than the author may approve,
    once, a plan not yet applied and not stale.

    \b
    Examples:
      shsync approve p-3f2a9c41d0b7 --actor dana.ortiz@riverbend.example
      SHSYNC_ACTOR=dana.ortiz@riverbend.example shsync approve p-3f2a9c41d0b7
      shsync approve p-3f2a9c41d0b7 --format json
    """
    with ExitStack() as stack:
        shsync = application(stack, backend_url, actor)
        stored = shsync.approve(plan_id)
        changed(f"plan {stored.id} approved by {shsync.who.email or 'the operator'}")
    if fmt == "json":
        click.echo(envelope(True, **stored.to_dict()), nl=False)
        return
    click.echo(visible(f"Approved plan {stored.id} as {shsync.who.email}: "
                       f"{progress_line(stored)}."))


@click.command()
@backend_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: every stored plan with its approvals and status.")
@handled
def plans(backend_url: str | None, fmt: str) -> None:
    """List the stored plans (`shsync plan ORG --save`), oldest first, with their approvals
    and status: awaiting approval, ready (approved enough to apply), stale (the live practice
    has changed since it was made, so the store will refuse it), or applied.

    \b
    Examples:
      shsync plans
      shsync plans --format json
    """
    with ExitStack() as stack:
        found = application(stack, backend_url, None).stored_plans()
    if fmt == "json":
        click.echo(envelope(True, plans=[p.to_dict() for p in found]), nl=False)
        return
    if not found:
        click.echo("No stored plans. Store one with `shsync plan ORG --save`.")
    for p in found:
        click.echo(visible(f"{p.id}  {p.status}  made {p.created_at} by "
                           f"{p.author or 'the operator'}: {p.plan.summary.line()} "
                           f"{progress_line(p)}."))

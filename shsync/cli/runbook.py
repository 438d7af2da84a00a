"""`shsync runbook`, `shsync done` and `shsync show`: the steps people carry out in Sessions
Health, tracked until someone does, and a saved plan shown in every format."""

from __future__ import annotations

import sys
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
    out_option,
    render_plan,
    write_output,
)
from shsync.errors import EXIT_CHANGES, EXIT_OK, EXIT_OVERDUE


@click.command("runbook")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json", "html"]),
              default="text", show_default=True,
              help="text; markdown (a comment or an issue); json; html (a printable checklist).")
@click.option("--all", "everything", is_flag=True,
              help="Every step, done and observed ones too (default: the outstanding ones).")
@click.option("--entry", type=click.IntRange(min=1), metavar="N",
              help="Only the steps of audit entry N.")
@click.option("--member", type=GIVEN, metavar="EMAIL", help="Only the steps about this member.")
@click.option("--client", "client_id", metavar="ID", help="Only the steps about this client.")
@click.option("--overdue", is_flag=True, help="Only the steps past their deadline.")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 2 while steps are pending, 4 when any is overdue, 0 when none is.")
@out_option("Write to FILE instead of standard output ('-': standard output).")
@backend_option
@actor_option
@handled
def runbook(fmt: str, everything: bool, entry: int | None, member: str | None,
            client_id: str | None, overdue: bool, detailed_exitcode: bool, out: Path | None,
            backend_url: str | None, actor: str | None) -> None:
    """The runbook: what people must still do in Sessions Health, oldest first.

    Sessions Health has no API: `shsync apply` records a change in shsync's store at once, and
    each thing a person must then do in Sessions Health's web page becomes a step (R-17) that
    stays pending until someone records it carried out (`shsync done R-17`) or a refresh sees
    it (`shsync refresh OBSERVED.yaml`). Each step has a deadline, from the practice's
    `policy.deadlines` (defaults: 1h for access taken away, 3d for access given, 7d for the
    rest); a step past it is overdue everywhere it is shown.

    \b
    Examples:
      shsync runbook                          # what is outstanding
      shsync runbook --format html -o runbook.html
      shsync runbook --overdue --detailed-exitcode  # cron: 4 when overdue
      shsync runbook --all --member lena.park@riverbend.example
    """
    from shsync.core.runbook import Filter, as_of
    from shsync.render import runbook as render

    with ExitStack() as stack:
        shsync = application(stack, backend_url, actor)
        which = Filter(everything, entry, member.strip().lower() if member else None,
                       client_id, overdue)
        steps = shsync.runbook_steps(which)
        if any(s.waits_for is not None and s.state == "pending" for s in steps):
            # shown as they stand now; the store keeps whom each step waited for
            steps = as_of(steps, shsync.read())
        now = shsync.judge_now()
        text = render.FORMATS[fmt](steps, now, practice=shsync.backend.practice,
                                   everything=everything)
        if out is not None:
            write_output(out, text)
        else:
            click.echo(text, nl=False)
    if detailed_exitcode:
        pending = [s for s in steps if s.state == "pending"]
        sys.exit(EXIT_OVERDUE if any(s.overdue(now) for s in pending)
                 else EXIT_CHANGES if pending else EXIT_OK)


@click.command("done")
@click.argument("steps", nargs=-1, required=True, metavar="R-N...")
@click.option("--note", help="What was done, in one line (recorded in the audit log).")
@backend_option
@actor_option
@handled
def done(steps: tuple[str, ...], note: str | None, backend_url: str | None,
         actor: str | None) -> None:
    """Record that runbook steps were carried out in Sessions Health.

    As the acting member (--actor): an administrator may record any step, a member only the
    steps addressed to them. One audit entry of its own kind (done) records them all, or
    nothing is recorded: an unknown id, a step done already, a step that still waits for an
    invitation, or a note with control characters refuses every one.

    \b
    Examples:
      shsync runbook
      shsync done R-17 R-18 --actor dana.ortiz@riverbend.example \\
          --note "removed at 10:05"
    """
    with ExitStack() as stack:
        shsync = application(stack, backend_url, actor)
        entry = shsync.done(list(steps), note)
    names = ", ".join(entry.details.get("steps", []))
    click.echo(f"Recorded {names} as carried out in Sessions Health. Audit entry "
               f"#{entry.seq}, head {entry.entry_hash}.")


@click.command("show")
@click.argument("plan_file", type=GivenPath(path_type=Path), metavar="PLAN.json")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown", "runbook"]),
              default="text", show_default=True, help="How to show the plan.")
@handled
def show(plan_file: Path, fmt: str) -> None:
    """Show a saved plan (`shsync plan ORG -o PLAN.json`) in any format, without a store.

    The plan is checked as any saved plan is (its format and hash); it is not read as an org
    file, and nothing is applied.

    \b
    Examples:
      shsync show plan.json --format runbook    # the steps for Sessions Health
      shsync show plan.json --format markdown   # a pull-request comment
    """
    from shsync.jobs import app

    click.echo(render_plan(app.read_plan_file(plan_file), fmt), nl=False)

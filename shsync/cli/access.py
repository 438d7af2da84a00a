"""`shsync access`: who can see what, and why."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import click

from shsync.jobs import app
from shsync.cli.common import GIVEN, GivenPath, backend_option, envelope, handled, open_store
from shsync.core.access import Lookup
from shsync.render import access as render_access

# --- access --------------------------------------------------------------------------------

@click.command()
@click.option("--client", "client_id", metavar="ID", help="Who can see this client, and why.")
@click.option("--member", type=GIVEN, metavar="EMAIL", help="What this member can see, and why.")
@click.option("--file", "org_path", type=GivenPath(path_type=Path),
              help="Read an org file (or directory) instead of the live practice.")
@click.option("--at", "at", type=GIVEN, metavar="TIME",
              help="As shsync's store held it at this past time (the audit log replayed up to "
                   "then), with what was not yet carried out in Sessions Health then.")
@click.option("--between", nargs=2, type=GIVEN, metavar="START END", default=None,
              help="Every change of that access over the interval, entry by entry, with when "
                   "Sessions Health had it carried out.")
@backend_option
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True, help="json and csv: one row per member, client and capability.")
@handled
def access(client_id: str | None, member: str | None, org_path: Path | None, at: str | None,
           between: tuple[str, str] | None, backend_url: str | None, fmt: str) -> None:
    """Show effective access: each capability a member holds on a client, and the reason.

    Capabilities: record, notes, diagnoses, treatment_plans, schedule, billing, limited_info,
    manage_access, sign_notes. Reasons: assigned, admin, granted, scheduler, biller,
    supervisor, full_clinical_access.

    \b
    Examples:
      shsync access --client C-1001
      shsync access --member sam.lee@p.example --format json
      shsync access --client C-1001 --file org/  # as the org file declares it
    """
    if (client_id is None) == (member is None):
        raise click.UsageError("give exactly one of --client ID or --member EMAIL")
    email = member.strip().lower() if member else None
    if (at is not None or between is not None) and org_path is not None:
        raise click.UsageError("--at and --between read the audit log; an org file (--file) "
                               "has none")
    if between is not None:
        if at is not None:
            raise click.UsageError("give --at TIME or --between START END, not both")
        start, end = (app.parse_time(t, "--between") for t in between)
        if start >= end:
            raise click.UsageError(f"--between {start} {end}: the start is not before the end")
        _between(start, end, client_id, email, backend_url, fmt)
        return
    if at is not None:
        _at(app.parse_time(at, "--at"), client_id, email, backend_url, fmt)
        return
    if org_path is not None:
        state = app.desired_state(org_path)
        rows = app.access_rows(Lookup(state), client=client_id, member=member)
        if fmt == "json":
            click.echo(envelope(True, rows=render_access.as_dicts(rows)), nl=False)
        elif fmt == "csv":
            click.echo(render_access.as_csv(rows), nl=False)
        elif client_id is not None:
            click.echo(render_access.table_for_client(client_id, rows), nl=False)
        else:
            click.echo(render_access.table_for_member(str(email), rows, len(state.clients)),
                       nl=False)
        return  # an org file has no runbook: only what it declares
    with ExitStack() as stack:
        store = open_store(stack, backend_url)
        state = store.read()
        rows, seen = app.seen_access(Lookup(state), store.runbook_steps(pending_only=True),
                                     store.runbook_steps, client=client_id, member=member)
    now = max(app.now(), app.now_real())
    if fmt == "json":
        click.echo(envelope(True, rows=render_access.seen_dicts(seen, now)), nl=False)
        return
    if fmt == "csv":
        click.echo(render_access.seen_csv(seen, now), nl=False)
        return
    if client_id is not None:
        table = render_access.table_for_client(client_id, rows)
    else:
        table = render_access.table_for_member(str(email), rows, len(state.clients))
    extra = render_access.seen_lines(seen, now, subject=client_id or str(email))
    click.echo(table + "".join(line + "\n" for line in extra), nl=False)


def _at(moment: str, client_id: str | None, email: str | None, backend_url: str | None,
        fmt: str) -> None:
    with ExitStack() as stack:
        found = app.access_at(open_store(stack, backend_url), moment, client=client_id,
                              member=email)
    said = (f"As shsync's store held it at {moment} (the audit log replayed to entry "
            f"#{found.entry}):")
    if fmt == "json":
        click.echo(envelope(True, at=moment, entry=found.entry,
                            rows=render_access.seen_dicts(found.seen, moment)), nl=False)
        return
    if fmt == "csv":
        click.echo(render_access.seen_csv(found.seen, moment), nl=False)
        return
    if client_id is not None:
        table = render_access.table_for_client(client_id, found.rows)
    else:
        table = render_access.table_for_member(str(email), found.rows, len(found.state.clients))
    extra = render_access.seen_lines(found.seen, moment, subject=client_id or str(email))
    click.echo(said + "\n" + table + "".join(line + "\n" for line in extra), nl=False)


_CHANGE_FIELDS = ("entry", "written_at", "kind", "actor", "change", "member", "client",
                  "capability", "reason", "until", "steps", "carried_out")


def _between(start: str, end: str, client_id: str | None, email: str | None,
             backend_url: str | None, fmt: str) -> None:
    from shsync.audit.chain import access_changes
    from shsync.render.escape import csv_cell, visible

    with ExitStack() as stack:
        store = open_store(stack, backend_url)
        changes = access_changes(store.history(), store.runbook_steps(), start, end,
                                 client=client_id, member=email)
    dicts = [{"entry": c.entry, "written_at": c.written_at, "kind": c.kind, "actor": c.actor,
              "change": c.change, **render_access.as_dicts([c.row])[0],
              "steps": list(c.steps), "carried_out": c.carried_out} for c in changes]
    if fmt == "json":
        click.echo(envelope(True, start=start, end=end, changes=dicts), nl=False)
        return
    if fmt == "csv":
        import csv
        import io

        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(_CHANGE_FIELDS)
        for d in dicts:
            writer.writerow([csv_cell(" ".join(v) if isinstance(v, list) else
                                      "" if v is None else str(v)) for v in
                             (d[f] for f in _CHANGE_FIELDS)])
        click.echo(out.getvalue(), nl=False)
        return
    subject = client_id or str(email)
    if not changes:
        click.echo(visible(f"No change of {subject}'s access from {start} to {end}."))
        return
    click.echo(visible(f"Changes of {subject}'s access from {start} to {end}:"))
    for c in changes:
        where = f"on {c.row.client}" if c.row.client else "practice-wide"
        carried = ("nothing to do in Sessions Health" if not c.steps else
                   f"carried out in Sessions Health at {c.carried_out}" if c.carried_out else
                   f"not yet carried out in Sessions Health ({', '.join(c.steps)})")
        click.echo(visible(f"  #{c.entry} {c.written_at} {c.kind} by {c.actor}: "
                           f"{'+' if c.change == 'gained' else '-'} {c.row.member} "
                           f"{c.row.capability} {where} ({c.row.reason}); {carried}"))

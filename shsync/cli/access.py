"""`shsync access`: who can see what, and why."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import click

from shsync.jobs import app
from shsync.cli.common import GivenPath, backend_option, envelope, handled, open_store
from shsync.core.access import Lookup
from shsync.render import access as render_access

# --- access --------------------------------------------------------------------------------

@click.command()
@click.option("--client", "client_id", metavar="ID", help="Who can see this client, and why.")
@click.option("--member", metavar="EMAIL", help="What this member can see, and why.")
@click.option("--file", "org_path", type=GivenPath(path_type=Path),
              help="Read an org file (or directory) instead of the live practice.")
@backend_option
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True, help="json and csv: one row per member, client and capability.")
@handled
def access(client_id: str | None, member: str | None, org_path: Path | None, backend_url: str,
           fmt: str) -> None:
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
        raise app.UserError("give exactly one of --client ID or --member EMAIL")
    if org_path is not None:
        state = app.desired_state(org_path)
    else:
        with ExitStack() as stack:
            state = open_store(stack, backend_url).read()
    rows = app.access_rows(Lookup(state), client=client_id, member=member)
    if fmt == "json":
        click.echo(envelope(True, rows=render_access.as_dicts(rows)), nl=False)
    elif fmt == "csv":
        click.echo(render_access.as_csv(rows), nl=False)
    elif client_id is not None:
        click.echo(render_access.table_for_client(client_id, rows), nl=False)
    else:
        click.echo(render_access.table_for_member(str(member).lower(), rows, len(state.clients)),
                   nl=False)

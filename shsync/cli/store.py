"""`shsync seed`, `shsync export` and `shsync history`: the store itself."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path

import click

from shsync import app
from shsync.backends.base import verify_chain
from shsync.cli.common import backend_option, handled, open_store

# --- seed, export, history --------------------------------------------------------------------

@click.command()
@click.argument("snapshot", type=click.Path(path_type=Path))
@backend_option
@handled
def seed(snapshot: Path, backend_url: str) -> None:
    """Load a practice snapshot (YAML) into an empty backend: the live state to plan against."""
    with ExitStack() as stack:
        backend = open_store(stack, backend_url)
        state = app.seed(snapshot, backend)
    click.echo(f"Seeded practice {backend.practice!r} at {backend.display_url}: "
               f"{len(state.members)} members, {len(state.clients)} clients, "
               f"{len(state.appointments)} appointments, {len(state.notes)} notes.")


@click.command()
@backend_option
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Write to this file (or directory, with --split-by) instead of standard "
                   "output.")
@click.option("--split-by", type=click.Choice(["none", "role"]), default="none",
              show_default=True,
              help="role: a directory of files a team can own in parts: org.yaml, "
                   "members/<role>.yaml, clients.yaml.")
@handled
def export(backend_url: str, output: Path | None, split_by: str) -> None:
    """Write the live practice as an org file (it validates and plans to no changes)."""
    with ExitStack() as stack:
        state = open_store(stack, backend_url).read()
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


@click.command()
@backend_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--verify", is_flag=True,
              help="Check the hash chain of the log and report the first broken entry.")
@handled
def history(backend_url: str, fmt: str, verify: bool) -> None:
    """Show the audit log of applies: who, when, which plan, what changed.

    Each entry carries the hash of the one before it, so an edited or deleted entry shows.
    """
    with ExitStack() as stack:
        entries = open_store(stack, backend_url).history()
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

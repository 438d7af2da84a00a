"""Day one: `shsync init` (a repository's shsync.toml) and `shsync adopt` (a practice that
already runs in Sessions Health, recorded without typing a snapshot)."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import click

from shsync.cli.common import (
    GivenPath,
    actor_option,
    application,
    backend_option,
    changed,
    echo_warnings,
    handled,
)
from shsync.render.escape import visible


@click.command()
@click.option("--backend", "backend_url", metavar="URL", default=None,
              help="The store this repository's practice is kept in [default: "
                   "sqlite:///.shsync/practice.db, a local file kept out of git].")
@click.option("--practice", metavar="NAME", default=None,
              help="The practice within the store [default: the store's default one].")
@click.option("--org", "org", metavar="PATH", default="org", show_default=True,
              help="The org file, or directory of org files, relative to this folder.")
@click.option("--force", is_flag=True, help="Replace a shsync.toml that is there already.")
@handled
def init(backend_url: str | None, practice: str | None, org: str, force: bool) -> None:
    """Write shsync.toml here, at the org repository's root: which store and practice this
    repository belongs to, and where its org files are. Commands run anywhere below this folder
    read it. It never holds a secret (a password goes in PGPASSWORD, a server's token in
    SHSYNC_TOKEN). A local SQLite store inside this folder is added to .gitignore.

    \b
    Examples:
      shsync init                        # the local store, org/
      shsync init --backend postgresql://shsync@db.internal/practices \\
          --practice riverbend
    """
    from shsync.jobs import config
    from shsync.stores.url import redact

    for name, value in (("--backend", backend_url), ("--practice", practice), ("--org", org)):
        if value is not None and not value.strip():
            raise click.UsageError(f"{name} is empty: give a value, or leave it out")
    written = config.init(Path.cwd(), backend=backend_url, practice=practice, org=org,
                          force=force, wrote=changed)
    click.echo(visible(f"Wrote {written.path.name}: backend {redact(written.backend)}"
                       + (f", practice {written.practice}" if written.practice else "")
                       + f", org {written.org}."))
    if written.ignored:
        click.echo(visible(f"Added {written.ignored} to .gitignore: the local store holds the "
                           "audit log, members' emails and token hashes."))
    if not (Path.cwd() / written.org).exists():
        click.echo(visible(f"{written.org} does not exist yet: write the practice's org file "
                           f"there (README, Quick start)."))
    click.echo("Next: `shsync plan` for a new practice, or `shsync adopt` for one that already "
               "runs in Sessions Health.")


@click.command()
@click.argument("path", required=False, type=GivenPath(path_type=Path))
@backend_option
@actor_option
@handled
def adopt(path: Path | None, backend_url: str | None, actor: str | None) -> None:
    """Record the org file at PATH as the practice Sessions Health already has: for a practice
    that runs there today, so that nothing is invited again. Every member is recorded as
    active, as an administrator has checked on Sessions Health's Members page; check the file
    against that page first. One audit entry, of kind `adopt`; refused when the store holds
    the practice already. PATH defaults to `org` in shsync.toml.

    Appointments and notes are not in an org file: until a `shsync refresh` records them, a
    plan cannot count a leaver's appointments or unfinished notes.

    \b
    Examples:
      shsync adopt org/
      shsync plan org/     # then: no changes, if the file is what it has
    """
    from shsync.jobs import app, config

    found = config.org_path(path, config.nearest())
    if found is None:
        raise app.UserError("adopt needs the org files: give PATH, or set `org` in "
                            "shsync.toml (`shsync init`)", "usage")
    org, diagnostics = app.read_org(found, app.now())  # its errors before any store is made
    if org is None:
        raise app.InvalidInput(diagnostics)
    echo_warnings(diagnostics)
    with ExitStack() as stack:
        shsync = application(stack, backend_url, actor, create=True)
        state, entry = shsync.adopt(org)
    admins = sum(1 for m in state.members.values() if m.admin)
    click.echo(visible(f"Adopted practice {shsync.backend.practice!r} at "
                       f"{shsync.backend.display_url}: {len(state.members)} member(s), all "
                       f"recorded as active ({admins} administrator(s)), "
                       f"{len(state.clients)} client(s). Audit entry #{entry.seq}, head "
                       f"{entry.entry_hash}."))
    click.echo("Nothing changes in Sessions Health: this records what it has. Appointments and "
               "unfinished notes are unknown until `shsync refresh OBSERVED.yaml` records them.")

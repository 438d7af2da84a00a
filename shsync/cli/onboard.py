"""`shsync onboard`: an HR roster (CSV) into org files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from shsync.jobs import app
from shsync.cli.common import GivenPath, echo_diagnostics, handled

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


@click.command()
@click.argument("roster", type=GivenPath(path_type=Path))
@click.option("-o", "--out", type=GivenPath(path_type=Path, file_okay=False), default="org",
              show_default=True, help="The org directory to merge into (created if missing).")
@click.option("--map", "maps", multiple=True, metavar="COLUMN=FIELD",
              help="Map a roster column to a field, like 'Work Email=email' (repeatable).")
@click.option("--skip-invalid", is_flag=True,
              help="Write the good rows and report the rest, instead of writing nothing.")
@click.option("--update", is_flag=True,
              help="Replace members already declared whose data differ in the roster.")
@handled
def onboard(roster: Path, out: Path, maps: tuple[str, ...], skip_invalid: bool,
            update: bool) -> None:
    """Turn an HR roster (CSV) into org files, checked with the same rules as validate.

    Columns map by header: email, first_name, last_name, roles (separated by ; or |), admin,
    npi, taxonomy, billing_access, supervised_by. Nothing is written unless every row is good
    (or --skip-invalid). Members already declared in OUT are never touched without --update.

    \b
    Examples:
      shsync onboard hires.csv -o org/
      shsync onboard hires.csv -o org/ --update  # only the roster's columns
    """
    from shsync.jobs import onboard as onboarding  # pydantic's models: only when it runs

    try:
        outcome = onboarding.onboard(roster, out, _mapping(maps), skip_invalid=skip_invalid,
                                     update=update)
    except onboarding.OnboardRefused as exc:  # error[roster-refused], after every diagnostic
        echo_diagnostics(exc.outcome.diagnostics, "text")
        raise
    echo_diagnostics(outcome.diagnostics, "text")
    click.echo(f"Added {len(outcome.added)} member(s), updated {len(outcome.updated)}, "
               f"{len(outcome.unchanged)} already declared"
               + (f"; skipped rows {', '.join(map(str, outcome.skipped_rows))}"
                  if outcome.skipped_rows else "")
               + (f". Wrote {', '.join(str(p) for p in outcome.written)}." if outcome.written
                  else ". Nothing to write."), err=True)

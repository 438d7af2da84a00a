"""`shsync onboard`: an HR roster (CSV) into org files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from shsync.jobs import app
from shsync.cli.common import GivenPath, echo_diagnostics, handled
from shsync.render.escape import visible

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
              help="Replace members already declared whose data differ in the roster, and "
                   "warn of each one declared who is not in the roster (the whole staff).")
@click.option("--remove-missing", is_flag=True,
              help="With --update: remove members declared who are not in the roster from "
                   "their files, so the next plan removes them (asking for handoffs), once "
                   "the files say `prune: true`.")
@handled
def onboard(roster: Path, out: Path, maps: tuple[str, ...], skip_invalid: bool,
            update: bool, remove_missing: bool) -> None:
    """Turn an HR roster (CSV) into org files, checked with the same rules as validate.

    Columns map by header: email, first_name, last_name, roles (separated by ; or |), admin,
    npi, taxonomy, billing_access, supervised_by. Nothing is written unless every row is good
    (or --skip-invalid). Members already declared in OUT are never touched without --update.
    With --update the roster is the whole staff: a member declared in OUT and not in it is
    reported where declared, and removed from the files with --remove-missing.

    \b
    Examples:
      shsync onboard hires.csv -o org/
      shsync onboard hires.csv -o org/ --update  # only the roster's columns
      shsync onboard staff.csv -o org/ --update --remove-missing  # leavers too
    """
    from shsync.jobs import onboard as onboarding  # pydantic's models: only when it runs

    try:
        outcome = onboarding.onboard(roster, out, _mapping(maps), skip_invalid=skip_invalid,
                                     update=update, remove_missing=remove_missing)
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
    _leavers(outcome, out)


def _leavers(outcome: Any, out: Path) -> None:
    """What --update found of members declared and not in the roster, and what happens next."""
    if outcome.removed:
        click.echo(visible(
            f"Removed {len(outcome.removed)} member(s) not in the roster from the files under "
            f"{out}: {', '.join(outcome.removed)}. "
            + ("The next `shsync plan` removes them from the practice, and asks for a handoff "
               "(handoffs: in the org files) of their clients, incomplete notes and notes "
               "awaiting their signature wherever they hold any." if outcome.prune else
               "The files do not say `prune: true`, so `shsync plan` leaves them in the "
               "practice until they do; then it removes them and asks for a handoff "
               "(handoffs:) of their clients and notes.")), err=True)
    elif outcome.missing:
        click.echo(f"{len(outcome.missing)} member(s) declared under {out} are not in the "
                   "roster (listed above): kept; `--remove-missing` removes them from the "
                   "files.", err=True)

"""`shsync graph`, `shsync report` and `shsync completion`: pictures of the practice, and the
shell's completion script."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from click.shell_completion import get_completion_class

from shsync.jobs import app
from shsync.stores.base import Backend
from shsync.core.runbook import Step
from shsync.cli.common import GIVEN, GivenPath, backend_option, handled, open_store, write_output
from shsync.core.state import PracticeState, iso


@contextmanager
def existing_store(url: str | None) -> Iterator[Backend]:
    """The store at `url`, for reading only: a missing store or practice is `no-practice`
    (open_store creates nothing unless asked), on every backend."""
    with ExitStack() as stack:
        yield open_store(stack, url)


def _write(text: str, out: Path | None) -> None:
    if out is None:
        click.echo(text, nl=False)
    elif write_output(out, text):  # atomic, or error[output-failed]
        click.echo(f"Wrote {out}.", err=True)


out_option = click.option("-o", "--out", type=GivenPath(path_type=Path, dir_okay=False),
                          help="Write to this file instead of standard output.")


@click.command()
@click.argument("org", required=False, type=GivenPath(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid",
              show_default=True,
              help="mermaid: GitHub renders it in a ```mermaid block; dot: for Graphviz.")
@click.option("--client", "client_id", metavar="ID",
              help="Draw who can see this client, and why, instead of the supervision tree.")
@out_option
@backend_option
@handled
def graph(org: Path | None, fmt: str, client_id: str | None, out: Path | None,
          backend_url: str | None) -> None:
    """Draw the supervision tree: members with their roles, administrators marked, and who
    supervises whom. With --client ID: everyone who can see that client, and why.

    Draws the org file (or directory) ORG when given, else the live practice (--backend),
    which it only reads.

    \b
    Examples:
      shsync graph org/ > supervision.mmd
      shsync graph --client C-1001 --format dot | dot -Tsvg > C-1001.svg
    """
    from shsync.core.access import Lookup
    from shsync.render import graph as render

    from shsync.core.runbook import two_truths

    state, steps = _state(org, backend_url)
    if client_id is None:
        text = render.SUPERVISION[fmt](state)
    else:
        rows = app.access_rows(Lookup(state), client=client_id, member=None)
        seen = two_truths(rows, steps, client=client_id, member=None) if steps else []
        text = render.CLIENT[fmt](state, client_id, rows, seen)
    _write(text, out)


def _state(org: Path | None, backend_url: str | None) -> tuple[PracticeState, list[Step]]:
    """The practice, and the runbook steps `two_truths` needs (none for an org file)."""
    from shsync.core.runbook import around_pending

    if org is not None:
        return app.desired_state(org), []
    with existing_store(backend_url) as store:
        pending = store.runbook_steps(pending_only=True)
        return store.read(), around_pending(pending, store.runbook_steps()) if pending else []


@click.command()
@out_option
@click.option("--since", type=GIVEN, metavar="DATE",
              help="List the widenings of access since this date or ISO time "
                   "[default: 90 days ago].")
@click.option("--timezone", "zone", type=GIVEN, metavar="ZONE",
              help="Show times in this IANA time zone beside UTC [default: the `timezone` of "
                   "the org files shsync.toml names, if any].")
@backend_option
@handled
def report(out: Path | None, since: str | None, zone: str | None,
           backend_url: str | None) -> None:
    """Write the quarterly access review as one self-contained HTML page: the org chart, the
    seats, each member's access with its reasons, the recent audit entries, and every
    widening of access since a date. Reads the live practice (--backend) only.

    \b
    Examples:
      shsync report -o access-review.html --since 2026-09-01
      shsync report --backend postgresql://shsync@db/practices -o review.html
    """
    from shsync.render import report as render
    from shsync.jobs.review import review

    now = app.now()
    start = app.parse_time(since, "--since") if since else _days_before(now, 90)
    zone = _zone(zone)
    with existing_store(backend_url) as store:
        data = review(store, since=start, now=now)
    _write(render.render(data, zone), out)


def _zone(given: str | None) -> str | None:
    """The time zone the report shows beside UTC: --timezone, else the org files'."""
    from shsync.jobs import config
    from shsync.model.clock import valid_zone

    if given is not None:
        if not valid_zone(given.strip()):
            raise app.UserError(f"--timezone {given[:60]!r} is not an IANA time zone name (like "
                                "America/Chicago)", "invalid-setting")
        return given.strip()
    found = config.nearest()
    return app.org_timezone(found.org) if found is not None and found.org is not None else None


def _days_before(moment: str, days: int) -> str:
    parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return iso(parsed.astimezone(UTC) - timedelta(days=days))


@click.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the shell completion script for SHELL (bash, zsh or fish).

    \b
    Examples:
      eval "$(shsync completion bash)"     # in ~/.bashrc
      eval "$(shsync completion zsh)"      # in ~/.zshrc
      shsync completion fish > ~/.config/fish/completions/shsync.fish
    """
    from shsync.cli import cli

    completer = get_completion_class(shell)
    if completer is None:  # click knows all three; kept for a click without one
        raise click.UsageError(f"no completion for {shell}")
    click.echo(completer(cli, {}, "shsync", "_SHSYNC_COMPLETE").source())

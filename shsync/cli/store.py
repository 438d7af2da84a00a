"""`shsync seed`, `shsync export` and `shsync history`: the store itself."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import click

from shsync.jobs import app
from shsync.cli.common import (
    GIVEN,
    GivenPath,
    actor_option,
    application,
    backend_option,
    envelope,
    handled,
    open_store,
    out_option,
    write_output,
)
from shsync.audit.select import Selection, selected
from shsync.render import notices
from shsync.render.history import history_csv, history_jsonl
from shsync.render.escape import visible

# --- seed, export, history --------------------------------------------------------------------

@click.command()
@click.argument("snapshot", type=GivenPath(path_type=Path))
@backend_option
@actor_option
@handled
def seed(snapshot: Path, backend_url: str | None, actor: str | None) -> None:
    """Load a practice snapshot (YAML) into an empty store: the live state to plan against.

    Seeding is the first entry of the audit log, so the log explains the state from the start.

    \b
    Examples:
      shsync seed examples/practice-snapshot.yaml
      SHSYNC_BACKEND='postgresql://ci@db/shsync?practice=riverbend' \\
          shsync seed snapshot.yaml
    """
    state = app.read_snapshot(snapshot)  # its errors before any store is made
    with ExitStack() as stack:
        shsync = application(stack, backend_url, actor, create=True)
        entry = shsync.seed_state(state)
    click.echo(visible(f"Seeded practice {shsync.backend.practice!r} at "
                       f"{shsync.backend.display_url}: {len(state.members)} members, "
                       f"{len(state.clients)} clients, {len(state.appointments)} appointments, "
                       f"{len(state.notes)} notes. Audit entry #{entry.seq}, head "
                       f"{entry.entry_hash}."))


@click.command()
@backend_option
@out_option("Write to this file (or directory, with --split-by) instead of standard output; "
            "written whole or not at all.", "--output")
@click.option("--split-by", type=click.Choice(["none", "role"]), default="none",
              show_default=True,
              help="role: a directory of files a team can own in parts: org.yaml, "
                   "members/<role>.yaml, clients.yaml.")
@click.option("--force", is_flag=True,
              help="Replace an existing file; with --split-by, replace an existing directory "
                   "whole (only one that holds nothing but YAML files).")
@handled
def export(backend_url: str | None, out: Path | None, split_by: str, force: bool) -> None:
    """Write the live practice as an org file (it validates and plans to no changes).

    \b
    Examples:
      shsync export                      # the org file, on stdout
      shsync export -o org.yaml          # refuses to overwrite ...
      shsync export -o org.yaml --force  # ... unless --force
      shsync export -o org/ --split-by role
    """
    if split_by == "role" and (out is None or str(out) == "-"):
        raise app.UserError("--split-by role writes a directory: give it with -o DIR", "usage")
    with ExitStack() as stack:
        state = open_store(stack, backend_url).read()
    if split_by == "role":
        assert out is not None
        written = app.export_split(state, out, replace=force)
        click.echo(f"Wrote {len(written)} files under {out}.", err=True)
        return
    text = app.export(state)
    if out is not None and write_output(out, text, force=force):
        click.echo(f"Wrote {out}.", err=True)
    elif out is None:
        click.echo(text, nl=False)


@click.command()
@backend_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "jsonl", "csv"]),
              default="text", show_default=True,
              help="text: one line per entry; json: every field of every entry; jsonl: one "
                   "entry per line, each with its hash (for a SIEM); csv: one row per entry.")
@click.option("--since", type=GIVEN, metavar="SEQ|TIME",
              help="Only entries from this one on (#SEQ, or written at or after TIME).")
@click.option("--until", type=GIVEN, metavar="SEQ|TIME",
              help="Only entries up to this one (#SEQ, or written at or before TIME).")
@click.option("--member", type=GIVEN, metavar="EMAIL",
              help="Only entries by or about this member.")
@click.option("--client", "client_id", type=GIVEN, metavar="ID",
              help="Only entries about this client.")
@click.option("--kind", "kinds", multiple=True, metavar="KIND",
              help="Only entries of this kind (apply, seed, adopt, accepted, refresh, "
                   "break_glass, expire, review, done, observed); repeatable.")
@click.option("--verify", is_flag=True,
              help="Check the hash chain, then replay the log and check it reproduces the live "
                   "practice; print the head hash.")
@click.option("--expect-head", metavar="HASH",
              help="With --verify: fail unless the log ends at this entry hash.")
@click.option("--break-glass", "break_glass", is_flag=True,
              help="Only emergency access that no administrator has reviewed yet.")
@handled
def history(backend_url: str | None, fmt: str, since: str | None, until: str | None,
            member: str | None, client_id: str | None, kinds: tuple[str, ...], verify: bool,
            expect_head: str | None, break_glass: bool) -> None:
    """Show the audit log: seeding, applies, acceptances and refreshes; who, when, what changed.

    Each entry carries the hash of the one before it, so an edited or deleted entry shows, and
    --verify replays the whole log and compares its end with the head the store keeps beside
    the practice, so a deleted newest entry shows too; whoever can edit the store can edit both,
    so keep the head outside it and pass --expect-head for real assurance.

    \b
    Examples:
      shsync history
      shsync history --verify                           # check chain and replay
      shsync history --verify --expect-head sha256:...  # nothing added or cut
      shsync history --since 120 --format jsonl         # a SIEM's next lines
      shsync history --client C-1001 --since 2027-03-01 --format csv
    """
    selection = _selection(since, until, member, client_id, kinds)
    if not selection.everything and (verify or expect_head is not None or break_glass):
        raise click.UsageError("--since, --until, --member, --client and --kind select entries "
                               "to show; --verify and --break-glass read the whole log")
    if fmt in ("jsonl", "csv") and (verify or expect_head is not None or break_glass):
        raise click.UsageError(f"--format {fmt} lists entries; --verify and --break-glass do not")
    with ExitStack() as stack:
        shsync = application(stack, backend_url, None)
        if verify or expect_head is not None:
            check = shsync.check_log(expect_head)
            if fmt == "json":
                click.echo(envelope(True, verified=True, entries=check.entries,
                                    replayed=check.replayed, note=check.note or None,
                                    head=check.head), nl=False)
                return
            count = f"{check.entries} entr{'y' if check.entries == 1 else 'ies'}"
            if check.replayed:
                click.echo(f"The audit log is intact: {count}, each chained to the one before, "
                           "and replaying them reproduces the practice in shsync's store and every "
                           "runbook step, with its state.")
            else:
                click.echo(f"The audit log's hash chain is intact ({count}); {check.note}.")
            click.echo(f"Head: {check.head}")
            return
        if break_glass:
            _emergencies(shsync.emergencies(), fmt)
            return
        start = (selection.since_seq - 1) if selection.since_seq else 0
        entries = selected(shsync.history(after=max(start, 0)), selection)
    if fmt == "jsonl":
        click.echo(history_jsonl(entries), nl=False)
        return
    if fmt == "csv":
        click.echo(history_csv(entries), nl=False)
        return
    if fmt == "json":
        click.echo(envelope(True, entries=[e.to_dict() for e in entries]), nl=False)
        return
    if not entries:
        click.echo("No entries yet." if selection.everything else "No entry matches.")
    for e in entries:
        s = e.summary
        kind = e.kind or "apply"
        written = f" (written {e.written_at})" if e.written_at and e.written_at != e.at else ""
        confirmed = e.details.get("steps") if isinstance(e.details, dict) else None
        if kind == "seed":
            what = "seeded the practice"
        elif kind == "adopt":
            what = (f"adopted the practice as Sessions Health has it: "
                    f"{len(e.details.get('state', {}).get('members', []))} member(s)")
        elif kind in ("done", "observed") and isinstance(confirmed, list):
            how = "carried out" if kind == "done" else "seen carried out by a refresh"
            what = (f"{len(confirmed)} runbook step(s) {how} in Sessions Health: "
                    + ", ".join(str(x) for x in confirmed[:10])
                    + (", ..." if len(confirmed) > 10 else ""))
        else:
            what = (f"{notices.counts(s) or 'no member or client changed'}; "
                    f"{len(e.operations)} operation(s)"
                    + (f"; plan {e.plan_hash[:19]}" if e.plan_hash else ""))
        approved = e.details.get("approvals") if isinstance(e.details, dict) else None
        if approved and isinstance(approved, list):
            what += "; approved by " + ", ".join(str(a.get("by")) for a in approved
                                                 if isinstance(a, dict))
        click.echo(visible(f"#{e.seq} {kind} {e.at}{written} by {e.actor}: {what}"))
    if any(notices.is_operator(e.actor) for e in entries):
        click.echo(visible(notices.OPERATOR_NOTE), err=True)


def _selection(since: str | None, until: str | None, member: str | None,
               client_id: str | None, kinds: tuple[str, ...]) -> Selection:
    """The entries asked for: a bound is a seq (digits, or #17) or a time; every problem at
    once is a mistake in the command line."""
    from shsync.core.entry import KINDS
    from shsync.model.clock import parse_time

    problems = []
    bounds: dict[str, tuple[int | None, str | None]] = {}
    for name, value in (("--since", since), ("--until", until)):
        if value is None:
            bounds[name] = (None, None)
            continue
        text = value.strip().removeprefix("#")
        if text.isdigit() and text.isascii() and len(text) <= 12:
            bounds[name] = (int(text), None)
            continue
        try:
            bounds[name] = (None, parse_time(value.strip(), name))
        except app.UserError as exc:
            problems.append(str(exc))
            bounds[name] = (None, None)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        problems.append(f"--kind {', '.join(repr(visible(k)[:40]) for k in unknown)}: an entry "
                        f"is one of {', '.join(KINDS)}")
    (since_seq, since_time), (until_seq, until_time) = bounds["--since"], bounds["--until"]
    if since_seq is not None and until_seq is not None and since_seq > until_seq:
        problems.append(f"--since {since_seq} is after --until {until_seq}")
    if since_time is not None and until_time is not None and since_time > until_time:
        problems.append(f"--since {since_time} is after --until {until_time}")
    if problems:
        raise click.UsageError("; ".join(problems))
    return Selection(since_seq, since_time, until_seq, until_time,
                     member.strip() if member else None,
                     client_id.strip() if client_id else None, tuple(dict.fromkeys(kinds)))


def _emergencies(found: list, fmt: str) -> None:
    if fmt == "json":
        click.echo(envelope(True, emergencies=[dict(e.__dict__) for e in found]), nl=False)
        return
    if not found:
        click.echo("No emergency access awaits a review.")
        return
    click.echo("Emergency access awaiting an administrator's review (`shsync review ENTRY "
               "--note TEXT`):")
    for e in found:
        click.echo(visible(f"  {e.line()}"))

"""`history --verify`'s replay on a long log: a practice of a benchmark size, seeded, then N
entries, each a one-member change (a name) or an entry that changes nothing (a runbook step
recorded done), as a practice's log mostly is. Prints entries per second of the replay alone.

    .venv/bin/python -m bench.verify M 400
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from bench import generate
from shsync.audit.chain import after_entry, replay
from shsync.core.entry import AuditEntry
from shsync.core.operations import op, to_dict
from shsync.core.state import fingerprint, state_from_snapshot, state_to_dict
from shsync.format.load import load_snapshot


def log(size: str, count: int) -> tuple[list[AuditEntry], object]:
    members, clients = generate.SIZES[size]
    with tempfile.TemporaryDirectory() as folder:
        path = generate.write(Path(folder) / "snapshot.yaml", generate.org(members, clients))
        loaded = load_snapshot(path)
    assert loaded.value is not None
    state = state_from_snapshot(loaded.value)
    entries = [AuditEntry(1, "2027-01-01T00:00:00Z", "bench", "", "", {}, [], "", "", kind="seed",
                          written_at="2027-01-01T00:00:00Z", result=fingerprint(state),
                          details={"state": state_to_dict(state)})]
    emails = sorted(state.members)
    for seq in range(2, count + 2):
        at = "2027-01-02T00:00:00Z"
        if seq % 2:
            entries.append(AuditEntry(seq, at, "bench", "", fingerprint(state), {}, [], "", "",
                                      kind="done", written_at=at, result=fingerprint(state),
                                      details={"steps": [f"R-{seq}"]}))
            continue
        email = emails[seq % len(emails)]
        name = state.members[email].first_name
        change = op("update_member", email, changes=(("first_name", (name, f"{name}{seq}")),))
        drafted = AuditEntry(seq, at, "bench", "", fingerprint(state), {}, [to_dict(change)],
                             "", "", kind="apply", written_at=at)
        after = after_entry(state, drafted)
        entries.append(AuditEntry(seq, at, "bench", "", fingerprint(state), {},
                                  [to_dict(change)], "", "", kind="apply", written_at=at,
                                  result=fingerprint(after)))
        state = after
    return entries, state


def main(size: str = "S", count: int = 200) -> None:
    entries, live = log(size, count)
    started = time.perf_counter()
    problem = replay(entries, live)  # type: ignore[arg-type]
    took = time.perf_counter() - started
    assert problem is None, problem
    print(f"{size}: {len(entries)} entries replayed in {took:.2f} s "
          f"({len(entries) / took:,.0f} entries/s)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "S", int(sys.argv[2]) if len(sys.argv) > 2 else 200)

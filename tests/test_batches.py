"""Batched onboarding: waves of N invitations, each whole or absent, resumable, exactly once."""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import pytest

from shsync.jobs import app
from shsync.stores.sqlite import SqliteBackend
from shsync.core.authorize import Actor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.generate import org, write  # noqa: E402

from tests.conftest import NOW
OPERATOR = Actor.operator("tester")
OPTIONS = app.planner.Options(assume_accepted=True)


class Interrupted(Exception):
    pass


class CrashingBackend(SqliteBackend):
    """Dies inside the transaction of one apply, after writing, before committing."""

    crash_on: int | None = None
    applies = 0

    def _append(self, entry, operations_json=None):
        self.applies += 1
        if self.applies == self.crash_on:
            raise Interrupted("killed before commit")
        return super()._append(entry, operations_json)


@pytest.fixture
def practice(tmp_path):
    return write(tmp_path / "org.yaml", org(60, 300))


def invitations(backend) -> Counter:
    return Counter(op["target"] for entry in backend.history() for op in entry.operations
                   if op["action"] == "invite_member")


def run(path, backend, **kwargs):
    shsync = app.Shsync(backend, OPERATOR, lambda: NOW)
    return shsync.apply_in_batches(path, size=25, options=OPTIONS, **kwargs)


def test_waves_of_n_invitations_the_last_with_everything_else(practice, tmp_path):
    backend = SqliteBackend(str(tmp_path / "p.db"))
    batches = run(practice, backend)
    assert [b.invited for b in batches] == [25, 50, 60] and batches[-1].final
    assert [(b.number, b.total) for b in batches] == [(1, 3), (2, 3), (3, 3)]
    assert all(b.entry is not None for b in batches)  # one batch, one transaction
    assert [e.summary["invite"] for e in backend.history()] == [25, 25, 10]
    assert len(backend.read().members) == 60 and len(backend.read().clients) == 300
    planned = app.Shsync(backend, OPERATOR, lambda: NOW).plan(practice, OPTIONS)
    assert planned.plan.operations == ()
    backend.close()


def test_an_interruption_between_waves_resumes_without_inviting_twice(practice, tmp_path):
    backend = SqliteBackend(str(tmp_path / "p.db"))

    def stop_after_two(batch):
        if batch.number == 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        run(practice, backend, on_batch=stop_after_two)
    assert len(backend.read().members) == 50
    rerun = run(practice, backend)
    assert [(b.number, b.total, b.invited) for b in rerun] == [(1, 1, 10)]
    counts = invitations(backend)
    assert len(counts) == 60 and set(counts.values()) == {1}
    backend.close()


def test_a_crash_inside_a_wave_leaves_it_absent_and_a_rerun_finishes(practice, tmp_path):
    backend = CrashingBackend(str(tmp_path / "p.db"))
    backend.crash_on = 2
    with pytest.raises(Interrupted):
        run(practice, backend)
    state = backend.read()
    assert len(state.members) == 25  # wave 1 whole, wave 2 absent
    assert all(c.practitioner in state.members for c in state.clients.values())
    backend.crash_on = None
    run(practice, backend)
    counts = invitations(backend)
    assert len(counts) == 60 and set(counts.values()) == {1}
    backend.close()


def test_batches_from_the_cli(practice, tmp_path):
    import os
    import subprocess

    env = {**os.environ, "SHSYNC_BACKEND": f"sqlite:///{tmp_path}/cli.db", "SHSYNC_NOW": NOW}
    result = subprocess.run([sys.executable, "-m", "shsync", "apply", str(practice),
                             "--auto-approve", "--assume-accepted", "--batch-size", "20"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = [re.sub(r"[\d,]+/s$", "N/s", line) for line in result.stderr.splitlines()]
    assert lines == ["batch 1 of 3: 20 of 60 invited, N/s",
                     "batch 2 of 3: 40 of 60 invited, N/s",
                     "batch 3 of 3: 60 of 60 invited, and every other change, N/s"]
    assert "\nApplied in 3 transaction(s); audit entries #1, #2, #3, head sha256:" in result.stdout
    # the steps themselves are not listed (`shsync plan` shows them): a few lines in all
    assert len(result.stdout.splitlines()) < 10, result.stdout
    assert "Plan: 60 to invite" in result.stdout


def test_a_terminal_gets_a_progress_bar_instead_of_lines(practice, tmp_path):
    import os
    import pty
    import subprocess

    env = {**os.environ, "SHSYNC_BACKEND": f"sqlite:///{tmp_path}/tty.db", "SHSYNC_NOW": NOW}
    primary, secondary = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "shsync", "apply", str(practice),
                             "--auto-approve", "--assume-accepted", "--batch-size", "20"],
                            env=env, stdout=subprocess.PIPE, stderr=secondary)
    os.close(secondary)
    seen = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        seen += chunk
    stdout = proc.communicate(timeout=120)[0].decode()
    os.close(primary)
    assert proc.returncode == 0
    terminal = seen.decode()
    assert "Inviting" in terminal and "60/60" in terminal
    assert "batch 1 of" not in terminal
    assert "Applied in 3 transaction(s)" in stdout


def test_batches_as_json_count_the_same_transactions(practice, tmp_path):
    import json
    import os
    import subprocess

    env = {**os.environ, "SHSYNC_BACKEND": f"sqlite:///{tmp_path}/json.db", "SHSYNC_NOW": NOW}
    result = subprocess.run([sys.executable, "-m", "shsync", "apply", str(practice),
                             "--auto-approve", "--assume-accepted", "--batch-size", "20",
                             "--format", "json"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    batches = json.loads(result.stdout)["batches"]
    assert [(b["number"], b["total"], b["invited"]) for b in batches] == [
        (1, 3, 20), (2, 3, 40), (3, 3, 60)]
    assert [b["audit_entry"]["seq"] for b in batches] == [1, 2, 3]

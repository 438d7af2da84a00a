"""Batched onboarding: waves of N invitations, each whole or absent, resumable, exactly once."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

from shsync import app
from shsync.backends.sqlite import SqliteBackend
from shsync.reconcile.authorize import Actor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.generate import org, write  # noqa: E402

NOW = "2026-11-26T12:00:00Z"
OPERATOR = Actor.operator("tester")
OPTIONS = app.planner.Options(assume_accepted=True)


class Interrupted(Exception):
    pass


class CrashingBackend(SqliteBackend):
    """Dies inside the transaction of one apply, after writing, before committing."""

    crash_on: int | None = None
    applies = 0

    def _append(self, entry):
        self.applies += 1
        if self.applies == self.crash_on:
            raise Interrupted("killed before commit")
        return super()._append(entry)


@pytest.fixture
def practice(tmp_path):
    return write(tmp_path / "org.yaml", org(60, 300))


def invitations(backend) -> Counter:
    return Counter(op["target"] for entry in backend.history() for op in entry.operations
                   if op["action"] == "invite_member")


def run(path, backend, **kwargs):
    shsync = app.Shsync(backend, OPERATOR, lambda: NOW)
    return shsync.apply_in_batches(path, size=25, options=OPTIONS, **kwargs)


def test_waves_of_n_invitations_then_a_final_pass(practice, tmp_path):
    backend = SqliteBackend(str(tmp_path / "p.db"))
    batches = run(practice, backend)
    assert [b.invited for b in batches] == [25, 50, 60, 60] and batches[-1].final
    assert [e.summary["invite"] for e in backend.history()] == [25, 25, 10, 0]
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
    run(practice, backend)
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
    assert "batch 1: 20 of 60 invited" in result.stderr
    assert "batch 4 (final pass)" in result.stderr
    assert "Applied in 4 transaction(s)" in result.stdout

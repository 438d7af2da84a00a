"""Crash at any step: SIGKILL after every operation of an apply leaves the practice as it was.

The test-only hook SHSYNC_TEST_KILL_AFTER_OPS=k makes the apply process kill itself right after
its k-th operation. For a plan of 50+ operations of every kind, on SQLite and PostgreSQL, for
every k (on PostgreSQL, a third of them: `crash_points`): the practice equals the state before, the audit log has no entry, and the next apply
succeeds and converges. Also: batched onboarding under a kill, a full disk, a read-only store.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from shsync.stores.base import BackendError
from shsync.stores.postgres import PostgresBackend
from shsync.jobs.app import Shsync
from shsync.stores.faults import FAULT_HOOK, STEPS_HOOK
from shsync.stores.sqlite import SqliteBackend
from shsync.core import planner
from shsync.core.authorize import Actor
from shsync.core.operations import ACTIONS
from shsync.core.state import (
    End,
    Handoff,
    Appointment, ClientState, Desired, MemberState, Note, PracticeState,
)  # fmt: skip
from tests import fault_stats, pg

from tests.conftest import NOW
D = "@crash.example"
OPERATOR = Actor.operator("tester")
OPTIONS = planner.Options(allow_mass_removal=True, assume_accepted=True)


def mem(name: str, *roles: str, **kw) -> MemberState:
    if kw.get("supervisor"):
        kw["supervisor"] += D
    kw.setdefault("first_name", name.title())
    return MemberState(name + D, last_name="X", roles=tuple(sorted(roles)), **kw)


def scenario() -> tuple[PracticeState, Desired]:
    """A live practice and a desired one whose plan uses every kind of operation."""
    live_members = [mem("admin", "practitioner", "supervisor", admin=True, owner=True),
                    mem("old", "biller", admin=True), mem("sup", "practitioner", "supervisor"),
                    mem("leaver", "practitioner", "supervisor"),
                    mem("sched", "scheduler"), mem("both", "biller", "scheduler"),
                    mem("inv", "practitioner", status="invited")]
    live_members += [mem(f"p{i}", "practitioner", supervisor="leaver") for i in range(8)]
    clients = [ClientState(f"C{i}", f"p{i % 8}{D}", (f"admin{D}",) if i < 5 else ())
               for i in range(12)]
    clients += [ClientState(f"L{i}", f"leaver{D}") for i in range(5)]
    # A grant that ends by itself, whose end the file moves (set_access_end).
    clients.append(ClientState("E0", f"p0{D}", (f"sup{D}",),
                               ends=(End(f"sup{D}", "2027-06-01T00:00:00Z", "cover"),)))
    notes = (Note(1, f"leaver{D}", "L0", "incomplete"), Note(2, f"leaver{D}", "L1", "incomplete"),
             Note(3, f"p0{D}", "C0", "awaiting_signature", supervisor=f"leaver{D}"),
             Note(4, f"admin{D}", "C3", "awaiting_signature", supervisor=f"leaver{D}"))
    appointments = (Appointment(1, f"leaver{D}", "L0", "2027-01-01T10:00:00Z"),)
    live = PracticeState({m.email: m for m in live_members}, {c.id: c for c in clients},
                         appointments, notes, "Old name")
    want = {m.email: m for m in live_members if m.email != f"leaver{D}"}
    want[f"old{D}"] = mem("old", "biller")
    want[f"sched{D}"] = mem("sched", "biller", "scheduler")
    want[f"both{D}"] = mem("both", "biller")
    for i in range(8):
        want[f"p{i}{D}"] = mem(f"p{i}", "practitioner", supervisor="sup",
                               first_name="Renamed" if i == 0 else f"P{i}",
                               billing_access=i != 1, full_clinical_access=i == 2,
                               cosign=("progress_notes",) if i == 3 else ())
    for i in range(5):
        want[f"n{i}{D}"] = mem(f"n{i}", "scheduler")
    desired_clients = {}
    for i in range(12):
        access = (f"sup{D}", f"inv{D}") if i >= 5 else ()
        desired_clients[f"C{i}"] = ClientState(f"C{i}", f"p{(i + 1) % 8}{D}", access,
                                               f"admin{D}" if i < 2 else None)
    for i in range(5):
        desired_clients[f"N{i}"] = ClientState(f"N{i}", f"p{i}{D}", (f"admin{D}",))
    desired_clients["E0"] = ClientState("E0", f"p0{D}", (f"sup{D}",),
                                        ends=(End(f"sup{D}", "2027-07-01T00:00:00Z", "cover"),))
    handoffs = {f"leaver{D}": Handoff(f"sup{D}", f"sup{D}", f"sup{D}")}
    # A two-person rule brought in (set_policy): none is live, so the plan needs no approval; and
    # a break-glass policy (set_break_glass_policy) and runbook deadlines (set_deadline_policy).
    return live, Desired(want, desired_clients, handoffs, name="New name",
                         approval_policy=(("removes_members", 1), ("widens_access", 1)),
                         break_glass_policy=(("admin", "practitioner"), 120),
                         deadline_policy=(("narrows_access", 30),))


def test_the_scenario_covers_every_kind_of_operation():
    live, desired = scenario()
    plan = planner.plan(desired, live, practice="default", now=NOW, options=OPTIONS)
    assert plan.errors == ()
    assert len(plan.operations) >= 50
    # break_glass is never planned from a file: its own crash test is below.
    assert {o.action for o in plan.operations} == set(ACTIONS) - {"break_glass"}


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """A factory of fresh copies of the seeded scenario, as (backend URL, open handle)."""
    live, _ = scenario()
    if request.param == "sqlite":
        template = tmp_path / "template.db"
        seeded = SqliteBackend(str(template))
        seeded.seed(live)
        seeded.close()
        made: list[Path] = []

        def fresh():
            path = tmp_path / f"copy{len(made)}.db"
            shutil.copyfile(template, path)
            made.append(path)
            return f"sqlite:///{path}", SqliteBackend(str(path))
        return fresh
    pg.require()

    def fresh_pg():
        url = pg.fresh_url(pg.new_schema("crash"))
        backend = PostgresBackend(url)
        backend.seed(live)
        return url, backend
    return fresh_pg


def apply_in_child(url: str, plan_file: Path, kill_after: int, *args: str) -> int:
    env = {**os.environ, FAULT_HOOK: str(kill_after), "SHSYNC_NOW": NOW}
    env.pop("SHSYNC_ACTOR", None)
    return subprocess.run([sys.executable, "-m", "shsync", "apply", str(plan_file),
                           "--backend", url, *args], env=env, capture_output=True,
                          timeout=120).returncode


def crash_points(plan, every: bool) -> list[int]:
    """Every k on SQLite. On PostgreSQL, whose transaction is one for the whole apply as
    SQLite's is, a fresh schema per point costs most of the suite's time: the first and last
    operation, the first of each kind, and every fourth (about a third of the points)."""
    n = len(plan.operations)
    if every:
        return list(range(1, n + 1))
    first: dict[str, int] = {}
    for k, o in enumerate(plan.operations, 1):
        first.setdefault(o.action, k)
    return sorted({1, n, *first.values(), *range(1, n + 1, 4)})


def test_a_kill_after_any_operation_leaves_the_practice_as_it_was(store, tmp_path, request):
    live, desired = scenario()
    plan = planner.plan(desired, live, practice="default", now=NOW, options=OPTIONS)
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(plan.to_file())
    for k in crash_points(plan, every=request.node.callspec.params["store"] == "sqlite"):
        url, backend = store()
        code = apply_in_child(url, plan_file, k)
        fault_stats.tried("crash points")
        after, entries = backend.read(), backend.history()
        intact = (after == live and [e.kind for e in entries] == ["seed"]
                  and backend.runbook_steps() == [])
        assert code == -signal.SIGKILL, f"the apply was not killed at operation {k}: exit {code}"
        assert fault_stats.compared(intact, live, len(entries)), f"after a kill at operation {k}"
        backend.apply(plan, actor=OPERATOR, now=NOW)
        again = planner.plan(desired, backend.read(), practice="default", now=NOW,
                             options=OPTIONS)
        assert again.operations == (), f"no convergence after a kill at operation {k}"
        backend.close()


def test_a_kill_after_the_runbook_steps_are_written_leaves_neither_them_nor_the_change(
        store, tmp_path):
    """The steps are written in the apply's transaction: a kill before its commit leaves the
    practice, the log and the runbook as they were; the apply then records both."""
    live, desired = scenario()
    plan = planner.plan(desired, live, practice="default", now=NOW, options=OPTIONS)
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(plan.to_file())
    url, backend = store()
    env = {**os.environ, STEPS_HOOK: "1", "SHSYNC_NOW": NOW}
    env.pop("SHSYNC_ACTOR", None)
    code = subprocess.run([sys.executable, "-m", "shsync", "apply", str(plan_file),
                           "--backend", url], env=env, capture_output=True,
                          timeout=120).returncode
    fault_stats.tried("crash points")
    intact = (code == -signal.SIGKILL and backend.read() == live
              and [e.kind for e in backend.history()] == ["seed"]
              and backend.runbook_steps() == [])
    assert fault_stats.compared(intact, live, len(backend.history())), f"exit {code}"
    entry = backend.apply(plan, actor=OPERATOR, now=NOW)
    steps = backend.runbook_steps()
    assert steps and {s.entry for s in steps} == {entry.seq}
    assert entry.details["runbook"] == {"first": 1, "count": len(steps)}
    assert Shsync(backend, OPERATOR).check_log().replayed
    backend.close()


def test_a_killed_break_glass_leaves_nothing_behind(store, tmp_path):
    live, _ = scenario()
    org = tmp_path / "org.yaml"
    org.write_text(yaml.safe_dump({"version": 1, "members": [
        {"email": f"admin{D}", "first_name": "A", "last_name": "X", "admin": True,
         "roles": ["practitioner"]}]}))
    url, backend = store()
    env = {**os.environ, FAULT_HOOK: "1", "SHSYNC_NOW": NOW, "SHSYNC_ACTOR": f"p0{D}"}
    code = subprocess.run([sys.executable, "-m", "shsync", "break-glass", "--client", "L0",
                           "--reason", "crisis", "--org", str(org), "--backend", url], env=env,
                          capture_output=True, timeout=120).returncode
    fault_stats.tried("crash points")
    after, entries = backend.read(), backend.history()
    intact = code == -signal.SIGKILL and after == live and [e.kind for e in entries] == ["seed"]
    assert fault_stats.compared(intact, live, len(entries)), f"exit {code}"
    backend.close()


def test_a_killed_batched_onboarding_keeps_whole_batches_and_finishes_once(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.generate import org, write

    org_file = write(tmp_path / "org.yaml", org(40, 120))
    db = tmp_path / "p.db"
    args = ["--auto-approve", "--assume-accepted", "--batch-size", "10"]
    for k in range(3, 200, 14):  # kill points spread over every wave and the final pass
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        code = apply_in_child(f"sqlite:///{db}", org_file, k, *args)
        fault_stats.tried("crash points")
        backend = SqliteBackend(str(db))
        entries = backend.history()
        state = backend.read()
        members = len(state.members)
        assert code == -signal.SIGKILL, (k, code)
        whole = members == sum(e.summary["invite"] for e in entries) and members % 10 == 0
        assert fault_stats.compared(whole, state, len(entries)), (k, members)
        backend.close()
        rerun = apply_in_child(f"sqlite:///{db}", org_file, 10**9, *args)
        assert rerun == 0
        backend = SqliteBackend(str(db))
        invites = Counter(op["target"] for e in backend.history() for op in e.operations
                          if op["action"] == "invite_member")
        exactly_once = len(invites) == 40 and set(invites.values()) == {1}
        assert fault_stats.compared(exactly_once, backend.read(), len(backend.history()))
        backend.close()


def _apply_expecting(backend, tmp_path) -> str:
    live, desired = scenario()
    plan = planner.plan(desired, backend.read(), practice="default", now=NOW, options=OPTIONS)
    with pytest.raises(BackendError) as info:
        backend.apply(plan, actor=OPERATOR, now=NOW)
    entries = backend.history()
    intact = backend.read() == live and [e.kind for e in entries] == ["seed"]
    assert fault_stats.compared(intact, live, len(entries))
    return str(info.value)


def test_a_full_disk_is_a_clear_error_and_changes_nothing(tmp_path):
    live, _ = scenario()
    backend = SqliteBackend(str(tmp_path / "p.db"))
    backend.seed(live)
    pages = backend._conn.execute("PRAGMA page_count").fetchone()[0]
    backend._conn.execute(f"PRAGMA max_page_count = {pages}")  # no room to grow
    assert "full" in _apply_expecting(backend, tmp_path)
    backend.close()


def test_a_read_only_store_is_a_clear_error_and_changes_nothing(tmp_path):
    live, _ = scenario()
    backend = SqliteBackend(str(tmp_path / "p.db"))
    backend.seed(live)
    backend._conn.execute("PRAGMA query_only = ON")
    assert "readonly" in _apply_expecting(backend, tmp_path).replace(" ", "")
    backend.close()


def test_a_store_file_that_cannot_be_opened_is_a_clear_error(tmp_path):
    content = "hello, not sqlite " * 100
    (tmp_path / "not-a-db").write_text(content)
    with pytest.raises(BackendError, match="cannot open"):
        SqliteBackend(str(tmp_path / "not-a-db"))
    assert (tmp_path / "not-a-db").read_text() == content  # refused, not overwritten

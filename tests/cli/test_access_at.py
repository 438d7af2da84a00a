"""Who could see a client, and why, at a past time (`shsync access --at TIME`, issue #27): the
audit log replayed up to the last entry written by then, with the runbook steps not yet carried
out in Sessions Health at that time beside it. Entries are written at the store's clock, to the
second, so the test waits for the next second between them (on any date)."""

from __future__ import annotations

import json
import sqlite3
import time

from tests.cli.conftest import ROOT
from tests.conftest import run_cli

ORG = ROOT / "examples" / "org.yaml"
SNAPSHOT = ROOT / "examples" / "practice-snapshot.yaml"


def next_second(after: str) -> None:
    while time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) <= after:
        time.sleep(0.05)


def entries(backend: list[str]) -> list[dict]:
    return json.loads(run_cli("history", "--format", "json", *backend).stdout)["entries"]


def rows(*args: object) -> list[dict]:
    shown = run_cli("access", *args, "--format", "json")
    assert shown.exit_code == 0, shown.output
    return json.loads(shown.stdout)["rows"]


def test_access_at_a_past_time_is_the_replayed_log_with_both_truths(tmp_path):
    store = ["--backend", f"sqlite:///{tmp_path}/practice.db"]
    only_seeded = ["--backend", f"sqlite:///{tmp_path}/seeded.db"]
    assert run_cli("seed", SNAPSHOT, *store).exit_code == 0
    assert run_cli("seed", SNAPSHOT, *only_seeded).exit_code == 0
    seeded_at = entries(store)[0]["written_at"]
    next_second(seeded_at)
    assert run_cli("apply", ORG, "--auto-approve", *store).exit_code == 0
    applied_at = entries(store)[1]["written_at"]
    assert applied_at > seeded_at

    # At the seed's time: what a store holding only the snapshot answers today.
    for subject in (["--client", "C-1001"], ["--member", "jo.former@riverbend.example"]):
        assert rows(*subject, "--at", seeded_at, *store) == rows(*subject, *only_seeded)
    # At the apply's time: what the store answers now, nothing confirmed since.
    assert rows("--client", "C-1001", "--at", applied_at, *store) == rows(
        "--client", "C-1001", *store)

    # Steps carried out later are still pending at the apply's time.
    steps = json.loads(run_cli("runbook", "--format", "json", *store).stdout)["steps"]
    doable = [s["id"] for s in steps if s["waits_for"] is None]
    next_second(applied_at)
    assert run_cli("done", *doable, *store).exit_code == 0
    # Then, Jo was removed in shsync and could still see clients in Sessions Health; now, with
    # every step carried out, she is a member of neither.
    then = rows("--member", "jo.former@riverbend.example", "--at", applied_at, *store)
    assert then and all(r["in_sessions_health"] == "pending" for r in then)
    gone = run_cli("access", "--member", "jo.former@riverbend.example", *store)
    assert gone.exit_code == 1 and "error[unknown-member]" in gone.stderr
    text = run_cli("access", "--client", "C-1001", "--at", seeded_at, *store)
    assert text.stdout.startswith(f"As shsync's store held it at {seeded_at} (the audit log "
                                  "replayed to entry #1):")


def test_a_time_the_log_cannot_answer_for_is_refused(tmp_path):
    store = ["--backend", f"sqlite:///{tmp_path}/practice.db"]
    assert run_cli("seed", SNAPSHOT, *store).exit_code == 0
    before = run_cli("access", "--client", "C-1001", "--at", "2020-01-01T00:00:00Z", *store)
    assert before.exit_code == 1 and "error[no-practice]: no entry was written by" in before.stderr
    assert run_cli("access", "--client", "C-1001", "--at", "soon", *store).exit_code == 1
    with_file = run_cli("access", "--client", "C-1001", "--at", "2027-01-01T00:00:00Z",
                        "--file", ORG, *store)
    assert with_file.exit_code == 64
    # An entry changed outside shsync: no answer, rather than a wrong one.
    with sqlite3.connect(tmp_path / "practice.db") as db:
        db.execute("UPDATE audit SET actor = 'someone' WHERE seq = 1")
    broken = run_cli("access", "--client", "C-1001", "--at", "2099-01-01T00:00:00Z", *store)
    assert broken.exit_code == 1 and "error[audit-broken]" in broken.stderr


def test_between_two_times_every_change_with_its_entry_and_when_it_was_carried_out(tmp_path):
    store = ["--backend", f"sqlite:///{tmp_path}/practice.db"]
    assert run_cli("seed", SNAPSHOT, *store).exit_code == 0
    seeded_at = entries(store)[0]["written_at"]
    next_second(seeded_at)
    assert run_cli("apply", ORG, "--auto-approve", *store).exit_code == 0
    applied_at = entries(store)[1]["written_at"]
    jo = "jo.former@riverbend.example"
    before, after = (rows("--member", jo, "--at", t, *store) for t in (seeded_at, applied_at))
    changes = json.loads(run_cli("access", "--member", jo, "--between", seeded_at, applied_at,
                                 "--format", "json", *store).stdout)["changes"]
    # Exactly what she lost with entry #2, each a row she held after the seed.
    assert changes and {c["entry"] for c in changes} == {2}
    assert {c["change"] for c in changes} == {"lost"}
    held = {(r["client"], r["capability"], r["reason"]) for r in before}
    assert {(c["client"], c["capability"], c["reason"]) for c in changes} == held - {
        (r["client"], r["capability"], r["reason"]) for r in after if r["in_shsync"]}
    assert all(c["steps"] and c["carried_out"] is None for c in changes)  # not yet carried out
    # Once carried out, the same interval says when.
    steps = json.loads(run_cli("runbook", "--format", "json", "--member", jo,
                               *store).stdout)["steps"]
    next_second(applied_at)
    assert run_cli("done", *(s["id"] for s in steps if s["waits_for"] is None),
                   *store).exit_code == 0
    later = json.loads(run_cli("access", "--member", jo, "--between", seeded_at, applied_at,
                               "--format", "json", *store).stdout)["changes"]
    assert all(c["carried_out"] is not None and c["carried_out"] > applied_at for c in later)
    text = run_cli("access", "--member", jo, "--between", seeded_at, applied_at, *store)
    assert "carried out in Sessions Health at" in text.stdout
    # The seed gave her what she held, asking nothing of Sessions Health; a `done` entry
    # changes no access; ends reversed are a usage error.
    seeded = json.loads(run_cli("access", "--member", jo, "--between", "2020-01-01T00:00:00Z",
                                seeded_at, "--format", "json", *store).stdout)["changes"]
    assert {(c["entry"], c["change"]) for c in seeded} == {(1, "gained")}
    assert len(seeded) == len(before) and all(c["steps"] == [] for c in seeded)
    none = run_cli("access", "--member", jo, "--between", applied_at, "2099-01-01T00:00:00Z",
                   *store)
    assert none.exit_code == 0 and none.stdout.startswith(f"No change of {jo}'s access")
    reversed_ = run_cli("access", "--member", jo, "--between", applied_at, seeded_at, *store)
    assert reversed_.exit_code == 64 and "the start is not before the end" in reversed_.stderr

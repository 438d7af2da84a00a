"""Time-bound access, emergency (break-glass) access and reviews, end to end through the CLI.

The clock is fixed with SHSYNC_NOW (and `plan --at`); the audit log keeps the real time."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
import yaml

from tests.conftest import NOW

D = "@p.example"
ADMIN = {"email": f"dana{D}", "first_name": "Dana", "last_name": "O", "admin": True,
         "owner": True, "roles": ["practitioner", "supervisor"], "npi": "1245319599"}
SAM = {"email": f"sam{D}", "first_name": "Sam", "last_name": "L", "roles": ["practitioner"],
       "npi": "1234567893"}
KIM = {"email": f"kim{D}", "first_name": "Kim", "last_name": "M", "roles": ["practitioner"],
       "billing_access": False}
NEW = {**KIM, "email": f"new{D}", "first_name": "New"}
CLIENTS = [{"id": "C-1001", "practitioner": f"sam{D}"},
           {"id": "C-1002", "practitioner": f"kim{D}"}]
ORG = {"version": 1, "timezone": "America/Chicago",
       # the default the live practice keeps until a plan applies another: no step to plan
       "policy": {"break_glass": {"who": ["practitioner"], "max": "8h"}},
       "members": [ADMIN, SAM, KIM, NEW], "clients": CLIENTS}


@pytest.fixture
def practice(run, tmp_path):
    (tmp_path / "snapshot.yaml").write_text(yaml.safe_dump(
        {"version": 1, "members": [ADMIN, SAM, KIM, {**NEW, "status": "invited"}],
         "clients": CLIENTS}))
    (tmp_path / "org.yaml").write_text(yaml.safe_dump(ORG))
    assert run("seed", "snapshot.yaml").returncode == 0

    def shsync(*args, at=NOW, actor=None):
        env = {"SHSYNC_NOW": at, "SHSYNC_ORG": "org.yaml"}
        if actor:
            env["SHSYNC_ACTOR"] = actor + D
        return run(*args, env=env)

    return shsync


def test_break_glass_from_start_to_review(practice):
    done = practice("break-glass", "--client", "C-1001", "--reason", "crisis, sam unreachable",
                    "--for", "2h", actor="kim")
    assert done.returncode == 0, done.stderr
    first, second, third = done.stdout.splitlines()
    assert first.startswith(f"Emergency access: kim{D} on client C-1001 until "
                            "2026-11-26T14:00:00Z, reason: crisis, sam unreachable. Audit "
                            "entry #2, head sha256:")
    assert second == (f"In Sessions Health now: Clients > C-1001 > Manage Access: tick kim{D}. "
                      "Save. It is taken back after 2026-11-26T14:00:00Z by the first `shsync "
                      "plan`/`apply` or `shsync expire`; an administrator then records a "
                      "review: `shsync review 2 --note TEXT`.")
    # The tick is a runbook step, pending until someone records it carried out; its deadline
    # is three days (access given) from when the store wrote it, by the store's own clock.
    assert re.fullmatch(r"Recorded in shsync's store only: Sessions Health changes when people "
                        r"carry out 1 new runbook step\(s\), R-1, the first due "
                        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\. Print them with `shsync runbook "
                        r"--entry 2`; record each with `shsync done R-N`\.", third)
    # Every later plan shows it as drift with its end, and a scheduled job sees exit 2.
    plan = practice("plan", "org.yaml", "--detailed-exitcode")
    assert plan.returncode == 2
    assert (f"  ! [break-glass] break-glass: kim{D} on C-1001 until 2026-11-26T14:00:00Z, "
            "reason: crisis, sam unreachable\n") in plan.stdout
    # Nothing to apply, but the practice holds access the file does not: it says so.
    assert ("No changes to apply now. The live practice matches the org file apart from the "
            "emergency access below, which ends by itself.\n") in plan.stdout
    assert "No changes. The live practice matches the org file." not in plan.stdout
    # The access report shows it, with its end.
    shown = practice("access", "--client", "C-1001").stdout
    assert (f"  kim{D}   record, notes, diagnoses, treatment plans  (break_glass, until "
            "2026-11-26T14:00:00Z)\n") in shown
    listed = practice("history", "--break-glass")
    assert listed.stdout == (
        "Emergency access awaiting an administrator's review (`shsync review ENTRY --note "
        "TEXT`):\n"
        f"  #2 {NOW}: kim{D} on C-1001 until 2026-11-26T14:00:00Z, reason: crisis, sam "
        "unreachable\n")
    # At its end, the first plan takes it back, marked expired.
    later = practice("plan", "org.yaml", "--detailed-exitcode", at="2026-11-26T14:00:00Z")
    assert later.returncode == 2
    assert (f"  - client C-1001: revoke access of kim{D} [expired 2026-11-26T14:00:00Z]\n"
            in later.stdout)
    preview = practice("expire", "--dry-run", "--format", "runbook", at="2026-11-26T14:00:00Z")
    assert (f"1. Clients > C-1001 > Manage Access: untick kim{D}. Save. Do it now: this access "
            "ended at 2026-11-26T14:00:00Z.\n") in preview.stdout
    assert "Audit entry" not in preview.stdout
    expired = practice("expire", at="2026-11-26T14:00:00Z")
    assert expired.returncode == 0, expired.stderr
    assert ("Recorded the end of 1 access(es) in shsync's store. Audit entry #3, head sha256:"
            in expired.stdout)
    # Only an administrator reviews; then the emergency leaves the list.
    refused = practice("review", "2", "--note", "fine", actor="sam")
    assert refused.returncode == 1
    assert refused.stderr == (f"error[forbidden]: sam{D} is not an active administrator; only "
                              "an administrator reviews emergency access\n")
    reviewed = practice("review", "2", "--note", "justified: client called at 2 a.m.",
                        actor="dana")
    assert reviewed.returncode == 0, reviewed.stderr
    assert reviewed.stdout.startswith("Recorded the review of entry #2. Audit entry #4, head ")
    assert practice("history", "--break-glass").stdout == (
        "No emergency access awaits a review.\n")
    again = practice("review", "2", "--note", "twice", actor="dana")
    assert again.stderr == "error[already-reviewed]: audit entry #2 has already been reviewed\n"
    entries = json.loads(practice("history", "--format", "json").stdout)["entries"]
    assert [e["kind"] for e in entries] == ["seed", "break_glass", "expire", "review"]
    assert entries[1]["actor"] == f"kim{D}" and entries[1]["at"] == NOW
    assert entries[1]["written_at"] != NOW  # the real time it was written
    assert entries[3]["details"]["note"] == "justified: client called at 2 a.m."
    verified = practice("history", "--verify")
    assert verified.returncode == 0 and "replaying them reproduces" in verified.stdout


@pytest.mark.parametrize("actor, args, message", [
    ("new", [], f"error[break-glass-not-active]: new{D} is not an active member of this "
                "practice, so cannot break glass"),
    ("kim", ["--for", "9h"], "error[break-glass-too-long]: --for 9h is longer than the "
                             "practice's policy allows (practitioner for up to 8h)"),
    ("sam", [], f"error[break-glass-already-sees]: sam{D} already sees client C-1001; "
                "break-glass is only for a client they cannot see"),
    ("kim", ["--reason", " "], "error[break-glass-no-reason]: a reason is required: say why, "
                               "for the audit log and the review"),
    (None, [], "error[break-glass-needs-actor]: break-glass gives the acting member access: "
               "name yourself with --actor EMAIL (or SHSYNC_ACTOR; over HTTP, a member's own "
               "token)"),
    ("kim", ["--for", "soon"], "error[invalid-duration]: --for: 'soon' is not a duration like "
                               "4h, 90m or 1h30m"),
])
def test_break_glass_refusals_say_why_and_change_nothing(practice, actor, args, message):
    reason = [] if "--reason" in args else ["--reason", "crisis"]
    result = practice("break-glass", "--client", "C-1001", *reason, *args, actor=actor)
    assert (result.returncode, result.stderr, result.stdout) == (1, message + "\n", "")
    assert len(json.loads(practice("history", "--format", "json").stdout)["entries"]) == 1


def test_a_time_bound_grant_ends_by_itself(practice, tmp_path):
    org = {**ORG, "clients": [{**CLIENTS[0], "access": [
        {"member": f"kim{D}", "until": "2026-11-27", "reason": "leave cover"}]}, CLIENTS[1]]}
    (tmp_path / "org.yaml").write_text(yaml.safe_dump(org))
    applied = practice("apply", "org.yaml", "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    assert (f"  + client C-1001: grant access to kim{D} until 2026-11-28T06:00:00Z (reason: "
            "leave cover) [widens access]\n") in applied.stdout
    # The end of the 27th in Chicago is 06:00 UTC on the 28th: preview it with --at.
    before = practice("plan", "org.yaml", "--detailed-exitcode", at="2026-11-28T05:59:59Z")
    assert before.returncode == 0, before.stdout
    after = practice("plan", "org.yaml", "--detailed-exitcode", "--format", "runbook",
                     at="2026-11-28T06:00:00Z")
    assert after.returncode == 2
    assert (f"1. Clients > C-1001 > Manage Access: untick kim{D}. Save. Do it now: this access "
            "ended at 2026-11-28T06:00:00Z.\n") in after.stdout
    assert ("org.yaml:" in after.stderr and "warning[expired-grant]: client C-1001's grant to "
            f"kim{D} ended at 2026-11-28T06:00:00Z: it is revoked by the next plan, and this "
            "entry can be removed") in after.stderr
    strict = practice("validate", "org.yaml", "--strict", at="2026-11-28T06:00:00Z")
    assert strict.returncode == 1 and "error[expired-grant]" in strict.stdout
    data = json.loads(practice("plan", "org.yaml", "--format", "json",
                               at="2026-11-28T06:00:00Z").stdout)
    assert data["changes"] == [{"action": "revoke_access", "target": "C-1001",
                                "member": f"kim{D}", "expired": "2026-11-28T06:00:00Z"}]
    # A preview of the future is not applicable now: the store checks the end has passed.
    practice("plan", "org.yaml", "--out", "friday.json", at="2026-11-28T06:00:00Z")
    early = practice("apply", "friday.json")
    assert early.returncode == 1 and "which has not passed" in early.stderr
    assert practice("apply", "friday.json", at="2026-11-28T06:00:00Z").returncode == 0
    exported = yaml.safe_load(practice("export").stdout)
    assert exported["clients"][0] == {"id": "C-1001", "practitioner": f"sam{D}"}


def test_the_break_glass_policy_is_the_live_practices_not_a_files(practice, tmp_path):
    """A member cannot bring their own policy: `--org` is not read, and what the store checks
    is the policy a plan applied. A shorter policy, once applied, binds at once."""
    (tmp_path / "evil.yaml").write_text(yaml.safe_dump(
        {**ORG, "policy": {"break_glass": {"who": ["practitioner"], "max": "168h"}}}))
    long = practice("break-glass", "--org", "evil.yaml", "--client", "C-1001", "--reason",
                    "curious", "--for", "100h", actor="kim")
    assert long.returncode == 1
    assert "error[break-glass-too-long]" in long.stderr and "up to 8h" in long.stderr
    (tmp_path / "org.yaml").write_text(yaml.safe_dump(
        {**ORG, "policy": {"break_glass": {"who": ["practitioner"], "max": "1h"}}}))
    planned = practice("plan", "org.yaml")
    assert ("~ practice: break-glass policy: practitioner for up to 8h -> practitioner for "
            "up to 1h") in planned.stdout
    assert practice("apply", "org.yaml", "--auto-approve").returncode == 0
    exported = yaml.safe_load(practice("export").stdout)
    assert exported["policy"]["break_glass"] == {"who": ["practitioner"], "max": "1h"}
    refused = practice("break-glass", "--client", "C-1001", "--reason", "crisis", "--for", "2h",
                       actor="kim")
    assert "error[break-glass-too-long]" in refused.stderr and "up to 1h" in refused.stderr
    assert practice("break-glass", "--client", "C-1001", "--reason", "crisis", "--for", "1h",
                    actor="kim").returncode == 0


def test_a_review_is_by_another_named_administrator(practice, tmp_path):
    """The administrator who broke glass cannot review it, named or unnamed (the operator)."""
    org = {**ORG, "members": [ADMIN, {**SAM, "admin": True}, KIM, NEW]}
    (tmp_path / "org.yaml").write_text(yaml.safe_dump(org))
    assert practice("apply", "org.yaml", "--auto-approve").returncode == 0
    assert practice("break-glass", "--client", "C-1002", "--reason", "crisis", "--for", "1h",
                    actor="sam").returncode == 0
    mine = practice("review", "3", "--note", "fine", actor="sam")
    assert (mine.returncode, mine.stderr) == (1, f"error[self-review]: sam{D} broke glass in "
                                                 "entry #3; another administrator reviews it\n")
    unnamed = practice("review", "3", "--note", "fine")
    assert unnamed.returncode == 1
    assert unnamed.stderr.startswith("error[review-needs-actor]: a review names its reviewer")
    assert "#3" in practice("history", "--break-glass").stdout
    assert practice("review", "3", "--note", "ok", actor="dana").returncode == 0
    helped = practice("break-glass", "--help").stdout
    assert "--org" in helped and "not read" in helped


def test_history_verify_finds_a_deleted_tail_whose_effects_cancel_out(practice, tmp_path):
    assert practice("break-glass", "--client", "C-1001", "--reason", "crisis", "--for", "1h",
                    actor="kim").returncode == 0
    assert practice("expire", at="2026-11-26T13:00:00Z").returncode == 0
    assert practice("history", "--verify").returncode == 0
    with sqlite3.connect(tmp_path / "practice.db") as conn:  # the break-glass and its expiry
        conn.execute("DELETE FROM audit WHERE seq > 1")
    found = practice("history", "--verify")
    assert found.returncode == 1
    assert found.stderr.startswith("error[log-truncated]: the audit log ends at entry #1, but "
                                   "the practice recorded its log's head as entry #3 (sha256:")


def test_a_planning_clock_in_the_future_buys_no_longer_emergency(practice):
    """SHSYNC_NOW fixes the planning clock only: an apply dated ahead of the store's clock is
    refused (tests/stores/test_expiry.py bounds the end by the store's clock within the skew)."""
    forged = practice("break-glass", "--client", "C-1001", "--reason", "curious", "--for", "8h",
                      actor="kim", at="9998-12-24T00:00:00Z")
    assert forged.returncode == 1, forged.stdout
    assert forged.stderr.startswith("error[clock-ahead]: nothing was applied: this apply's clock "
                                    "says 9998-12-24T00:00:00Z, the store's ")
    assert "SHSYNC_NOW and `plan --at` only preview" in forged.stderr
    assert len(json.loads(practice("history", "--format", "json").stdout)["entries"]) == 1


def test_commands_that_read_no_org_file_do_not_say_it_matches(practice, tmp_path):
    """`expire` reads no org file and `refresh` compares an observation with the store: neither
    says the practice matches the org file; each says what it compared."""
    backend = f"sqlite:///{tmp_path}/practice.db"
    for args in (["expire", "--dry-run"], ["expire"]):
        out = practice(*args, "--backend", backend)
        assert out.returncode == 0, out.stderr
        assert "No access has ended; nothing to expire.\n" in out.stdout
        assert "org file" not in out.stdout
    same = practice("refresh", "snapshot.yaml", "--backend", backend, "--auto-approve")
    assert same.returncode == 0, same.stderr
    assert ("No drift: the observation of Sessions Health matches shsync's store.\n"
            in same.stdout)
    assert "org file" not in same.stdout
    # A plan from the org file, which matches, still says so.
    plan = practice("plan", "org.yaml", "--backend", backend)
    assert "No changes. The live practice matches the org file.\n" in plan.stdout


def test_expire_and_refresh_in_json_name_the_audit_entry_that_recorded_them(practice, tmp_path):
    assert practice("break-glass", "--client", "C-1001", "--reason", "crisis", "--for", "1h",
                    actor="kim").returncode == 0
    done = practice("expire", "--format", "json", at="2026-11-26T13:00:00Z")
    data = json.loads(done.stdout)
    assert data["audit_entry"]["seq"] == 3 and data["audit_entry"]["kind"] == "expire"
    assert [c["action"] for c in data["changes"]] == ["revoke_access"]
    nothing = json.loads(practice("expire", "--format", "json", at="2026-11-26T13:00:00Z").stdout)
    assert nothing["audit_entry"] is None and nothing["changes"] == []
    observed = yaml.safe_load((tmp_path / "snapshot.yaml").read_text())
    observed["members"][1]["first_name"] = "Samuel"
    (tmp_path / "seen.yaml").write_text(yaml.safe_dump(observed))
    recorded = practice("refresh", "seen.yaml", "--format", "json", "--auto-approve",
                        actor="dana")
    assert recorded.returncode == 0, recorded.stderr
    body = json.loads(recorded.stdout)
    assert body["audit_entry"]["seq"] == 4 and body["audit_entry"]["kind"] == "refresh"


def test_expire_takes_access_back_even_when_its_report_cannot_be_written(practice, tmp_path):
    import os
    import subprocess
    import sys

    assert practice("break-glass", "--client", "C-1001", "--reason", "crisis", "--for", "1h",
                    actor="kim").returncode == 0
    env = {**{k: v for k, v in os.environ.items() if k != "SHSYNC_ACTOR"},
           "SHSYNC_BACKEND": f"sqlite:///{tmp_path}/practice.db",
           "SHSYNC_NOW": "2026-11-26T13:00:00Z"}
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "shsync", "expire", "--format", "runbook"],
                              cwd=tmp_path, env=env, stdout=full, stderr=subprocess.PIPE,
                              text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    assert "WAS" in done.stderr and "audit entry #3" in done.stderr
    kinds = [e["kind"] for e in json.loads(practice("history", "--format", "json").stdout)
             ["entries"]]
    assert kinds == ["seed", "break_glass", "expire"]

"""The invitation lifecycle and the log that explains the state, end to end through the CLI."""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

import yaml

D = "@new.example"
ORG: dict[str, Any] = {
    "version": 1, "practice": "New Practice",
    "members": [
        {"email": f"owner{D}", "first_name": "O", "last_name": "W", "admin": True,
         "roles": ["practitioner", "supervisor"]},
        {"email": f"pat{D}", "first_name": "P", "last_name": "T", "roles": ["practitioner"],
         "supervised_by": f"sup{D}", "cosign": ["progress_notes"]},
        {"email": f"sup{D}", "first_name": "S", "last_name": "U",
         "roles": ["practitioner", "supervisor"]},
        {"email": f"forms{D}", "first_name": "F", "last_name": "A", "roles": ["forms_admin"]},
    ],
    "clients": [{"id": "C-1", "practitioner": f"owner{D}", "access": [f"pat{D}"]}],
}


def write(tmp_path, data, name="org.yaml"):
    (tmp_path / name).write_text(yaml.safe_dump(data, sort_keys=False))
    return name


def test_a_new_org_into_an_empty_store_applies_with_its_grants_deferred(run, tmp_path):
    org = write(tmp_path, ORG)
    first = run("apply", org, "--auto-approve")
    assert first.returncode == 0, first.stdout + first.stderr
    plan = json.loads(run("plan", org, "--format", "json").stdout)
    waiting = {(d["action"], d["target"], d["waits_for"]) for d in plan["deferred"]}
    # In a brand-new store everyone is invited, so even the client waits for its practitioner.
    assert waiting == {("create_client", "C-1", f"owner{D}"),
                       ("set_supervisor", f"pat{D}", f"sup{D}"),
                       ("set_cosign", f"pat{D}", f"sup{D}")}
    assert run("plan", org, "--detailed-exitcode").returncode == 2
    # Everyone invited; the first apply was by the operator. Record the acceptances.
    recorded = run("accepted", f"pat{D}", f"sup{D}", f"owner{D}")
    assert recorded.returncode == 0, recorded.stderr
    assert recorded.stdout.startswith(f"Recorded that owner{D}, pat{D}, sup{D} accepted.")
    assert run("apply", org, "--auto-approve").returncode == 0
    final = run("plan", org, "--detailed-exitcode")
    assert final.returncode == 0, final.stdout
    assert "Plan for practice 'default' (New Practice)" in final.stdout
    kinds = [e["kind"] for e in json.loads(run("history", "--format", "json").stdout)["entries"]]
    assert kinds == ["apply", "accepted", "apply"]
    assert run("history", "--verify").returncode == 0


def test_accepted_refuses_unknown_and_active_members_and_changes_nothing(run, tmp_path):
    run("apply", write(tmp_path, ORG), "--auto-approve")
    run("accepted", f"owner{D}")
    result = run("accepted", f"ghost{D}", f"owner{D}")
    assert result.returncode == 1
    assert result.stderr == (f"error[not-invited]: ghost{D} is not a member of this practice; "
                             f"owner{D} is already an active member\n")
    assert len(json.loads(run("history", "--format", "json").stdout)["entries"]) == 2


def test_accepted_needs_an_administrator(run, tmp_path):
    run("apply", write(tmp_path, ORG), "--auto-approve")
    run("accepted", f"owner{D}", f"pat{D}")
    result = run("accepted", f"sup{D}", "--actor", f"pat{D}")
    assert result.returncode == 1 and "needs an administrator" in result.stderr


def test_a_practitioner_acts_on_their_own_clients(run, tmp_path):
    run("apply", write(tmp_path, ORG), "--auto-approve")
    run("accepted", f"owner{D}", f"pat{D}", f"sup{D}")
    run("apply", "org.yaml", "--auto-approve")
    mine = dict(ORG, clients=[{"id": "C-1", "practitioner": f"owner{D}",
                               "access": [f"pat{D}", f"sup{D}"]}])
    as_owner_practitioner = run("apply", write(tmp_path, mine, "mine.yaml"), "--auto-approve",
                                "--actor", f"owner{D}")
    assert as_owner_practitioner.returncode == 0, as_owner_practitioner.stderr
    not_mine = run("plan", "org.yaml", "--actor", f"pat{D}")
    assert not_mine.returncode == 1 and "may change access only on clients assigned to them" \
        in not_mine.stdout


def test_history_verify_finds_a_deleted_newest_entry_and_an_unexpected_head(run, tmp_path):
    run("apply", write(tmp_path, ORG), "--auto-approve")
    run("accepted", f"owner{D}")
    verified = run("history", "--verify")
    head = verified.stdout.splitlines()[-1].removeprefix("Head: ")
    assert head.startswith("sha256:")
    assert run("history", "--verify", "--expect-head", head).returncode == 0
    with sqlite3.connect(tmp_path / "practice.db") as conn:
        conn.execute("DELETE FROM audit WHERE seq = 2")
    tail = run("history", "--verify")
    assert tail.returncode == 1
    assert "does not explain the live practice" in tail.stderr
    moved = run("history", "--verify", "--expect-head", head)
    assert moved.returncode == 1 and "error[head-moved]" in moved.stderr


def test_refresh_records_what_was_observed_in_sessions_health(run, tmp_path):
    run("apply", write(tmp_path, ORG), "--auto-approve")
    observed: dict[str, Any] = {"version": 1, "practice": "New Practice", "members": [
        {**m, "status": "active" if m["email"] != f"forms{D}" else "invited"}
        for m in ORG["members"] if m["email"] != f"pat{D}"]}
    for m in observed["members"]:
        m.pop("cosign", None)
    observed["members"].append({"email": f"walkin{D}", "first_name": "W", "last_name": "I",
                                "roles": ["biller"], "status": "active"})
    observed["clients"] = [{"id": "C-1", "practitioner": f"owner{D}"}]
    write(tmp_path, observed, "observed.yaml")
    shown = run("refresh", "observed.yaml", "--format", "json", "--detailed-exitcode")
    assert shown.returncode == 2  # drift shown, nothing recorded without --auto-approve
    plan = json.loads(shown.stdout)
    actions = {(c["action"], c["target"]) for c in plan["changes"]}
    assert {("accept_invitation", f"owner{D}"), ("invite_member", f"walkin{D}")} <= actions
    # pat's invitation was recorded and is not in Sessions Health yet: that is a runbook step
    # not carried out, not drift, and recording it would undo the invitation in the store.
    assert ("remove_member", f"pat{D}") not in actions
    steps = {s["id"]: s for s in json.loads(run("runbook", "--format", "json").stdout)["steps"]}
    waiting = {steps[label]["member"] for label in plan["runbook_not_carried_out"]}
    assert f"pat{D}" in waiting and f"owner{D}" not in waiting
    recorded = run("refresh", "observed.yaml", "--auto-approve")
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    assert run("refresh", "observed.yaml", "--detailed-exitcode").returncode == 0
    kinds = [e["kind"] for e in json.loads(run("history", "--format", "json").stdout)["entries"]]
    # The refresh recorded the drift, then what it saw carried out (owner's invitation, ...).
    assert kinds == ["apply", "refresh", "observed"] and run("history", "--verify").returncode == 0


def test_access_shows_supervisors_and_practice_wide_capabilities(run, tmp_path):
    run("apply", write(tmp_path, ORG), "--auto-approve")
    forms = run("access", "--member", f"forms{D}")
    held, pending = forms.stdout.split("\n\nRecorded in shsync, NOT YET", 1)
    assert held == (f"What forms{D} can see, and why:\n\n  no client records\n\n"
                    "Practice-wide (not on any one client):\n"
                    "  custom forms  (forms_admin)")
    # forms was invited by that apply: until someone sends the invitation in Sessions Health
    # (runbook step R-n), the role is shsync's record only.
    assert re.fullmatch(r" in Sessions Health \(a runbook step is pending\):\n"
                        rf"  forms{re.escape(D)}  custom forms on the practice  \(forms_admin; "
                        r"R-\d+, due [0-9T:-]+Z\)\n\n`shsync runbook` lists the steps; "
                        r"`shsync done R-N` records each\.\n", pending), pending
    owner = json.loads(run("access", "--member", f"owner{D}", "--format", "json").stdout)["rows"]
    wide = {(r["capability"], r["reason"]) for r in owner if r["client"] is None}
    assert wide == {("custom_forms", "admin"), ("billing_settings", "admin"),
                    ("invoices", "admin")}


def test_export_writes_cosign_and_forms_admin_back(run, tmp_path):
    run("apply", write(tmp_path, ORG), "--auto-approve")
    run("accepted", f"owner{D}", f"pat{D}", f"sup{D}")
    run("apply", "org.yaml", "--auto-approve")
    exported = yaml.safe_load(run("export").stdout)
    members = {m["email"]: m for m in exported["members"]}
    assert members[f"pat{D}"]["cosign"] == ["progress_notes"]
    assert members[f"forms{D}"]["roles"] == ["forms_admin"]
    (tmp_path / "exported.yaml").write_text(run("export").stdout)
    assert run("plan", "exported.yaml", "--detailed-exitcode").returncode == 0


def test_accepted_in_json_is_the_plan_it_recorded_with_its_audit_entry(run, tmp_path):
    run("apply", write(tmp_path, ORG), "--auto-approve")
    result = run("accepted", f"owner{D}", f"pat{D}", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["kind"] == "shsync-plan" and data["plan_kind"] == "accepted"
    assert {c["target"] for c in data["changes"]} == {f"owner{D}", f"pat{D}"}
    entry = data["audit_entry"]
    assert (entry["seq"], entry["kind"]) == (2, "accepted")
    assert entry["hash"] == json.loads(run("history", "--format", "json").stdout)[
        "entries"][-1]["entry_hash"]
    refused = run("accepted", f"ghost{D}", "--format", "json")
    assert refused.returncode == 1
    body = json.loads(refused.stdout)
    assert body["ok"] is False and body["errors"][0]["code"] == "not-invited"

"""The invitation lifecycle and the log that explains the state, end to end through the CLI."""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

import pytest
import yaml

from tests.cli.conftest import ROOT
from tests.conftest import run_cli

SNAPSHOT_FILE = ROOT / "examples" / "practice-snapshot.yaml"

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


# --- export, then refresh: an export is an observation as it stands ---------------------------

P = "@rt.example"
SNAPSHOT: dict[str, Any] = {"version": 1, "practice": "Round Trip", "members": [
    {"email": f"olga{P}", "first_name": "Olga", "last_name": "O", "owner": True, "admin": True,
     "roles": ["practitioner", "supervisor"], "npi": "1245319599", "taxonomy": "101YM0800X"},
    {"email": f"pia{P}", "first_name": "Pia", "last_name": "P", "roles": ["practitioner"],
     "npi": "1234567893"},
    {"email": f"ken{P}", "first_name": "Ken", "last_name": "K", "roles": ["practitioner"]},
    {"email": f"rob{P}", "first_name": "Rob", "last_name": "R", "roles": ["scheduler"]},
    {"email": f"lee{P}", "first_name": "Lee", "last_name": "L", "roles": ["practitioner"]}],
    "clients": [{"id": "C-1", "practitioner": f"pia{P}"},
                {"id": "C-2", "practitioner": f"ken{P}"}]}
# Every key `shsync export` writes, each with a value (a timezone is read, not kept: see below).
EXPORTED: dict[str, Any] = {
    "version": 1, "practice": "Round Trip", "prune": True,
    "policy": {"break_glass": {"who": ["practitioner"], "max": "6h"},
               "approvals": {"widens_access": 1},
               "deadlines": {"narrows_access": "1h", "widens_access": "2d", "other": "7d"}},
    "members": [
        SNAPSHOT["members"][0],
        {**SNAPSHOT["members"][1], "supervised_by": f"olga{P}", "cosign": ["progress_notes"],
         "full_clinical_access": {"until": "2027-01-31", "reason": "audit cover"}},
        {**SNAPSHOT["members"][2], "billing_access": False, "full_clinical_access": True},
        *SNAPSHOT["members"][3:]],
    "clients": [{"id": "C-1", "practitioner": f"pia{P}", "supervisor": f"olga{P}",
                 "access": [{"member": f"ken{P}", "until": "2027-01-31", "reason": "cover"}]},
                {"id": "C-2", "practitioner": f"ken{P}", "access": [f"olga{P}"]}]}


def _keys(value: Any, at: str = "") -> set[str]:
    """Every key path of a document (`members.full_clinical_access.until`), lists looked into."""
    if isinstance(value, dict):
        return {k for key, item in value.items()
                for k in {f"{at}{key}"} | _keys(item, f"{at}{key}.")}
    if isinstance(value, list):
        return {k for item in value for k in _keys(item, at)}
    return set()


@pytest.fixture
def exported_practice(tmp_path):
    """A store whose practice, exported, holds every key export writes: seeded, then applied."""
    backend = ["--backend", f"sqlite:///{tmp_path}/practice.db"]
    (tmp_path / "snapshot.yaml").write_text(yaml.safe_dump(SNAPSHOT, sort_keys=False))
    (tmp_path / "org.yaml").write_text(yaml.safe_dump(
        {**EXPORTED, "timezone": "America/Chicago"}, sort_keys=False))

    def shsync(*args: object, **kw: Any) -> Any:
        return run_cli(*args, *backend, **kw)

    assert shsync("seed", tmp_path / "snapshot.yaml").exit_code == 0
    applied = shsync("apply", tmp_path / "org.yaml", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    return shsync


def test_a_refresh_of_an_unchanged_export_records_no_change(exported_practice, tmp_path):
    shsync = exported_practice
    out = tmp_path / "observed.yaml"
    assert shsync("export", "-o", out).exit_code == 0
    written = yaml.safe_load(out.read_text())
    assert _keys(written) == _keys(EXPORTED)  # a key export adds must be read by refresh too
    entries = len(json.loads(shsync("history", "--format", "json").stdout)["entries"])
    refreshed = shsync("refresh", out, "--detailed-exitcode")
    assert refreshed.exit_code == 0, refreshed.output
    assert "No drift" in refreshed.stdout
    assert refreshed.stderr.endswith("The store matches the observation.\n")
    # The desired-state keys are ignored, one warning each, where the file has them.
    ignored = [line for line in refreshed.stderr.splitlines() if "warning[ignored-key]" in line]
    lines = out.read_text().splitlines()
    found = [re.match(r"observed\.yaml:(\d+):1: warning\[ignored-key\]: ignored '(\w+)'",
                      line.replace(str(tmp_path) + "/", "")) for line in ignored]
    assert [f.groups() if f else None for f in found] == [
        (str(lines.index("prune: true") + 1), "prune"), (str(lines.index("policy:") + 1), "policy")]
    assert len(json.loads(shsync("history", "--format", "json").stdout)["entries"]) == entries
    # A copy of the store is no evidence that the apply's runbook steps were carried out.
    assert "pending step(s) stay pending (R-1," in refreshed.stderr
    assert "Observed carried out" not in refreshed.stderr
    pending = json.loads(shsync("runbook", "--format", "json").stdout)["steps"]
    assert pending and all(s["state"] == "pending" for s in pending), pending


def test_a_refresh_of_a_split_export_records_no_change(exported_practice, tmp_path):
    shsync = exported_practice
    assert shsync("export", "-o", tmp_path / "org-dir", "--split-by", "role").exit_code == 0
    refreshed = shsync("refresh", tmp_path / "org-dir", "--detailed-exitcode")
    assert refreshed.exit_code == 0, refreshed.output
    assert refreshed.stderr.count("warning[ignored-key]") == 2


def test_a_refresh_of_an_export_keeps_active_break_glass_access(exported_practice, tmp_path):
    shsync = exported_practice
    glass = shsync("break-glass", "--client", "C-2", "--reason", "crisis", "--for", "2h",
                   env={"SHSYNC_ACTOR": f"lee{P}"})
    assert glass.exit_code == 0, glass.output
    # Every step carried out (the emergency grant's too), so none holds the refresh back.
    steps = json.loads(shsync("runbook", "--format", "json").stdout)["steps"]
    assert shsync("done", *(s["id"] for s in steps)).exit_code == 0
    out = tmp_path / "observed.yaml"
    assert shsync("export", "-o", out).exit_code == 0
    assert f"lee{P}" not in yaml.safe_dump(yaml.safe_load(out.read_text())["clients"])
    refreshed = shsync("refresh", out, "--auto-approve", "--detailed-exitcode")
    assert refreshed.exit_code == 0, refreshed.output
    rows = json.loads(shsync("access", "--client", "C-2", "--format", "json").stdout)["rows"]
    assert any(r["member"] == f"lee{P}" and r["reason"] == "break_glass" for r in rows), rows
    assert "No drift" in refreshed.stdout
    # A member observed gone loses it with the rest of their access.
    data = yaml.safe_load(out.read_text())
    data["members"] = [m for m in data["members"] if m["email"] != f"lee{P}"]
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    gone = shsync("refresh", out, "--format", "json", "--detailed-exitcode")
    actions = {(c["action"], c["target"]) for c in json.loads(gone.stdout)["changes"]}
    assert actions == {("revoke_access", "C-2"), ("remove_member", f"lee{P}")}, actions


def test_a_refresh_of_an_export_keeps_an_invited_member_invited(tmp_path):
    # An org file gives no status: a member the store holds as invited stays invited, and the
    # refresh records no acceptance nobody saw.
    backend = ["--backend", f"sqlite:///{tmp_path}/practice.db"]
    assert run_cli("seed", SNAPSHOT_FILE, *backend).exit_code == 0
    invited = [m["email"] for m in yaml.safe_load(SNAPSHOT_FILE.read_text())["members"]
               if m.get("status") == "invited"]
    assert invited
    out = tmp_path / "observed.yaml"
    assert run_cli("export", "-o", out, *backend).exit_code == 0
    refreshed = run_cli("refresh", out, "--detailed-exitcode", *backend)
    assert refreshed.exit_code == 0, refreshed.output
    assert refreshed.stderr.endswith("The store matches the observation.\n")
    after = yaml.safe_load(run_cli("export", *backend).stdout)
    assert after == yaml.safe_load(out.read_text())
    entries = json.loads(run_cli("history", "--format", "json", *backend).stdout)["entries"]
    assert [e["kind"] for e in entries] == ["seed"]


def test_a_refresh_asks_before_it_records_steps_as_carried_out(run, tmp_path):
    """No drift, but the observation shows invitations sent: recording that is a change, asked
    for as drift is (--auto-approve, or a prompt on a terminal); nothing is recorded before."""
    run("apply", write(tmp_path, ORG), "--auto-approve")
    held = yaml.safe_load(run("export").stdout)
    statuses = {m["email"]: m for m in held["members"]}
    observed = {"version": 1, "practice": held.get("practice"), "members": [
        {**m, "status": "invited" if not m.get("owner") else "active"}
        for m in statuses.values()], "clients": held.get("clients", [])}
    write(tmp_path, observed, "observed.yaml")
    asked = run("refresh", "observed.yaml")
    assert asked.returncode == 1, asked.stdout + asked.stderr
    assert "error[not-confirmed]" in asked.stderr and "seen carried out" in asked.stderr
    assert run("refresh", "observed.yaml", "--detailed-exitcode").returncode == 2
    kinds = [e["kind"] for e in json.loads(run("history", "--format", "json").stdout)["entries"]]
    assert kinds == ["apply"]
    recorded = run("refresh", "observed.yaml", "--auto-approve")
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    kinds = [e["kind"] for e in json.loads(run("history", "--format", "json").stdout)["entries"]]
    assert kinds == ["apply", "observed"]

"""The two-person rule as a user runs it: plan --save, approve, plans, apply PLAN_ID (in process)."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
import yaml

from shsync.core.plan import canonical
from tests.cli.conftest import ROOT
from tests.conftest import NOW, run_cli

ORG = ROOT / "examples" / "org.yaml"
SNAPSHOT = str(ROOT / "examples" / "practice-snapshot.yaml")
DANA, ELLEN, SAM = ("dana.ortiz@riverbend.example", "ellen.wu@riverbend.example",
                    "sam.lee@riverbend.example")
VICTOR = "victor.okafor@riverbend.example"


class Practice:
    def __init__(self, root):
        self.root = root
        self.org = root / "org.yaml"
        data = yaml.safe_load(ORG.read_text())
        data["policy"] = {"approvals": {"widens_access": 1, "removes_members": 1}}
        self.org.write_text(yaml.safe_dump(data, sort_keys=False))

    def __call__(self, *args: str, actor: str | None = None, now: str = NOW):
        return run_cli(*args, env={"SHSYNC_BACKEND": f"sqlite:///{self.root}/practice.db",
                                   "SHSYNC_NOW": now, "SHSYNC_ACTOR": actor})


@pytest.fixture
def shsync(tmp_path):
    """A practice that has taken on the rule (bringing a rule in needs no approval), and where
    the one step left (victor supervising nina) widens access, so it needs one approval."""
    run = Practice(tmp_path)
    assert run("seed", SNAPSHOT).exit_code == 0
    applied = run("apply", run.org, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert run("accepted", VICTOR).exit_code == 0
    return run


def stored_id(result) -> str:
    found = re.search(r"Stored as plan (p-[0-9a-f]{12})", result.output)
    assert found, result.output
    return found.group(1)


def test_the_two_person_workflow(shsync):
    refused = shsync("apply", shsync.org, "--auto-approve")
    assert refused.exit_code == 1
    assert "error[approvals-required]: nothing was applied: this plan needs 1 approval(s)" in \
        refused.stderr
    assert "set_supervisor nina.patel@riverbend.example" in refused.stderr
    assert "`shsync plan ORG --save`" in refused.stderr and "Traceback" not in refused.output

    saved = shsync("plan", shsync.org, "--save", actor=DANA)
    assert saved.exit_code == 0 and "[approvals-required]" in saved.stdout
    plan_id = stored_id(saved)
    assert f"it needs 1 approval(s) from administrators other than its author (`shsync " \
           f"approve {plan_id}`), then `shsync apply {plan_id}`" in saved.stdout

    assert shsync("approve", plan_id, actor=DANA).stderr == (
        f"error[self-approval]: not approved: {DANA} made plan {plan_id}; a plan is approved "
        "by administrators other than its author\n")
    assert "error[forbidden]" in shsync("approve", plan_id, actor=SAM).stderr
    assert "error[forbidden]" in shsync("approve", plan_id).stderr  # the operator
    assert "awaiting approval" in shsync("plans").stdout
    before = shsync("apply", plan_id, actor=DANA)
    assert before.exit_code == 1 and "approvals-required" in before.stderr

    approved = shsync("approve", plan_id, actor=ELLEN)
    assert approved.exit_code == 0
    assert approved.stdout == (
        f"Approved plan {plan_id} as {ELLEN}: 1 of 1 approval(s) needed (by {ELLEN}); ready: "
        f"{DANA} applies it with `shsync apply {plan_id}`.\n")
    assert shsync("approve", plan_id, actor=ELLEN).exit_code == 1  # already approved

    applied = shsync("apply", plan_id, actor=DANA)
    assert applied.exit_code == 0 and applied.stdout.startswith("Applied."), applied.output
    again = shsync("apply", plan_id, actor=DANA)
    assert again.exit_code == 1 and "error[already-applied]" in again.stderr
    assert f"approved by {ELLEN}" in shsync("history").stdout.splitlines()[-1]
    assert "applied as audit entry #4" in shsync("plans").stdout
    assert shsync("history", "--verify").exit_code == 0


def test_json_forms(shsync):
    saved = json.loads(shsync("plan", shsync.org, "--save", "--format", "json",
                              actor=DANA).stdout)
    plan_id = saved["plan_id"]
    assert re.fullmatch(r"p-[0-9a-f]{12}", plan_id) and saved["approvals_required"] == 1
    approved = json.loads(shsync("approve", plan_id, "--format", "json", actor=ELLEN).stdout)
    assert approved["ok"] and approved["approvals"] == [{"by": ELLEN, "at": NOW}]
    assert (approved["required"], approved["status"], approved["author"]) == (1, "ready", DANA)
    (listed,) = json.loads(shsync("plans", "--format", "json").stdout)["plans"]
    assert listed["plan_id"] == plan_id and listed["plan_hash"].startswith("sha256:")
    applied = json.loads(shsync("apply", plan_id, "--format", "json", actor=DANA).stdout)
    assert applied["ok"] and applied["audit_entry"]["seq"] == 4
    entries = json.loads(shsync("history", "--format", "json").stdout)["entries"]
    assert entries[-1]["details"] == {"author": DANA, "approvals": [{"by": ELLEN, "at": NOW}],
                                      "runbook": {"first": 18, "count": 1}}
    failed = json.loads(shsync("approve", plan_id, "--format", "json", actor=ELLEN).stdout)
    assert not failed["ok"] and failed["errors"][0]["code"] == "already-applied"


def test_a_saved_plan_file_applies_once_its_stored_twin_is_approved(shsync):
    saved = shsync("plan", shsync.org, "-o", shsync.root / "plan.json", "--save", actor=DANA)
    plan_id = stored_id(saved)
    path = shsync.root / "plan.json"
    refused = shsync("apply", path, actor=DANA)
    assert refused.exit_code == 1 and f"`shsync approve {plan_id}`" in refused.stderr
    assert shsync("approve", plan_id, actor=ELLEN).exit_code == 0
    assert shsync("apply", path, actor=DANA).exit_code == 0
    assert "applied" in shsync("plans").stdout


def _rehash(data: dict) -> str:
    data.pop("plan_hash", None)
    data["plan_hash"] = "sha256:" + hashlib.sha256(canonical(data).encode()).hexdigest()
    return json.dumps(data)


def test_apply_of_the_org_file_later_applies_the_approved_stored_plan(shsync):
    # CI saves the plan on the pull request; on merge, minutes later, it applies the org file:
    # the plan made then differs only in when it was made, so it is the approved one.
    plan_id = stored_id(shsync("plan", shsync.org, "--save", actor=DANA))
    later = "2026-11-26T12:09:00Z"
    refused = shsync("apply", shsync.org, "--auto-approve", actor=DANA, now=later)
    assert refused.exit_code == 1 and "approvals-required" in refused.stderr
    assert shsync("plans").stdout.count("p-") == 1  # no second plan kept for the same change
    assert shsync("approve", plan_id, actor=ELLEN).exit_code == 0
    applied = shsync("apply", shsync.org, "--auto-approve", actor=DANA, now=later)
    assert applied.exit_code == 0, applied.output
    listed = shsync("plans", "--format", "json", now=later)
    assert [(p["plan_id"], p["status"]) for p in json.loads(listed.stdout)["plans"]] == [
        (plan_id, "applied")], listed.stdout
    history = json.loads(shsync("history", "--format", "json").stdout)["entries"]
    assert history[-1]["details"]["approvals"][0]["by"] == ELLEN


def test_an_approved_plan_applies_once_even_when_the_practice_comes_back(shsync):
    # Approvals are for one apply: undoing the change must not let the same plan apply again.
    plan_file = shsync.root / "widen.json"
    plan_id = stored_id(shsync("plan", shsync.org, "-o", plan_file, "--save", actor=DANA))
    assert shsync("approve", plan_id, actor=ELLEN).exit_code == 0
    assert shsync("apply", plan_file, actor=DANA).exit_code == 0
    data = yaml.safe_load(shsync.org.read_text())
    for member in data["members"]:
        if member["email"] == "nina.patel@riverbend.example":
            del member["supervised_by"]
    undo = shsync.root / "undo" / "org.yaml"
    undo.parent.mkdir()
    undo.write_text(yaml.safe_dump(data, sort_keys=False))
    undone = shsync("apply", undo, "--auto-approve", actor=DANA, now="2026-11-26T13:00:00Z")
    assert undone.exit_code == 0, undone.output  # narrowing needs no approval
    again = shsync("apply", plan_file, actor=DANA, now="2026-11-26T14:00:00Z")
    assert again.exit_code == 1 and "error[already-applied]" in again.stderr, again.output
    assert [e["kind"] for e in json.loads(shsync("history", "--format", "json").stdout)[
        "entries"]].count("apply") == 3  # the rule, the approved plan, the undo: no fourth


@pytest.mark.parametrize("lower_the_rule", [False, True])
def test_a_forged_plan_file_that_drops_the_rule_is_refused(shsync, lower_the_rule):
    assert shsync("plan", shsync.org, "-o", shsync.root / "plan.json", actor=DANA).exit_code == 0
    path = shsync.root / "plan.json"
    data = json.loads(path.read_text())
    data["warnings"] = [w for w in data["warnings"] if w["code"] != "approvals-required"]
    if lower_the_rule:  # and lower the bar in the same plan
        data["changes"].insert(0, {"action": "set_policy", "target": "practice",
                                   "approvals": {}, "previous": {"removes_members": 1,
                                                                 "widens_access": 1}})
    path.write_text(_rehash(data))
    before = shsync("export").stdout
    refused = shsync("apply", path, actor=DANA)
    assert refused.exit_code == 1 and "error[approvals-required]" in refused.stderr, \
        refused.output
    assert shsync("export").stdout == before


def test_a_plan_id_that_is_not_stored(shsync):
    missing = shsync("apply", "p-0123456789ab", actor=DANA)
    assert missing.exit_code == 1 and missing.stderr.startswith("error[no-such-plan]")
    assert shsync("approve", "not-an-id", actor=ELLEN).stderr.startswith("error[no-such-plan]")


def test_without_stored_plans(tmp_path):
    run = Practice(tmp_path)
    assert run("seed", SNAPSHOT).exit_code == 0
    assert run("plans").stdout == "No stored plans. Store one with `shsync plan ORG --save`.\n"


def test_a_refresh_that_widens_access_is_stored_approved_and_applied_by_id(shsync):
    observed = yaml.safe_load(shsync("export").stdout)
    for key in ("prune", "policy"):
        observed.pop(key)
    observed["members"].append({"email": "zoe@riverbend.example", "first_name": "Zoe",
                                "last_name": "Quinn", "roles": ["biller"], "admin": True})
    path = shsync.root / "observed.yaml"
    path.write_text(yaml.safe_dump(observed))
    refused = shsync("refresh", path, "--auto-approve", actor=DANA)
    assert refused.exit_code == 1 and "error[approvals-required]" in refused.stderr, \
        refused.output
    saved = shsync("refresh", path, "--save", actor=DANA)
    assert saved.exit_code == 0, saved.output
    plan_id = stored_id(saved)
    assert shsync("approve", plan_id, actor=ELLEN).exit_code == 0
    assert shsync("apply", plan_id, actor=DANA).exit_code == 0
    assert "#4 refresh" in shsync("history").stdout.splitlines()[-1]


def test_plans_shows_a_plan_the_practice_moved_on_from_as_stale(shsync):
    plan_id = stored_id(shsync("plan", shsync.org, "--save", actor=DANA))
    assert shsync("approve", plan_id, actor=ELLEN).exit_code == 0
    assert f"{plan_id}  ready" in shsync("plans").stdout
    moved = shsync("accepted", "nina.patel@riverbend.example")  # the practice moves on
    assert moved.exit_code == 0, moved.output
    listed = shsync("plans").stdout
    assert f"{plan_id}  stale" in listed and "the store will refuse it" in listed
    refused = shsync("apply", plan_id, actor=DANA)
    assert refused.exit_code == 1 and "error[stale-plan]" in refused.stderr
    assert "refused as stale at 2" in shsync("plans").stdout
    (row,) = json.loads(shsync("plans", "--format", "json").stdout)["plans"]
    assert row["status"] == "stale" and row["refused_at"]

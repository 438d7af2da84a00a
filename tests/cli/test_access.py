"""`shsync access`, access changes in plans, and --actor, as a user runs them."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest

from shsync.core.plan import canonical
from tests.cli.conftest import ROOT

ORG = str(ROOT / "examples" / "org.yaml")
SNAPSHOT = str(ROOT / "examples" / "practice-snapshot.yaml")
SAM = "sam.lee@riverbend.example"


@pytest.fixture
def seeded(run):
    assert run("seed", SNAPSHOT).returncode == 0
    return run


def test_access_for_a_client_as_a_table(seeded):
    result = seeded("access", "--client", "C-1005")
    assert result.returncode == 0
    assert f"{SAM}      record, notes, diagnoses, treatment plans, billing  (granted)" in \
        result.stdout


def test_access_for_a_member_as_a_table(seeded):
    out = seeded("access", "--member", "ben.carter@riverbend.example").stdout
    assert "diagnoses, billing on all 8 clients  (biller)" in out


def test_json_and_csv_share_one_flat_shape(seeded):
    rows = json.loads(seeded("access", "--client", "C-1001", "--format", "json").stdout)["rows"]
    table = list(csv.DictReader(io.StringIO(
        seeded("access", "--client", "C-1001", "--format", "csv").stdout)))
    # CSV has no null: access without an end is an empty `until` there, null in JSON; its
    # booleans are true/false.
    def cell(v):
        return "" if v is None else str(v).lower() if isinstance(v, bool) else v
    assert [{k: cell(v) for k, v in r.items()} for r in rows] == table
    # Beside what shsync holds, what Sessions Health has (issue #25): a seeded practice has no
    # runbook steps, so every row is in both.
    assert set(rows[0]) == {"member", "client", "capability", "reason", "until", "in_shsync",
                            "in_sessions_health", "pending", "due", "overdue"}
    assert {"member": SAM, "client": "C-1001", "capability": "notes", "reason": "assigned",
            "until": None, "in_shsync": True, "in_sessions_health": True, "pending": None,
            "due": None, "overdue": False} in rows


def test_access_from_an_org_file(run):
    result = run("access", "--member", "tom.fischer@riverbend.example", "--file", ORG)
    assert result.returncode == 0
    assert "record, notes, diagnoses, treatment plans on all 7 clients  (full_clinical_access)" \
        in result.stdout


def test_access_names_an_unknown_client_clearly(seeded):
    result = seeded("access", "--client", "C-9999")
    assert result.returncode == 1 and "there is no client C-9999" in result.stderr


def test_access_needs_exactly_one_subject(seeded):
    # A mistake in the command line itself: exit 64, as for any usage error.
    for args in ([], ["--client", "C-1001", "--member", "x@riverbend.example"]):
        refused = seeded("access", *args)
        assert refused.returncode == 64, refused.stderr
        assert "give exactly one of --client ID or --member EMAIL" in refused.stderr


def test_plans_carry_access_changes_and_escalations(seeded):
    data = json.loads(seeded("plan", ORG, "--format", "json").stdout)
    assert {"member": "jo.former@riverbend.example", "change": "lose",
            "capabilities": ["everything"], "reason": "removed",
            "clients": ["C-1001", "C-1002", "C-1004", "C-1005", "C-1006"], "client_count": 5,
            "all_clients": False} in data["access_changes"]
    grants = [c for c in data["changes"] if c["action"] == "grant_access"]
    assert grants and all(c["escalation"] for c in grants)
    markdown = seeded("plan", ORG, "--format", "markdown").stdout
    assert "**Access changes**" in markdown and "**widens access**" in markdown


def test_a_non_admin_actor_is_refused_every_forbidden_change(seeded):
    result = seeded("plan", ORG, "--actor", SAM)
    assert result.returncode == 1
    assert result.stdout.count("[forbidden]") > 5


def test_an_actor_from_the_environment(seeded):
    result = seeded("plan", ORG, env={"SHSYNC_ACTOR": SAM})
    assert result.returncode == 1 and "[forbidden]" in result.stdout


def test_a_non_admin_cannot_escalate_through_a_hand_edited_plan(seeded, tmp_path):
    # Sam may manage access on his own client C-1002: that plan is allowed ...
    org = (ROOT / "examples" / "org.yaml").read_text()
    exported = seeded("export").stdout
    (tmp_path / "live.yaml").write_text(exported.replace(
        "- id: C-1002\n  practitioner: sam.lee@riverbend.example\n",
        "- id: C-1002\n  practitioner: sam.lee@riverbend.example\n  access:\n"
        "  - grace.kim@riverbend.example\n"))
    assert org  # the example stays untouched
    planned = seeded("plan", "live.yaml", "--actor", SAM, "--out", "plan.json")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    # ... then he edits it to make himself an administrator, and fixes up the hash.
    data = json.loads((tmp_path / "plan.json").read_text())
    del data["plan_hash"]
    data["changes"].append({"action": "set_admin", "target": SAM, "admin": True,
                            "escalation": True})
    data["plan_hash"] = "sha256:" + hashlib.sha256(canonical(data).encode()).hexdigest()
    (tmp_path / "plan.json").write_text(json.dumps(data))
    result = seeded("apply", "plan.json", "--actor", SAM)
    assert result.returncode == 1
    assert "needs an administrator" in result.stderr and "nothing was applied" in result.stderr
    assert [e["kind"] for e in json.loads(seeded("history", "--format", "json").stdout)["entries"]] == [
        "seed"]


def test_a_plan_made_for_one_actor_is_refused_for_another(seeded):
    seeded("plan", ORG, "--out", "plan.json")
    result = seeded("apply", "plan.json", "--actor", "dana.ortiz@riverbend.example")
    assert result.returncode == 1 and "made for the operator" in result.stderr


def test_the_audit_log_records_the_actor(seeded):
    dana = "dana.ortiz@riverbend.example"
    assert seeded("apply", ORG, "--auto-approve", "--actor", dana).returncode == 0
    seed, entry = json.loads(seeded("history", "--format", "json").stdout)["entries"]
    assert (seed["kind"], entry["kind"], entry["actor"]) == ("seed", "apply", dana)

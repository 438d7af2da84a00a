"""plan, apply, seed, export and history, as a user runs them (subprocess, real SQLite file)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from tests.cli.conftest import ROOT
from tests.conftest import run_cli

ORG = str(ROOT / "examples" / "org.yaml")
SNAPSHOT = str(ROOT / "examples" / "practice-snapshot.yaml")
GOLDEN = Path(__file__).parent / "golden"
VICTOR = "victor.okafor@riverbend.example"  # invited in the snapshot, becomes a supervisor
VICTORS_SUPERVISEE = "nina.patel@riverbend.example"


@pytest.fixture
def seeded(run):
    result = run("seed", SNAPSHOT)
    assert result.returncode == 0, result.stderr
    return run


@pytest.mark.parametrize("fmt", ["text", "markdown", "runbook"])
def test_renderers_match_their_golden_files(seeded, fmt):
    result = seeded("plan", ORG, "--format", fmt)
    assert result.returncode == 0, result.stderr
    golden = GOLDEN / f"plan.{fmt}"
    if os.environ.get("SHSYNC_UPDATE_GOLDEN"):
        golden.write_text(result.stdout)
    assert result.stdout == golden.read_text()


def test_json_plan_is_documented_and_versioned(seeded):
    data = json.loads(seeded("plan", ORG, "--format", "json").stdout)
    assert data["format_version"] == 2 and data["fingerprint"].startswith("sha256:")
    assert data["practice_name"] == "Riverbend Counseling" and data["plan_kind"] == "apply"
    assert data["deferred"] == [{"action": "set_supervisor", "target": VICTORS_SUPERVISEE,
                                 "supervisor": VICTOR, "previous": None, "escalation": True,
                                 "waits_for": VICTOR}]
    assert data["summary"] == {"invite": 3, "change": 6, "remove": 1, "clients": 5,
                               "seats_before": 10, "seats_after": 11}
    assert {c["action"] for c in data["changes"]} >= {"invite_member", "remove_member",
                                                       "set_supervisor", "handoff_notes"}


def test_saved_plan_applies_and_a_second_plan_is_empty(seeded):
    assert seeded("plan", ORG, "--out", "plan.json").returncode == 0
    applied = seeded("apply", "plan.json")
    assert applied.returncode == 0, applied.stderr
    assert "Applied." in applied.stdout and "wait for invitations to be accepted" in applied.stdout
    waiting = seeded("plan", ORG, "--detailed-exitcode")
    assert waiting.returncode == 2 and "No changes to apply now." in waiting.stdout
    assert f"(after {VICTOR} accepts)" in waiting.stdout
    assert seeded("accepted", VICTOR).returncode == 0
    assert seeded("apply", ORG, "--auto-approve").returncode == 0
    again = seeded("plan", ORG, "--detailed-exitcode")
    assert again.returncode == 0 and "No changes." in again.stdout


def test_detailed_exitcode_reports_drift_with_2(seeded):
    assert seeded("plan", ORG, "--detailed-exitcode").returncode == 2
    assert seeded("plan", ORG).returncode == 0


def test_a_stale_saved_plan_is_refused_and_changes_nothing(seeded, tmp_path):
    assert seeded("plan", ORG, "--out", "plan.json").returncode == 0
    assert seeded("accepted", VICTOR).returncode == 0  # the practice changes after the plan
    before = seeded("export").stdout
    stale = seeded("apply", "plan.json")
    assert stale.returncode == 1
    assert "has changed since this plan was made" in stale.stderr
    assert seeded("export").stdout == before
    assert [e["kind"] for e in json.loads(seeded("history", "--format", "json").stdout)["entries"]] == [
        "seed", "accepted"]


def test_reapplying_an_applied_plan_says_which_entry_applied_it(seeded):
    assert seeded("plan", ORG, "--out", "plan.json").returncode == 0
    assert seeded("apply", "plan.json").returncode == 0
    again = seeded("apply", "plan.json")
    assert again.returncode == 1
    assert again.stderr == ("plan.json: error[already-applied]: this plan was already applied, as audit "
                            "entry #2; nothing was applied again\n")


def test_an_edited_saved_plan_is_refused(seeded, tmp_path):
    seeded("plan", ORG, "--out", "plan.json")
    data = json.loads((tmp_path / "plan.json").read_text())
    data["changes"][0]["admin"] = True
    (tmp_path / "plan.json").write_text(json.dumps(data))
    result = seeded("apply", "plan.json")
    assert result.returncode == 1 and "hash does not match" in result.stderr


def test_the_mass_removal_guard(seeded, tmp_path):
    org = yaml.safe_load(Path(ORG).read_text())
    org["members"] = [m for m in org["members"]
                      if m["email"].split("@")[0] in ("dana.ortiz", "sam.lee", "priya.shah",
                                                      "lena.novak", "tom.fischer")]
    org["clients"] = [c for c in org["clients"] if c["id"] in ("C-1001", "C-1002")]
    (tmp_path / "small.yaml").write_text(yaml.safe_dump(org))
    refused = seeded("plan", "small.yaml")
    assert refused.returncode == 1 and "[mass-removal]" in refused.stdout
    allowed = seeded("plan", "small.yaml", "--allow-mass-removal")
    assert "[mass-removal]" not in allowed.stdout


def test_a_plan_with_errors_is_not_saved(seeded, tmp_path):
    org = yaml.safe_load(Path(ORG).read_text())
    org["handoffs"] = []
    (tmp_path / "org.yaml").write_text(yaml.safe_dump(org))
    result = seeded("plan", "org.yaml", "--out", "plan.json")
    assert result.returncode == 1
    assert "[notes-need-handoff]" in result.stdout and "[clients-need-handoff]" in result.stdout
    assert not (tmp_path / "plan.json").exists()


def test_apply_of_an_org_file_needs_approval_off_a_terminal(seeded):
    result = seeded("apply", ORG)
    assert result.returncode == 1 and "--auto-approve" in result.stderr
    assert seeded("plan", ORG, "--detailed-exitcode").returncode == 2  # nothing applied


def test_apply_of_an_org_file_with_auto_approve(seeded):
    assert seeded("apply", ORG, "--auto-approve").returncode == 0
    assert seeded("plan", ORG, "--detailed-exitcode").returncode == 2  # deferred steps wait
    seeded("accepted", VICTOR)
    assert seeded("apply", ORG, "--auto-approve").returncode == 0
    assert seeded("plan", ORG, "--detailed-exitcode").returncode == 0


def test_export_validates_and_plans_to_no_changes(seeded, tmp_path):
    assert seeded("export", "-o", "exported.yaml").returncode == 0
    assert seeded("validate", "exported.yaml").returncode == 0
    result = seeded("plan", "exported.yaml", "--detailed-exitcode")
    assert result.returncode == 0, result.stdout


def test_seed_refuses_a_backend_that_holds_a_practice(seeded):
    result = seeded("seed", SNAPSHOT)
    assert result.returncode == 1 and "already holds" in result.stderr


def test_history_lists_seeding_then_applies(seeded):
    (seed,) = seeded("history").stdout.splitlines()
    assert seed.startswith("#1 seed 2026-11-26T12:00:00Z (written ")
    assert seed.endswith(": seeded the practice")
    seeded("apply", ORG, "--auto-approve")
    _, line = seeded("history").stdout.splitlines()
    assert line.startswith("#2 apply 2026-11-26T12:00:00Z (written ")
    assert "by operator:" in line and "3 invited, 6 changed, 1 removed" in line


def test_an_invalid_org_file_is_reported_before_the_backend_is_touched(seeded, tmp_path):
    (tmp_path / "bad.yaml").write_text("version: 1\nmembers: {}\n")
    result = seeded("plan", "bad.yaml")
    assert result.returncode == 1 and "error[wrong-type]" in result.stdout
    assert "Traceback" not in result.stderr


def test_an_unknown_backend_url_is_a_clear_error(run):
    result = run("plan", ORG, "--backend", "mysql://u:secret@h/db")
    assert result.returncode == 1 and "unknown backend URL" in result.stderr
    assert "secret" not in result.stderr


def test_every_command_has_help(run):
    for command in ("validate", "schema", "plan", "apply", "seed", "export", "history"):
        result = run(command, "--help")
        assert result.returncode == 0 and len(result.stdout) > 100, command


def test_history_verify_finds_a_tampered_entry(seeded, tmp_path):
    import sqlite3

    seeded("apply", ORG, "--auto-approve")
    assert seeded("history", "--verify").returncode == 0
    with sqlite3.connect(tmp_path / "practice.db") as conn:
        conn.execute("UPDATE audit SET actor = 'nobody' WHERE seq = 1")
    result = seeded("history", "--verify")
    assert result.returncode == 1
    assert "entry #1 was changed after it was written" in result.stderr


@pytest.mark.parametrize("args, prompt", [
    (["apply", ORG, "--format", "json"], "Apply these changes? [y/N]: "),
    (["refresh", str(ROOT / "examples" / "practice-snapshot.yaml"), "--format", "json"],
     "Record this drift in the store? [y/N]: ")])
def test_the_question_on_a_terminal_goes_to_stderr_so_stdout_is_one_json_object(
        tmp_path, monkeypatch, args, prompt):
    """`shsync apply org/ --format json > applied.json` typed at a terminal: the question was
    written into the file (unseen, while shsync waited for an answer) and broke its JSON."""
    import click.testing

    env = {"SHSYNC_BACKEND": f"sqlite:///{tmp_path}/practice.db"}
    assert run_cli("seed", SNAPSHOT, env=env).exit_code == 0
    if args[0] == "refresh":  # drift to record: the live practice seen with one member gone
        observed = yaml.safe_load(Path(SNAPSHOT).read_text())
        observed["members"] = [m for m in observed["members"]
                               if m["email"] != "ben.carter@riverbend.example"]
        args = ["refresh", str(tmp_path / "observed.yaml"), *args[2:]]
        (tmp_path / "observed.yaml").write_text(yaml.safe_dump(observed))
    monkeypatch.setattr(click.testing._NamedTextIOWrapper, "isatty", lambda self: True,
                        raising=False)
    result = run_cli(*args, env=env, input="y\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["audit_entry"]["seq"] == 2
    assert prompt in result.stderr

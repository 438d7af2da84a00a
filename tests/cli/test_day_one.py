"""Day one, as a new user meets it: a practice planned from nothing, an existing practice adopted
without a snapshot, a repository's shsync.toml, no silent local store in CI, and the command
line Terraform and git users write."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import ROOT
from tests.conftest import run_cli

ORG = ROOT / "examples" / "org.yaml"
SNAPSHOT = ROOT / "examples" / "practice-snapshot.yaml"
NEW = "no practice 'default' yet: everything below would be created"


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """An org repository: org/org.yaml, a .git folder (the search for shsync.toml stops there),
    and the working directory inside it."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "org").mkdir()
    (tmp_path / "org" / "org.yaml").write_text(ORG.read_text())
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CI", raising=False)
    return tmp_path


def files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if ".git" not in p.parts)


# --- a practice planned from nothing -------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["text", "markdown", "runbook"])
def test_a_plan_against_no_practice_plans_everything_and_creates_nothing(checkout, fmt):
    before = files(checkout)
    planned = run_cli("plan", "org", "--format", fmt, "--backend", "sqlite:///.shsync/p.db")
    assert planned.exit_code == 0, planned.output
    assert planned.stdout.startswith(NEW)
    assert "invite" in planned.stdout.lower()
    assert files(checkout) == before


def test_a_json_plan_against_no_practice_says_so_and_its_saved_file_applies(checkout):
    url = "sqlite:///store/p.db"
    planned = run_cli("plan", "org", "--format", "json", "--backend", url, "-o", "plan.json")
    assert planned.exit_code == 0, planned.output
    data = json.loads(planned.stdout)
    assert data["new_practice"] is True and data["notice"].startswith(NEW)
    assert data["summary"]["invite"] == 15
    assert not (checkout / "store").exists()
    assert "new_practice" not in json.loads((checkout / "plan.json").read_text())
    applied = run_cli("apply", "plan.json", "--backend", url)
    assert applied.exit_code == 0, applied.output
    assert "Applied. Plan: 15 to invite" in applied.stdout
    # The folder shsync made for the store keeps itself out of git.
    assert (checkout / "store" / ".gitignore").read_text().splitlines()[-1] == "*"
    again = run_cli("plan", "org", "--backend", url)
    assert NEW not in again.stdout


def test_a_plan_saved_against_a_practice_with_members_is_not_applied_to_no_practice(checkout):
    assert run_cli("seed", SNAPSHOT, "--backend", "sqlite:///a.db").exit_code == 0
    assert run_cli("plan", "org", "--backend", "sqlite:///a.db", "-o", "plan.json").exit_code == 0
    refused = run_cli("apply", "plan.json", "--backend", "sqlite:///b.db")
    assert refused.exit_code == 1
    assert "error[no-practice]" in refused.stderr and "had members" in refused.stderr
    assert not (checkout / "b.db").exists()


def test_saving_a_plan_in_a_store_that_holds_no_practice_is_refused(checkout):
    refused = run_cli("plan", "org", "--save", "--backend", "sqlite:///p.db")
    assert refused.exit_code == 1 and "error[no-practice]" in refused.stderr
    assert "-o plan.json" in refused.stderr
    assert not (checkout / "p.db").exists()


def test_an_apply_not_confirmed_leaves_no_store_behind(checkout):
    refused = run_cli("apply", "org", "--backend", "sqlite:///.shsync/p.db")
    assert refused.exit_code == 1 and "error[not-confirmed]" in refused.stderr
    assert not (checkout / ".shsync").exists()


# --- adopting a practice that runs in Sessions Health already ----------------------------------

def test_adopt_records_the_org_file_as_the_live_practice_in_one_entry(checkout):
    url = "sqlite:///.shsync/p.db"
    adopted = run_cli("adopt", "org", "--backend", url)
    assert adopted.exit_code == 0, adopted.output
    assert "15 member(s), all recorded as active" in adopted.stdout
    assert "Nothing changes in Sessions Health" in adopted.stdout
    assert "unknown until `shsync refresh" in adopted.stdout
    history = json.loads(run_cli("history", "--format", "json", "--backend", url).stdout)
    assert [e["kind"] for e in history["entries"]] == ["adopt"]
    assert "#1 adopt" in run_cli("history", "--backend", url).stdout
    assert "adopted the practice" in run_cli("history", "--backend", url).stdout
    verified = json.loads(run_cli("history", "--verify", "--format", "json",
                                  "--backend", url).stdout)
    assert (verified["verified"], verified["replayed"], verified["entries"]) == (True, True, 1)
    # Nothing to do afterwards: the file is what the practice has; nothing waits for anyone.
    planned = run_cli("plan", "org", "--detailed-exitcode", "--backend", url)
    assert planned.exit_code == 0, planned.output
    assert "Plan: 0 to invite, 0 to change, 0 to remove" in planned.stdout
    runbook = run_cli("runbook", "--detailed-exitcode", "--backend", url)
    assert runbook.exit_code == 0, runbook.output
    exported = run_cli("export", "--backend", url)
    assert "status: invited" not in exported.stdout
    # Once only: a store that holds the practice is not adopted again.
    again = run_cli("adopt", "org", "--backend", url)
    assert again.exit_code == 1 and "error[not-empty]" in again.stderr


def test_adopt_of_a_file_with_errors_creates_no_store(checkout):
    (checkout / "org" / "org.yaml").write_text(
        ORG.read_text().replace('"1245319599"', '"1234567890"', 1))
    refused = run_cli("adopt", "org", "--backend", "sqlite:///.shsync/p.db")
    assert refused.exit_code == 1 and "error[invalid-npi]" in refused.stdout
    assert not (checkout / ".shsync").exists()


# --- shsync.toml, and no silent local store -------------------------------------------------------

def test_init_then_every_command_finds_the_store_and_the_org_files(checkout, monkeypatch):
    made = run_cli("init")
    assert made.exit_code == 0, made.output
    assert "Wrote shsync.toml" in made.stdout and "Added /.shsync/ to .gitignore" in made.stdout
    assert (checkout / ".gitignore").read_text().splitlines()[-1] == "/.shsync/"
    # No --backend and no terminal: shsync.toml names the store, so this is no error.
    assert run_cli("adopt").exit_code == 0
    # From a folder below, the same store and the same org files.
    (checkout / "org" / "sub").mkdir()
    monkeypatch.chdir(checkout / "org" / "sub")
    planned = run_cli("plan")
    assert planned.exit_code == 0, planned.output
    assert "Plan: 0 to invite, 0 to change, 0 to remove" in planned.stdout
    validated = run_cli("validate")
    assert validated.exit_code == 0, validated.output
    assert validated.stderr == f"{checkout / 'org'}: valid (15 members, 7 clients)\n"
    assert files(checkout / ".shsync") == [".gitignore", "practice.db"]
    assert not (checkout / "org" / "sub" / ".shsync").exists()


@pytest.mark.parametrize("args", [["plan", "org"], ["apply", "org", "--auto-approve"],
                                  ["history"], ["export"], ["runbook"], ["adopt", "org"],
                                  ["access", "--client", "C-1001"]])
@pytest.mark.parametrize("env, why", [({"CI": "true"}, "CI is set"),
                                      ({}, "standard input is not a terminal")])
def test_with_no_store_named_outside_a_terminal_every_store_command_fails(checkout, args, env,
                                                                          why):
    failed = run_cli(*args, env=env)
    assert failed.exit_code == 1, failed.output
    assert "error[no-backend]" in failed.stderr and why in failed.stderr
    assert "--backend URL" in failed.stderr and "shsync init" in failed.stderr
    assert files(checkout) == ["org", "org/org.yaml"]


def test_in_ci_a_local_store_the_checkout_does_not_hold_is_refused(checkout):
    """shsync.toml (committed) names the local store; a CI checkout holds none, and a store made
    there would be thrown away with the runner: error[no-backend], nothing created. A store
    named outright (SHSYNC_BACKEND, --backend) is the job's own choice."""
    assert run_cli("init").exit_code == 0
    for args in (["plan"], ["apply", "org", "--auto-approve"], ["adopt"], ["history"]):
        refused = run_cli(*args, env={"CI": "true"})
        assert refused.exit_code == 1, (args, refused.output)
        assert "error[no-backend]" in refused.stderr and "does not exist here" in refused.stderr
        assert "SHSYNC_BACKEND" in refused.stderr
    assert not (checkout / ".shsync").exists()
    # Where the store is there (a self-hosted runner keeps it), the file's store is used.
    assert run_cli("adopt").exit_code == 0
    assert run_cli("plan", env={"CI": "true"}).exit_code == 0
    named = run_cli("plan", "--backend", "sqlite:///other.db", env={"CI": "true"})
    assert named.exit_code == 0 and named.stdout.startswith(NEW)


def test_an_empty_backend_is_an_error_wherever_it_is_given(checkout):
    (checkout / "shsync.toml").write_text('backend = "sqlite:///.shsync/p.db"\n')
    empty = run_cli("apply", "org", "--auto-approve", env={"SHSYNC_BACKEND": ""})
    assert empty.exit_code == 1 and "error[no-backend]" in empty.stderr
    assert "SHSYNC_BACKEND is set but empty" in empty.stderr
    flag = run_cli("plan", "org", "--backend", "")
    assert flag.exit_code == 64 and "is empty" in flag.stderr
    assert not (checkout / ".shsync").exists()


def test_a_secret_in_shsync_toml_is_refused_before_anything_is_opened(checkout):
    (checkout / "shsync.toml").write_text(
        'org = "org"\nbackend = "postgresql://shsync:hunter2@127.0.0.1:1/x"\n')
    refused = run_cli("plan")
    assert refused.exit_code == 1
    assert refused.stdout.startswith("shsync.toml:2:1: error[secret-in-config]: `backend` holds "
                                     "a password")
    assert "PGPASSWORD" in refused.stdout and "hunter2" not in refused.output


def test_the_practice_may_come_from_shsync_practice(checkout):
    url = "sqlite:///p.db"
    adopted = run_cli("adopt", "org", "--backend", url, env={"SHSYNC_PRACTICE": "north"})
    assert adopted.exit_code == 0 and "Adopted practice 'north'" in adopted.stdout
    assert run_cli("history", "--backend", url + "?practice=north").exit_code == 0
    missing = run_cli("history", "--backend", url)  # the default practice: not there
    assert missing.exit_code == 1 and "error[no-practice]" in missing.stderr


# --- the command line as Terraform and git users write it ----------------------------------------

def test_global_options_come_before_or_after_the_command(checkout):
    url = "sqlite:///p.db"
    assert run_cli("adopt", "org", "--backend", url).exit_code == 0
    after = run_cli("plan", "org", "--backend", url, "--no-color")
    before = run_cli("--backend", url, "--format", "json", "plan", "org")
    assert after.exit_code == 0 and "Plan: 0 to invite" in after.stdout
    assert before.exit_code == 0 and json.loads(before.stdout)["summary"]["invite"] == 0
    wrong = run_cli("--format", "json", "init")
    assert wrong.exit_code == 64 and "--format does not apply to `shsync init`" in wrong.stderr


@pytest.mark.parametrize("args, meant", [(["plan", "org", "-out", "plan.tfplan"], "--out"),
                                         (["plan", "org", "-no-color"], "--no-color"),
                                         (["-no-color", "history"], "--no-color")])
def test_a_long_option_with_one_dash_names_the_option_meant(checkout, args, meant):
    refused = run_cli(*args, "--backend", "sqlite:///p.db")
    assert refused.exit_code == 64
    assert f"shsync's long options take two dashes ({meant})" in refused.stderr
    assert not (checkout / "ut").exists() and not (checkout / "plan.tfplan").exists()


def test_an_option_value_that_looks_like_an_option_is_left_alone(checkout):
    url = "sqlite:///p.db"
    assert run_cli("adopt", "org", "--backend", url).exit_code == 0
    noted = run_cli("review", "1", "--note", "--no-color", "--backend", url,
                    "--actor", "dana.whitfield@riverbend.example")
    assert "two dashes" not in noted.output


# --- what a practice owner reads ----------------------------------------------------------------

def test_history_names_no_zero_count_and_says_who_the_operator_is(checkout):
    url = "sqlite:///p.db"
    assert run_cli("seed", SNAPSHOT, "--backend", url).exit_code == 0
    assert run_cli("apply", "org", "--auto-approve", "--backend", url).exit_code == 0
    shown = run_cli("history", "--backend", url)
    lines = shown.stdout.splitlines()
    assert lines[0].endswith("seeded the practice")
    assert "invited" in lines[1] and not any(" 0 " in line for line in lines)
    assert "`operator:NAME` is the operator" in shown.stderr and "--actor EMAIL" in shown.stderr


def test_the_report_shows_times_in_the_practice_time_zone_beside_utc(checkout):
    text = (checkout / "org" / "org.yaml").read_text()
    zoned = text.replace("version: 1\n", "version: 1\ntimezone: America/Chicago\n", 1)
    assert zoned != text
    (checkout / "org" / "org.yaml").write_text(zoned)
    (checkout / "shsync.toml").write_text('backend = "sqlite:///p.db"\norg = "org"\n')
    assert run_cli("adopt").exit_code == 0
    page = run_cli("report")
    assert page.exit_code == 0, page.output
    assert "UTC (" in page.stdout and "America/Chicago)" in page.stdout
    other = run_cli("report", "--timezone", "Europe/Paris")
    assert "Europe/Paris)" in other.stdout and "America/Chicago)" not in other.stdout
    wrong = run_cli("report", "--timezone", "Mars/Olympus")
    assert wrong.exit_code == 1 and "not an IANA time zone" in wrong.stderr


def test_a_new_practices_owner_is_recorded_as_signed_up_never_invited(checkout):
    url = "sqlite:///p.db"
    runbook = run_cli("plan", "org", "--format", "runbook", "--backend", url)
    owner = [line for line in runbook.stdout.splitlines() if "dana.ortiz@" in line
             and "sign up" in line]
    assert len(owner) == 1 and "Send Invite" not in owner[0]
    assert run_cli("plan", "org", "--backend", url, "-o", "plan.json").exit_code == 0
    assert run_cli("apply", "plan.json", "--backend", url).exit_code == 0
    exported = run_cli("export", "--backend", url).stdout
    assert "owner: true" in exported
    assert run_cli("history", "--verify", "--backend", url).exit_code == 0
    # Nothing waits for the owner to accept: she signed up.
    again = run_cli("plan", "org", "--backend", url)
    assert "after dana.ortiz@riverbend.example accepts" not in again.stdout


def test_a_merged_log_shows_the_diagnostics_then_the_summary(checkout):
    """CI merges standard output and standard error into one log: each line is flushed as it
    is written, so the diagnostics (stdout) come before the summary (stderr)."""
    import subprocess
    import sys

    (checkout / "org" / "org.yaml").write_text(
        ORG.read_text().replace('"1245319599"', '"1234567890"', 1))
    for args in (["validate", "org"], ["plan", "org", "--backend", "sqlite:///p.db"]):
        merged = subprocess.run([sys.executable, "-m", "shsync", *args], cwd=checkout,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                stdin=subprocess.DEVNULL, timeout=60).stdout.splitlines()
        first = next(i for i, line in enumerate(merged) if "error[invalid-npi]" in line)
        summary = next(i for i, line in enumerate(merged) if "1 error(s)" in line)
        assert first < summary, merged


def test_only_an_administrator_of_the_practice_or_the_operator_adopts_it(checkout):
    for actor in ("nobody@elsewhere.example", "sam.lee@riverbend.example"):
        refused = run_cli("adopt", "org", "--backend", "sqlite:///p.db", "--actor", actor)
        assert refused.exit_code == 1 and "error[forbidden]" in refused.stderr, actor
    admin = run_cli("adopt", "org", "--backend", "sqlite:///p.db",
                    "--actor", "dana.ortiz@riverbend.example")
    assert admin.exit_code == 0, admin.output
    history = json.loads(run_cli("history", "--format", "json",
                                 "--backend", "sqlite:///p.db").stdout)["entries"]
    assert [(e["kind"], e["actor"]) for e in history] == [
        ("adopt", "dana.ortiz@riverbend.example")]


def test_no_entry_is_dated_ahead_of_the_stores_clock(checkout):
    """Not an adoption, a review or a step recorded done, as for an apply: SHSYNC_NOW only
    previews (the store's clock is the real one: on any date before 2099)."""
    ahead = {"SHSYNC_NOW": "2099-01-01T00:00:00Z"}
    refused = run_cli("adopt", "org", "--backend", "sqlite:///p.db", env=ahead)
    assert refused.exit_code == 1 and "error[clock-ahead]: nothing was recorded" in refused.stderr
    assert run_cli("seed", SNAPSHOT, "--backend", "sqlite:///q.db").exit_code == 0
    assert run_cli("apply", "org", "--auto-approve", "--backend", "sqlite:///q.db").exit_code == 0
    step = json.loads(run_cli("runbook", "--format", "json", "--backend",
                              "sqlite:///q.db").stdout)["steps"][0]["id"]
    late = run_cli("done", step, "--backend", "sqlite:///q.db", env=ahead)
    assert late.exit_code == 1 and "error[clock-ahead]" in late.stderr
    kinds = [e["kind"] for e in json.loads(run_cli("history", "--format", "json", "--backend",
                                                   "sqlite:///q.db").stdout)["entries"]]
    assert kinds == ["seed", "apply"]

"""The GitHub Action's steps (ci/*.sh) run locally with the environment GitHub gives them,
against a temporary SQLite practice; and the GitLab CI example's jobs, run the same way."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import NOW
from tests.helpers import base_org, email, write_yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = str(Path(sys.executable).parent)  # the venv's bin, where `shsync` is


def snapshot() -> dict:
    """The live practice: the org without rosa, so the plan invites her."""
    snap = copy.deepcopy(base_org())
    snap["members"] = [m for m in snap["members"] if m["email"] != email("rosa")]
    return snap


@pytest.fixture
def repo(tmp_path):
    """A checkout of an org repository, and a live practice seeded in a temporary store."""
    write_yaml(tmp_path / "org" / "org.yaml", base_org())
    write_yaml(tmp_path / "snapshot.yaml", snapshot())
    (tmp_path / "runner").mkdir()
    assert step(tmp_path, None, "shsync", "seed", "snapshot.yaml").returncode == 0
    return tmp_path


def env_for(repo: Path, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SHSYNC_", "GITHUB_"))}
    return {**base, "PATH": f"{BIN}{os.pathsep}{base.get('PATH', '')}",
            "SHSYNC_BACKEND": f"sqlite:///{repo}/store/practice.db",
            "SHSYNC_NOW": NOW, "SHSYNC_ORG": "org",
            "GITHUB_STEP_SUMMARY": str(repo / "runner" / "summary.md"),
            "GITHUB_OUTPUT": str(repo / "runner" / "output.txt"),
            "RUNNER_TEMP": str(repo / "runner"), **extra}


def step(repo: Path, script: str | None, *args: str, **env: str):
    command = ["bash", str(ROOT / "ci" / f"{script}.sh")] if script else list(args)
    return subprocess.run(command, cwd=repo, env=env_for(repo, **env), capture_output=True,
                          text=True, timeout=120)


def summary(repo: Path) -> str:
    path = repo / "runner" / "summary.md"
    return path.read_text() if path.exists() else ""


def outputs(repo: Path) -> dict[str, str]:
    lines = (repo / "runner" / "output.txt").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


def entries(repo: Path) -> int:
    return len(step(repo, None, "shsync", "history").stdout.splitlines())


PR = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_REF": "refs/pull/7/merge",
      "SHSYNC_DEFAULT_BRANCH": "main", "SHSYNC_APPLY": "true"}
PUSH = {"GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/main",
        "SHSYNC_DEFAULT_BRANCH": "main", "SHSYNC_APPLY": "true"}


def plan_then_apply(repo: Path, **env: str):
    planned = step(repo, "plan", **env)
    assert planned.returncode == 0, planned.stderr
    out = outputs(repo)
    return step(repo, "apply", SHSYNC_CHANGES=out["changes"], SHSYNC_PLAN_FILE=out["plan-file"],
                **env)


def test_the_action_runs_the_scripts_with_inputs_in_the_environment():
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    runs = [s["run"] for s in action["runs"]["steps"] if "run" in s]
    assert runs == [f'bash "$GITHUB_ACTION_PATH/ci/{name}.sh"'
                    for name in ("install", "validate", "plan", "apply")]
    for name in ("install", "validate", "plan", "apply"):
        assert (ROOT / "ci" / f"{name}.sh").is_file()
    assert all("${{" not in run for run in runs)  # no input pasted into a shell command
    assert set(action["inputs"]) >= {"org", "backend", "apply", "fail-on-changes"}


def test_validate_step_annotates_the_pull_request(repo):
    ok = step(repo, "validate")
    assert (ok.returncode, ok.stdout, ok.stderr, summary(repo)) == (
        0, "", "org: valid (3 members, 1 clients)\n", "")
    broken = base_org()
    broken["members"][1]["npi"] = "1234567890"
    write_yaml(repo / "org" / "org.yaml", broken)
    failed = step(repo, "validate")
    assert failed.returncode == 1
    assert failed.stdout.startswith("::error file=org/org.yaml,line=")
    assert ",title=invalid-npi::" in failed.stdout
    assert summary(repo).startswith("### shsync validate: `org` is not valid\n\n```text\n"
                                    "org/org.yaml:")
    assert "error[invalid-npi]" in summary(repo)


def test_a_pull_request_shows_the_plan_and_never_applies(repo):
    applied = plan_then_apply(repo, **PR)
    assert outputs(repo) == {"changes": "true",
                             "plan-file": str(repo / "runner" / "shsync-plan.json")}
    assert summary(repo).startswith("### shsync plan for `default`: has changes\n")
    assert f"| `+` | {email('rosa')} (new) | invite as scheduler **widens access** |" in \
        summary(repo)
    assert (applied.returncode, applied.stdout) == (
        0, "shsync: not applied: a pull_request event never applies\n")
    assert entries(repo) == 1  # only the seed


def test_a_push_to_the_default_branch_applies_the_reviewed_plan(repo):
    applied = plan_then_apply(repo, **PUSH)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "### shsync apply: applied" in summary(repo)
    assert entries(repo) == 2
    # The apply recorded the change only: its runbook is in the job summary, and in the files
    # the action uploads as an artifact.
    runbook = Path(outputs(repo)["runbook-file"])
    steps = json.loads(Path(outputs(repo)["runbook-json"]).read_text())["steps"]
    assert [s["member"] for s in steps] == [email("rosa")] and steps[0]["state"] == "pending"
    assert runbook.read_text() in summary(repo)
    assert f"{email('rosa')}" in runbook.read_text() and "R-1" in runbook.read_text()
    again = plan_then_apply(repo, **PUSH)
    assert outputs(repo)["changes"] == "false"
    assert (again.returncode, again.stdout) == (0, "shsync: nothing to apply\n")
    assert entries(repo) == 2


def test_another_branch_or_apply_off_does_not_apply(repo):
    feature = plan_then_apply(repo, **{**PUSH, "GITHUB_REF": "refs/heads/feature"})
    assert feature.stdout == ("shsync: not applied: refs/heads/feature is not the default "
                              "branch (main)\n")
    off = plan_then_apply(repo, **{**PUSH, "SHSYNC_APPLY": "false"})
    assert off.stdout == "shsync: not applied: apply is off (input apply: false)\n"
    assert entries(repo) == 1


def test_drift_fails_the_job_when_asked(repo):
    drift = plan_then_apply(repo, **{**PUSH, "GITHUB_EVENT_NAME": "schedule",
                                     "SHSYNC_APPLY": "false", "SHSYNC_FAIL_ON_CHANGES": "true"})
    assert drift.returncode == 2
    assert "::error title=shsync drift::the live practice differs from the org files" in \
        drift.stdout


def test_a_failed_plan_fails_the_step(repo):
    write_yaml(repo / "org" / "org.yaml", {"version": 1, "members": "nobody"})
    failed = step(repo, "plan", **PR)
    assert failed.returncode == 1
    assert "::error title=shsync plan::the plan failed (exit 1); see the log" in failed.stdout
    assert not (repo / "runner" / "shsync-plan.json").exists()


def gitlab_job(repo: Path, name: str, **env: str):
    """Run one job of the GitLab example as a runner would: each line in `sh -e`."""
    jobs = yaml.safe_load((ROOT / "examples" / "gitlab-ci.yml").read_text())
    script = "\n".join(jobs[name]["script"])
    return subprocess.run(["sh", "-ec", script], cwd=repo, capture_output=True, text=True,
                          env=env_for(repo, **jobs["variables"], **env), timeout=120)


def test_the_gitlab_example_validates_plans_and_applies(repo):
    jobs = yaml.safe_load((ROOT / "examples" / "gitlab-ci.yml").read_text())
    assert jobs["apply"]["rules"] == [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH",
                                       "when": "manual"}]
    assert gitlab_job(repo, "validate").returncode == 0
    planned = gitlab_job(repo, "plan")
    assert planned.returncode == 0, planned.stderr
    assert (repo / "plan.md").read_text().startswith("### shsync plan for `default`: has changes")
    applied = gitlab_job(repo, "apply")
    assert applied.returncode == 0, applied.stderr
    assert entries(repo) == 2
    write_yaml(repo / "org" / "org.yaml", {"version": 1, "members": "nobody"})
    assert gitlab_job(repo, "plan").returncode != 0

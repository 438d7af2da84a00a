"""The GitHub Action run as GitHub runs it (action.yml's steps, tests/ci/github.py), and its
steps (ci/*.sh) one by one with the environment GitHub gives them, against a temporary SQLite
practice (or a real `shsync serve`, for the token); and the GitLab CI example's jobs, run the
same way. tests/ci/test_install.py installs shsync from the action's checkout for real."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from shsync.core.authorize import Actor
from shsync.jobs.app import Shsync
from tests.ci.github import clean_env
from tests.ci.workspace import (BIN, GITHUB_PR, GITHUB_PUSH, PR, PUSH, ROOT, SETUP_PYTHON, UPLOAD,
                                action, entries, env_for, local, outputs, plan_then_apply,
                                step, summary)
from tests.helpers import base_org, email, write_yaml
from tests.served import practice_name, start


def test_the_action_runs_the_scripts_with_inputs_in_the_environment():
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    runs = [s["run"] for s in action["runs"]["steps"] if "run" in s]
    assert runs == [f'bash "$GITHUB_ACTION_PATH/ci/{name}.sh"'
                    for name in ("install", "validate", "plan", "apply")]
    for name in ("install", "validate", "plan", "apply"):
        assert (ROOT / "ci" / f"{name}.sh").is_file()
    assert all("${{" not in run for run in runs)  # no input pasted into a shell command
    assert set(action["inputs"]) >= {"org", "backend", "token", "practice", "apply",
                                     "fail-on-changes"}
    store_env = {"SHSYNC_BACKEND": "${{ inputs.backend }}", "SHSYNC_TOKEN": "${{ inputs.token }}",
                 "SHSYNC_PRACTICE": "${{ inputs.practice }}"}
    by_id = {s.get("id"): s for s in action["runs"]["steps"]}
    for name in ("plan", "apply"):
        assert by_id[name]["env"].items() >= store_env.items()
    # The `if:` expressions tests/ci/github.py is trusted to read as GitHub does: a new one
    # must be added here, with a test of it.
    assert [s["if"] for s in action["runs"]["steps"] if "if" in s] == [
        "steps.apply.outputs.runbook-file != ''"]


def test_the_action_on_a_pull_request_plans_and_never_applies(repo, runner):
    run = action(runner(GITHUB_PR), backend=local(repo), apply="true")
    assert not run.failed, run.log
    assert [s.label for s in run.steps if s.ran and s.uses is None] == [
        "Install shsync", "Validate the org files", "plan", "apply"]
    # setup-python is GitHub's (the runner fixture stands in for it); no runbook to upload
    assert run.passed_over() == [(SETUP_PYTHON, True), (UPLOAD, False)]
    assert run.steps[0].with_ == {"python-version": "3.12"}
    # installed from the action's own checkout, the commit `uses:` named
    assert (repo / "pip.log").read_text().splitlines()[-1] == str(ROOT)
    assert "shsync, version " in run.step("Install shsync").stdout
    assert run.summary.startswith("### shsync plan for `default`: has changes\n")
    assert f"| `+` | {email('rosa')} (new) |" in run.summary
    assert "**shsync: not applied**: a pull_request event never applies" in run.summary
    # ... and the runbook it would leave, read from the saved plan
    assert "Runbook: what people would then do in Sessions Health" in run.summary
    assert f"+ Add Member: email {email('rosa')}" in run.summary
    assert run.outputs == {"changes": "true", "plan-file": str(repo / "runner" /
                                                              "shsync-plan.json"),
                           "runbook-file": ""}
    assert entries(repo) == 1


def test_the_action_on_the_default_branch_applies_and_hands_over_the_runbook(repo, runner):
    run = action(runner(GITHUB_PUSH), backend=local(repo), apply="true")
    assert not run.failed, run.log
    assert entries(repo) == 2
    runbook = Path(run.outputs["runbook-file"])
    assert "### shsync apply: applied" in run.summary
    assert runbook.read_text() in run.summary and email("rosa") in runbook.read_text()
    (upload,) = [s for s in run.steps if s.uses == UPLOAD]
    assert upload.ran and upload.with_["name"] == "shsync-runbook"
    paths = upload.with_["path"].split()
    assert paths == [str(runbook), str(repo / "runner" / "shsync-runbook.json")]
    assert all(Path(p).is_file() for p in paths)
    # the same push again: nothing left to apply, and the apply step says so
    again = action(runner(GITHUB_PUSH), backend=local(repo), apply="true")
    assert (again.failed, again.outputs["changes"], again.outputs["runbook-file"]) == (
        False, "false", "")
    assert "**shsync: nothing to apply.**" in again.summary
    assert entries(repo) == 2


@pytest.mark.parametrize("backend", [None, "", " \n"], ids=["missing", "empty", "blank"])
def test_the_action_without_a_backend_fails_and_creates_no_store(repo, runner, backend):
    inputs = {"apply": "true"} if backend is None else {"apply": "true", "backend": backend}
    run = action(runner(GITHUB_PUSH), **inputs)
    assert run.failed
    plan = run.step("plan")
    assert plan.returncode == 1
    assert plan.stdout.startswith("::error title=shsync no-backend::the backend input is "
                                  "empty: pass the store's URL from a secret")
    assert "**shsync: no backend.**" in run.summary
    assert not run.step("apply").ran  # a failed step stops the job
    assert run.step("Validate the org files").returncode == 0  # annotations still come
    assert not (repo / ".shsync").exists() and entries(repo) == 1


def test_empty_optional_inputs_are_not_given_to_shsync(tmp_path):
    """An empty `practice`, `token` or `actor` input is unset before shsync runs (an empty
    SHSYNC_PRACTICE is an error to shsync), a set one passes through."""
    script = (f'. "{ROOT}/ci/env.sh"; for n in SHSYNC_PRACTICE SHSYNC_TOKEN SHSYNC_ACTOR; do '
              'echo "$n=${!n-unset}"; done')
    env = {**clean_env(BIN), "SHSYNC_BACKEND": "sqlite:///x.db", "SHSYNC_PRACTICE": "",
           "SHSYNC_TOKEN": "", "SHSYNC_ACTOR": "dana@example.org"}
    shown = subprocess.run(["bash", "-euo", "pipefail", "-c", script], env=env, cwd=tmp_path,
                           capture_output=True, text=True, check=True).stdout
    assert shown == ("SHSYNC_PRACTICE=unset\nSHSYNC_TOKEN=unset\n"
                     "SHSYNC_ACTOR=dana@example.org\n")


def test_the_action_passes_the_practice_input_through(repo, runner):
    # the store's practice is `default`: naming it is the same practice whether or not this
    # shsync reads SHSYNC_PRACTICE yet
    run = action(runner(GITHUB_PR), backend=local(repo), practice="default")
    assert not run.failed, run.log
    assert run.step("plan").env["SHSYNC_PRACTICE"] == "default"
    assert run.outputs["changes"] == "true"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    served = start(tmp_path_factory.mktemp("serve"))
    yield served
    served.stop()


def test_the_token_reaches_shsync_and_is_never_printed(repo, runner, server):
    """Through a real `shsync serve`: the plan and apply work only with the token, and it
    appears in no log, summary, output or file the job leaves."""
    name = practice_name("ci")
    store = server.store(name)
    try:
        Shsync(store, Actor.operator("test")).seed(repo / "snapshot.yaml")
    finally:
        store.close()
    token = server.token(name)
    pr = action(runner(GITHUB_PR), backend=server.url(name), token=token, apply="true")
    assert not pr.failed, pr.log
    assert pr.step("plan").env["SHSYNC_TOKEN"] == token
    push = action(runner(GITHUB_PUSH), backend=server.url(name), token=token, apply="true")
    assert not push.failed, push.log
    assert "### shsync apply: applied" in push.summary
    left = [p for p in (repo / "runner").rglob("*") if p.is_file()]
    assert any(p.name == "shsync-runbook.md" for p in left)
    for run in (pr, push):
        assert token not in run.log + run.summary + json.dumps(run.outputs)
    for path in left:
        assert token not in path.read_text(errors="replace"), path
    without = action(runner(GITHUB_PR), backend=server.url(name), apply="true")
    assert without.failed and "SHSYNC_TOKEN" in without.step("plan").stdout + \
        without.step("plan").stderr


# -- The steps one by one ------------------------------------------------------------------


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

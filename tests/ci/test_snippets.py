"""The CI snippets of the docs, checked as written: every GitHub workflow in docs/ci.md,
docs/expiry.md and README.md's "## CI" carries the `permissions:` it needs and no more, pins
shsync to `<commit-sha>` (docs/ci.md's convention for the full SHA of a reviewed commit), pastes
no `${{ }}` into a `run:` command, and its jobs run (tests/ci/github.py) against a test store:
the Action's examples through action.yml, the others step by step. What needs the network is
passed over and named: `pip install` from GitHub (tests/ci/test_install.py installs from a local
git URL instead) and `gh pr comment`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ci.github import Run, Runner
from tests.ci.workspace import GITHUB_PR, GITHUB_PUSH, ROOT, entries, local
from tests.helpers import base_org, write_yaml

SHSYNC = "OWNER/shsync@<commit-sha>"
PIP = 'pip install "git+https://github.com/OWNER/shsync@<commit-sha>"'
# GitHub's own actions, by their published major tags (docs/ci.md says so)
GITHUB_OWNED = {"actions/checkout@v4", "actions/setup-python@v5", "actions/upload-artifact@v4",
                "github/codeql-action/upload-sarif@v3"}
GITHUB_SCHEDULE = {"event_name": "schedule", "ref": "refs/heads/main",
                   "event": {"schedule": "5 * * * *"}}


def readme_ci() -> str:
    text = (ROOT / "README.md").read_text()
    return text[text.index("\n## CI\n"):text.index("\n## Documentation\n")]


SOURCES = {"docs/ci.md": (ROOT / "docs" / "ci.md").read_text(),
           "docs/expiry.md": (ROOT / "docs" / "expiry.md").read_text(),
           "README.md#ci": readme_ci()}


def workflows() -> dict[str, dict[str, Any]]:
    found = {}
    for source, text in SOURCES.items():
        for n, block in enumerate(re.findall(r"```yaml\n(.*?)```", text, re.S)):
            if re.search(r"^jobs:", block, re.M):  # a workflow: it must parse
                found[f"{source}[{n}]"] = yaml.safe_load(block)
    return found


WORKFLOWS = workflows()


def steps(workflow: dict) -> list[dict]:
    return [s for job in workflow["jobs"].values() for s in job["steps"]]


def test_the_workflows_are_all_found():
    assert sorted(WORKFLOWS) == ["README.md#ci[0]", "docs/ci.md[0]", "docs/ci.md[1]",
                                 "docs/ci.md[2]", "docs/ci.md[3]", "docs/expiry.md[1]"]


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_each_workflow_has_the_permissions_it_uses_and_no_more(name):
    workflow = WORKFLOWS[name]
    needed = {"contents": "read"}
    runs = [s.get("run", "") for s in steps(workflow)]
    uses = [s.get("uses", "") for s in steps(workflow)]
    if any("gh pr comment" in run for run in runs):
        needed["pull-requests"] = "write"
    if any(u.startswith("github/codeql-action/upload-sarif@") for u in uses):
        needed |= {"security-events": "write", "actions": "read"}
    assert workflow.get("permissions") == needed
    assert all("permissions" not in job for job in workflow["jobs"].values())


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_each_workflow_pins_shsync_to_a_commit_and_pastes_nothing_into_commands(name):
    for step in steps(WORKFLOWS[name]):
        if "uses" in step:
            assert step["uses"] == SHSYNC or step["uses"] in GITHUB_OWNED, step["uses"]
        run = step.get("run", "")
        assert "${{" not in run, run  # values reach commands as environment variables
        if "pip install" in run:
            assert run == PIP


def test_no_snippet_names_a_tag_or_a_package_that_does_not_exist():
    files = [ROOT / "README.md", ROOT / ".pre-commit-hooks.yaml", ROOT / "action.yml",
             *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "examples").glob("*.yml"))]
    for path in files:
        text = path.read_text()
        # no release tags exist yet: shsync is named at a commit, everywhere
        assert re.findall(r"OWNER/shsync@(\S*?)[\s\"`]", text) == \
            ["<commit-sha>"] * text.count("OWNER/shsync@"), path
        assert set(re.findall(r"\brev: (<?[\w.-]+>?)", text)) <= {"<commit-sha>"}, path
        assert not re.search(r"pip install \./shsync|pip install shsync(?!` finds nothing)",
                             text), path
    pinning = SOURCES["docs/ci.md"].split("## Installing and pinning shsync")[1]
    assert "full\n40-character SHA" in pinning and "no releases yet" in pinning
    assert 'pipx install "git+https://github.com/OWNER/shsync@<commit-sha>"' in pinning
    gitlab = yaml.safe_load((ROOT / "examples" / "gitlab-ci.yml").read_text())
    assert gitlab["variables"]["SHSYNC_PACKAGE"] == \
        "git+https://github.com/OWNER/shsync@<commit-sha>"
    (hook_doc,) = re.findall(r"rev: (\S+)", (ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook_doc == "<commit-sha>"


# -- run as written ------------------------------------------------------------------------

def action_job(runner: Runner, name: str) -> Run:
    workflow = WORKFLOWS[name]
    (job,) = workflow["jobs"]

    def run_uses(uses: str, with_: dict[str, str]) -> Run | None:
        return runner.action(ROOT, with_) if uses == SHSYNC else None
    return runner.job(workflow, job, run_uses=run_uses)


@pytest.mark.parametrize("name", ["docs/ci.md[0]", "README.md#ci[0]"])
def test_the_action_examples_plan_on_a_pull_request_and_apply_on_a_push(repo, runner, name):
    secrets = {"SHSYNC_BACKEND": local(repo)}
    pr = action_job(runner(GITHUB_PR, **secrets), name)
    assert not pr.failed, pr.log
    assert pr.passed_over() == [("actions/checkout@v4", True),
                                ("actions/setup-python@v5", True),
                                ("actions/upload-artifact@v4", False)]
    assert pr.step("plan").env["SHSYNC_TOKEN"] == ""  # the secret is not set: no token
    assert "has changes" in pr.summary and "**shsync: not applied**" in pr.summary
    assert entries(repo) == 1
    push = action_job(runner(GITHUB_PUSH, **secrets), name)
    assert not push.failed, push.log
    assert "### shsync apply: applied" in push.summary and entries(repo) == 2


@pytest.mark.parametrize("name", ["docs/ci.md[0]", "README.md#ci[0]"])
def test_the_action_examples_fail_when_the_secret_is_not_set(repo, runner, name):
    run = action_job(runner(GITHUB_PUSH), name)
    assert run.failed
    assert "::error title=shsync no-backend::" in run.step("plan").stdout
    assert entries(repo) == 1


def test_the_action_example_detects_drift_on_its_schedule(repo, runner):
    run = action_job(runner(GITHUB_SCHEDULE, SHSYNC_BACKEND=local(repo)), "docs/ci.md[0]")
    assert run.failed and run.step("apply").returncode == 2
    assert "::error title=shsync drift::" in run.step("apply").stdout
    assert entries(repo) == 1


def plain_job(runner: Runner, name: str, job: str, repo: Path) -> Run:
    """A job of shsync commands, with the test's store for the example's PostgreSQL or server
    (and without the steps that need the network)."""
    return runner.job(WORKFLOWS[name], job, run_uses=lambda uses, with_: None,
                      pass_over=lambda run: run == PIP or run.startswith("gh pr comment"),
                      env_override={"SHSYNC_BACKEND": local(repo)})


def ran(run: Run) -> list[str]:
    return [s.label for s in run.steps if s.ran and s.uses is None]


def test_the_comment_workflow_plans_on_a_pull_request_and_applies_on_merge(repo, runner):
    name = "docs/ci.md[1]"
    pr = plain_job(runner(GITHUB_PR), name, "plan", repo)
    assert not pr.failed, pr.log
    assert ran(pr) == ["shsync validate org/", "shsync plan org/ --format markdown > plan.md"]
    comment = [s for s in pr.steps if s.label.startswith("gh pr comment")]
    assert len(comment) == 1 and not comment[0].ran  # needs GitHub
    assert (repo / "plan.md").read_text().startswith("### shsync plan for `default`")
    assert plain_job(runner(GITHUB_PR), name, "apply", repo).steps == []  # `if:` a push
    push = plain_job(runner(GITHUB_PUSH), name, "apply", repo)
    assert not push.failed, push.log
    assert len(ran(push)) == 2 and entries(repo) == 2
    (upload,) = [s for s in push.steps if s.uses == "actions/upload-artifact@v4"]
    assert upload.ran and (repo / upload.with_["path"]).read_text().strip()


def test_the_token_workflow_plans_on_a_pull_request_and_applies_on_main(repo, runner):
    name = "docs/ci.md[2]"
    pr = plain_job(runner(GITHUB_PR, SHSYNC_PLAN_TOKEN="p"), name, "plan-apply", repo)
    assert not pr.failed, pr.log
    assert ran(pr) == ["plan"] and pr.step("plan").env["SHSYNC_TOKEN"] == "p"
    push = plain_job(runner(GITHUB_PUSH, SHSYNC_APPLY_TOKEN="a"), name, "plan-apply", repo)
    assert not push.failed, push.log
    assert ran(push) == ["apply"] and push.step("apply").env["SHSYNC_TOKEN"] == "a"
    assert entries(repo) == 2


def test_the_code_scanning_workflow_uploads_sarif_even_when_validation_fails(repo, runner):
    name = "docs/ci.md[3]"
    ok = plain_job(runner(GITHUB_PR), name, "sarif", repo)
    assert not ok.failed, ok.log
    assert json.loads((repo / "shsync.sarif").read_text())["runs"][0]["results"] == []
    broken = base_org()
    broken["members"][1]["npi"] = "1234567890"
    write_yaml(repo / "org" / "org.yaml", broken)
    failed = plain_job(runner(GITHUB_PR), name, "sarif", repo)
    assert failed.failed  # findings fail the job ...
    assert failed.passed_over()[-1] == ("github/codeql-action/upload-sarif@v3", True)  # ... and
    (upload,) = [s for s in failed.steps if s.uses and "upload-sarif" in s.uses]  # still upload
    sarif = json.loads((repo / upload.with_["sarif_file"]).read_text())
    assert sarif["version"] == "2.1.0"
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["invalid-npi"]


def test_the_expiry_workflow_runs_on_its_schedule(repo, runner):
    run = plain_job(runner(GITHUB_SCHEDULE), "docs/expiry.md[1]", "expire", repo)
    assert not run.failed, run.log
    assert len(ran(run)) == 2 and (repo / "runbook.txt").exists()
    (upload,) = [s for s in run.steps if s.uses == "actions/upload-artifact@v4"]
    assert upload.ran and upload.with_["path"] == "runbook.txt"

"""What the CI tests share: a checkout of an org repository with a live practice seeded in a
temporary SQLite store, ci/*.sh run one by one, and the GitHub contexts of the runs."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

from tests.ci.github import Run, Runner
from tests.conftest import NOW
from tests.helpers import base_org, email

ROOT = Path(__file__).resolve().parents[2]
BIN = str(Path(sys.executable).parent)  # the venv's bin, where `shsync` is


def snapshot() -> dict:
    """The live practice: the org without rosa, so the plan invites her."""
    snap = copy.deepcopy(base_org())
    snap["members"] = [m for m in snap["members"] if m["email"] != email("rosa")]
    return snap


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


GITHUB_PR = {"event_name": "pull_request", "ref": "refs/pull/7/merge",
             "event": {"number": 7, "repository": {"default_branch": "main"}}}
GITHUB_PUSH = {"event_name": "push", "ref": "refs/heads/main",
               "event": {"repository": {"default_branch": "main"}}}
SETUP_PYTHON = "actions/setup-python@v5"
UPLOAD = "actions/upload-artifact@v4"


def action(runner: Runner, **inputs: str) -> Run:
    return runner.action(ROOT, inputs)


def local(repo: Path) -> str:
    return f"sqlite:///{repo}/store/practice.db"

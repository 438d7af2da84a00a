"""The `shsync-validate` pre-commit hook, run by pre-commit itself (`pre-commit try-repo`) in a
temporary git repository of org files.

pre-commit installs the hook's own environment from a copy of this repository (tracked and new
files, so uncommitted work is what is tested), once per test session: that takes a minute.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import base_org, write_yaml

ROOT = Path(__file__).resolve().parents[2]
PRE_COMMIT = [sys.executable, "-m", "pre_commit"]


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org",
                    "-c", "commit.gpgsign=false", *args], cwd=cwd, check=True,
                   capture_output=True)


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory) -> Path:
    """This repository's files (as a clean clone would have them, plus new files) as a git
    repository of its own."""
    copy = tmp_path_factory.mktemp("shsync-hooks")
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=ROOT, capture_output=True, check=True)
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    git(copy, "init", "-q")
    git(copy, "add", "-A")
    git(copy, "commit", "-q", "-m", "hooks")
    return copy


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def try_repo(project: Path, hook_repo: Path, home: Path):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("SHSYNC_")},
           "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
    return subprocess.run([*PRE_COMMIT, "try-repo", str(hook_repo), "shsync-validate",
                           "--all-files", "--color", "never"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=600)


def test_the_hook_is_declared_for_yaml_under_the_org_directory():
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "shsync-validate"
    assert (hook["entry"], hook["args"], hook["pass_filenames"]) == ("shsync validate",
                                                                     ["org"], False)
    assert hook["files"] == r"^org/.*\.ya?ml$"


def test_pre_commit_runs_the_hook(tmp_path, hook_repo, pre_commit_home):
    project = tmp_path / "practice"
    write_yaml(project / "org" / "org.yaml", base_org())
    (project / "README.md").parent.mkdir(parents=True, exist_ok=True)
    (project / "README.md").write_text("not an org file\n")
    git(project, "init", "-q")
    git(project, "add", "-A")
    passed = try_repo(project, hook_repo, pre_commit_home)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "shsync validate" in passed.stdout and "Passed" in passed.stdout

    broken = base_org()
    broken["members"][1]["supervised_by"] = "kim@riverbend.example"
    write_yaml(project / "org" / "members.yaml", {"version": 1, "members": []})
    write_yaml(project / "org" / "org.yaml", broken)
    git(project, "add", "-A")
    failed = try_repo(project, hook_repo, pre_commit_home)
    assert failed.returncode == 1
    assert "Failed" in failed.stdout
    assert "org/org.yaml:" in failed.stdout and "error[unknown-supervisor]" in failed.stdout

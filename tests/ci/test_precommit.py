"""The `shsync-validate` pre-commit hook, run by pre-commit itself in a temporary git repository
of org files: through `pre-commit try-repo`, and through docs/ci.md's .pre-commit-config.yaml as
written (its repository and `rev: <commit-sha>` standing for a local copy and its commit).

pre-commit installs the hook's own environment from a copy of this repository (tracked and new
files, so uncommitted work is what is tested), once per way: that takes a minute.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.ci.checkout import checkout, git
from tests.helpers import base_org, write_yaml

ROOT = Path(__file__).resolve().parents[2]
PRE_COMMIT = [sys.executable, "-m", "pre_commit"]


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory) -> tuple[Path, str]:
    """This repository's files as a git repository of its own, and its commit."""
    copy = tmp_path_factory.mktemp("shsync-hooks")
    return copy, checkout(copy)


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def pre_commit(project: Path, home: Path, *args: str):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("SHSYNC_")},
           "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
    return subprocess.run([*PRE_COMMIT, *args, "--all-files", "--color", "never"], cwd=project,
                          env=env, capture_output=True, text=True, timeout=600)


def try_repo(project: Path, hook_repo: tuple[Path, str], home: Path):
    return pre_commit(project, home, "try-repo", str(hook_repo[0]), "shsync-validate")


def documented_config() -> str:
    """docs/ci.md's .pre-commit-config.yaml, as written."""
    blocks = re.findall(r"```yaml\n(# \.pre-commit-config\.yaml\n.*?)```",
                        (ROOT / "docs" / "ci.md").read_text(), re.S)
    assert len(blocks) == 1
    return blocks[0]


def test_the_hook_is_declared_for_yaml_under_the_org_directory():
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "shsync-validate"
    assert (hook["entry"], hook["args"], hook["pass_filenames"]) == ("shsync validate",
                                                                     ["org"], False)
    assert hook["files"] == r"^org/.*\.ya?ml$"


def practice_repo(project: Path) -> None:
    write_yaml(project / "org" / "org.yaml", base_org())
    (project / "README.md").parent.mkdir(parents=True, exist_ok=True)
    (project / "README.md").write_text("not an org file\n")
    git(project, "init", "-q")
    git(project, "add", "-A")


def break_it(project: Path) -> None:
    broken = base_org()
    broken["members"][1]["supervised_by"] = "kim@riverbend.example"
    write_yaml(project / "org" / "members.yaml", {"version": 1, "members": []})
    write_yaml(project / "org" / "org.yaml", broken)
    git(project, "add", "-A")


def test_pre_commit_runs_the_hook(tmp_path, hook_repo, pre_commit_home):
    project = tmp_path / "practice"
    practice_repo(project)
    passed = try_repo(project, hook_repo, pre_commit_home)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "shsync validate" in passed.stdout and "Passed" in passed.stdout
    break_it(project)
    failed = try_repo(project, hook_repo, pre_commit_home)
    assert failed.returncode == 1
    assert "Failed" in failed.stdout
    assert "org/org.yaml:" in failed.stdout and "error[unknown-supervisor]" in failed.stdout


def test_the_documented_config_runs_the_hook_as_written(tmp_path, hook_repo, pre_commit_home):
    copy, sha = hook_repo
    text = documented_config()
    config = yaml.safe_load(text)
    (entry,) = config["repos"]
    assert (entry["repo"], entry["rev"]) == ("https://github.com/OWNER/shsync", "<commit-sha>")
    assert [hook["id"] for hook in entry["hooks"]] == ["shsync-validate"]
    project = tmp_path / "practice"
    practice_repo(project)
    (project / ".pre-commit-config.yaml").write_text(
        text.replace("https://github.com/OWNER/shsync", str(copy)).replace("<commit-sha>", sha))
    git(project, "add", "-A")
    passed = pre_commit(project, pre_commit_home, "run")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "shsync validate" in passed.stdout and "Passed" in passed.stdout
    break_it(project)
    failed = pre_commit(project, pre_commit_home, "run")
    assert failed.returncode == 1
    assert "org/org.yaml:" in failed.stdout and "error[unknown-supervisor]" in failed.stdout

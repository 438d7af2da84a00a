"""The CI tests' fixtures: an org repository with a seeded store, and a GitHub runner."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.ci.github import Runner, clean_env
from tests.ci.workspace import BIN, snapshot, step
from tests.conftest import NOW
from tests.helpers import base_org, write_yaml


@pytest.fixture
def repo(tmp_path):
    """A checkout of an org repository, and a live practice seeded in a temporary store."""
    write_yaml(tmp_path / "org" / "org.yaml", base_org())
    write_yaml(tmp_path / "snapshot.yaml", snapshot())
    (tmp_path / "runner").mkdir()
    assert step(tmp_path, None, "shsync", "seed", "snapshot.yaml").returncode == 0
    return tmp_path


@pytest.fixture
def runner(repo: Path):
    """A runner where actions/setup-python has run: its `python` is this venv's, except that
    `python -m pip install X` only notes X (tests/ci/test_install.py installs for real)."""
    shim = repo / "setup-python"
    shim.mkdir()
    (shim / "python").write_text(
        "#!/usr/bin/env bash\n"
        'if [ "$1 $2 $3" = "-m pip install" ]; then\n'
        '  printf \'%s\\n\' "$@" >>"$PIP_LOG"; exit 0\n'
        'fi\n'
        f'exec "{sys.executable}" "$@"\n')
    (shim / "python").chmod(0o755)
    env = {**clean_env(f"{shim}{os.pathsep}{BIN}"), "SHSYNC_NOW": NOW,
           "PIP_LOG": str(repo / "pip.log")}

    def make(github: dict, **secrets: str) -> Runner:
        return Runner(repo, repo / "runner", env, github, secrets)
    return make

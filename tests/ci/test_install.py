"""shsync installed for real, the ways docs/ci.md says: by the Action's install step from the
action's own checkout, with pip from a git URL at a commit, and with pipx.

No GitHub: the checkout is a local copy of this repository (tests/ci/checkout.py), the git URL
a `file://` one. pip still resolves shsync's dependencies from the package index pip is
configured with (on this kind of machine a local mirror).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from tests.ci.checkout import checkout
from tests.ci.github import Runner, clean_env
from tests.ci.workspace import GITHUB_PR, SETUP_PYTHON, UPLOAD, entries, local
from tests.conftest import NOW

BIN = str(Path(sys.executable).parent)


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> tuple[Path, str]:
    copy = tmp_path_factory.mktemp("shsync-checkout")
    return copy, checkout(copy)


def path_without_this_venv() -> str:
    return os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if Path(p).resolve() != Path(BIN).resolve())


def fresh_python(where: Path) -> Path:
    """What actions/setup-python leaves: a Python of its own, shsync not installed."""
    venv.create(where, with_pip=True)
    return where / "bin"


def test_the_install_step_installs_shsync_from_the_actions_checkout(repo, source, tmp_path):
    action_path, _ = source
    python_bin = fresh_python(tmp_path / "python")
    assert not (python_bin / "shsync").exists()
    env = {**clean_env(str(python_bin)), "PATH": f"{python_bin}{os.pathsep}"
           f"{path_without_this_venv()}", "SHSYNC_NOW": NOW}
    runner = Runner(repo, repo / "runner", env, GITHUB_PR)
    run = runner.action(action_path, {"backend": local(repo)})
    install = run.step("Install shsync")
    assert install.returncode == 0, install.stdout + install.stderr
    assert install.stdout.strip().endswith("shsync, version 0.1.0")
    assert (python_bin / "shsync").is_file()
    assert run.passed_over() == [(SETUP_PYTHON, True), (UPLOAD, False)]
    # the steps after it ran the shsync the step installed, not this venv's
    assert not run.failed, run.log
    assert run.outputs["changes"] == "true" and entries(repo) == 1


def test_pip_installs_shsync_from_a_git_url_at_a_commit(source, tmp_path):
    """pip builds and installs shsync from the git URL at the commit (the dependencies, the
    same for pip and pipx, are installed for real by the pipx test below)."""
    copy, sha = source
    target = tmp_path / "installed"
    # docs/ci.md's line, with the local copy for https://github.com/OWNER/shsync
    url = f"git+file://{copy}@{sha}"
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                             "--target", str(target), url], capture_output=True, text=True,
                            timeout=600, env={**clean_env(BIN)})
    assert result.returncode == 0, result.stdout + result.stderr
    # -S: without site's .pth files, this venv's own (editable) shsync is not on the path; its
    # site-packages are added after the installed copy, for the dependencies.
    site = sysconfig.get_paths()["purelib"]
    shown = subprocess.run(
        [sys.executable, "-S", "-c", f"import sys; sys.path[:0] = [{str(target)!r}, {site!r}]; "
         "import shsync; print(shsync.__file__); from shsync.entry import main; "
         "main(['--version'])"], capture_output=True, text=True, env={**clean_env(BIN)})
    assert shown.returncode == 0, shown.stderr
    where, version = shown.stdout.splitlines()
    assert Path(where).is_relative_to(target) and version == "shsync, version 0.1.0"


def test_pipx_installs_shsync_from_a_git_url_at_a_commit(source, tmp_path):
    # The test extra's pipx, beside this Python (a system pipx may be too old to read the URL).
    beside = Path(sys.executable).parent / "pipx"
    pipx = str(beside) if beside.is_file() else shutil.which("pipx")
    if pipx is None:
        if os.environ.get("CI") == "true" or os.environ.get("SHSYNC_REQUIRE_PIPX") == "1":
            pytest.fail("pipx is not installed (CI=true or SHSYNC_REQUIRE_PIPX=1: it must be)")
        pytest.skip("pipx is not installed here: docs/ci.md's `pipx install` line is not tested")
    copy, sha = source
    env = {**clean_env(""), "PIPX_HOME": str(tmp_path / "pipx"),
           "PIPX_BIN_DIR": str(tmp_path / "bin")}
    result = subprocess.run([pipx, "install", f"git+file://{copy}@{sha}"], capture_output=True,
                            text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    shown = subprocess.run([str(tmp_path / "bin" / "shsync"), "--version"],
                           capture_output=True, text=True, check=True)
    assert shown.stdout == "shsync, version 0.1.0\n"

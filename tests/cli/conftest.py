import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import NOW

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def run(tmp_path):
    """Run the real `shsync` CLI in a subprocess, in a scratch directory with its own backend."""

    def run(*args: str, env: dict[str, str | None] | None = None, input: str | None = None,
            cwd: Path | None = None):
        """`env` adds to the environment or overrides it; None unsets a variable."""
        inherited = {k: v for k, v in os.environ.items()
                     if k not in ("SHSYNC_ACTOR", "SHSYNC_PRACTICE")}
        given = {"SHSYNC_BACKEND": f"sqlite:///{tmp_path}/practice.db", "SHSYNC_NOW": NOW,
                 **(env or {})}
        full_env = {**inherited, **{k: v for k, v in given.items() if v is not None}}
        for name in [k for k, v in given.items() if v is None]:
            full_env.pop(name, None)
        return subprocess.run([sys.executable, "-m", "shsync", *args], cwd=cwd or tmp_path,
                              env=full_env, capture_output=True, text=True, input=input,
                              timeout=120)

    return run

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

    def run(*args: str, env: dict[str, str] | None = None, input: str | None = None):
        inherited = {k: v for k, v in os.environ.items() if k != "SHSYNC_ACTOR"}
        full_env = {**inherited, "SHSYNC_BACKEND": f"sqlite:///{tmp_path}/practice.db",
                    "SHSYNC_NOW": NOW, **(env or {})}
        return subprocess.run([sys.executable, "-m", "shsync", *args], cwd=tmp_path, env=full_env,
                              capture_output=True, text=True, input=input, timeout=120)

    return run

"""The project's own pre-commit hooks are a valid config that runs `make lint`'s checks."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_the_config_is_valid_for_pre_commit():
    result = subprocess.run([sys.executable, "-m", "pre_commit", "validate-config",
                             ".pre-commit-config.yaml"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_hook_runs_a_check_that_make_lint_runs():
    hooks = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    lint = re.search(r"^lint:.*?\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    assert lint is not None
    for hook in hooks:
        words = hook["entry"].split()
        tool = words[words.index("-m") + 1] if "-m" in words else Path(words[0]).name
        assert re.search(rf"(-m |/){tool}\b", lint.group(1)), hook["id"]

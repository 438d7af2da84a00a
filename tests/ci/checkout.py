"""A copy of this repository's files (tracked and new ones, so uncommitted work is what is
tested, as a clean clone would have them) as a git repository of its own, with one commit: what
GitHub checks out for `uses: OWNER/shsync@<commit-sha>`, pre-commit for `rev:`, and pip for
`git+URL@<commit-sha>`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org",
                           "-c", "commit.gpgsign=false", *args], cwd=cwd, check=True,
                          capture_output=True, text=True).stdout


def checkout(copy: Path) -> str:
    """Copy the repository's files into `copy`, commit them, and return the commit's SHA."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=ROOT, capture_output=True, check=True)
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    git(copy, "init", "-q")
    git(copy, "add", "-A")
    git(copy, "commit", "-q", "-m", "shsync")
    return git(copy, "rev-parse", "HEAD").strip()

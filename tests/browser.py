"""Debian's Chromium for the browser tests, found once: where CI=true or
SHSYNC_REQUIRE_CHROMIUM=1 a missing one fails the test, elsewhere it skips with its reason."""

from __future__ import annotations

import os
import shutil

import pytest


def chromium(what: str) -> str:
    """The browser's path; `what` names the test that needs it, for the skip or failure."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    required = os.environ.get("CI") == "true" or os.environ.get("SHSYNC_REQUIRE_CHROMIUM") == "1"
    message = f"Chromium is not installed (Debian: apt-get install chromium); {what} did not run"
    if required:
        pytest.fail(message + " and CI=true or SHSYNC_REQUIRE_CHROMIUM=1 requires it")
    pytest.skip(message)

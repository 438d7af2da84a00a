"""The browser tests' one Chromium finder (tests/browser.py): a machine without Chromium skips
them with the reason, and CI, where they must run, fails instead of going green without them."""

from __future__ import annotations

import pytest

from tests.browser import chromium


@pytest.mark.parametrize("env, outcome", [
    ({}, pytest.skip.Exception),
    ({"SHSYNC_REQUIRE_CHROMIUM": "1"}, pytest.fail.Exception),
    ({"CI": "true"}, pytest.fail.Exception),
])
def test_a_missing_chromium_skips_with_the_reason_or_fails_where_required(
        monkeypatch, tmp_path, env, outcome):
    monkeypatch.setenv("PATH", str(tmp_path))  # no chromium on it
    for name in ("CI", "SHSYNC_REQUIRE_CHROMIUM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(outcome, match=r"Chromium is not installed \(Debian: apt-get install "
                                      r"chromium\); the page test did not run"):
        chromium("the page test")

"""The help pages stored for `shsync --help` without click (shsync/helppages.txt) are what click
renders now, for every command, at every width served; `make helppages` rewrites them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shsync import quickhelp
from shsync.cli import COMMANDS, helppages

PATHS = list(helppages.commands())


def test_the_stored_pages_are_what_click_renders_now():
    stored = Path(quickhelp.PAGES_FILE).read_text(encoding="ascii")
    assert stored == helppages.stored_text(), "help changed: run `make helppages`"


def test_the_click_pinned_is_the_release_that_rendered_the_pages():
    import tomllib

    with open(Path(quickhelp.PAGES_FILE).parents[1] / "pyproject.toml", "rb") as file:
        dependencies = tomllib.load(file)["project"]["dependencies"]
    (pin,) = [d for d in dependencies if d.startswith("click")]
    release, _ = quickhelp.read(quickhelp.PAGES_FILE)
    assert pin == f"click=={release}"


def test_every_command_and_subcommand_has_a_page_at_every_width():
    assert PATHS[0] == ()
    assert {p[0] for p in PATHS[1:]} == set(COMMANDS)
    assert ("token", "create") in PATHS and ("token", "revoke") in PATHS
    release, pages = quickhelp.read(quickhelp.PAGES_FILE)
    assert sorted(pages, key=repr) == sorted(((w, *p) for w in (78, 98) for p in PATHS), key=repr)
    assert pages[(78,)].startswith("Usage: shsync [OPTIONS] COMMAND [ARGS]...\n")
    assert pages[(98, "plan")].startswith("Usage: shsync plan [OPTIONS] PATH\n")


def test_the_widths_are_wrapped_differently():
    _, pages = quickhelp.read(quickhelp.PAGES_FILE)
    assert pages[(78,)] != pages[(98,)] and pages[(78, "plan")] != pages[(98, "plan")]


@pytest.mark.parametrize("path", PATHS, ids=" ".join)
def test_dash_h_prints_the_same_page_as_dash_dash_help(path):
    assert helppages.render(path, 80, "-h") == helppages.render(path, 80, "--help")


def test_pages_are_printable_ascii_without_the_separator():
    _, pages = quickhelp.read(quickhelp.PAGES_FILE)
    for page in pages.values():
        assert page.endswith("\n") and quickhelp.SEPARATOR not in page
        assert all(c == "\n" or " " <= c <= "~" for c in page), page


def test_a_page_does_not_depend_on_the_environment():
    # In a fresh process, so that what a command module reads from the environment when it is
    # imported counts too (the default of --backend, say, if it ever came from SHSYNC_BACKEND).
    hostile = {**os.environ, "SHSYNC_BACKEND": "postgresql://u:secret@db/x", "SHSYNC_ACTOR":
               "dana@x.example", "SHSYNC_ORG": "/elsewhere", "SHSYNC_TOKEN": "t0k",
               "SHSYNC_NOW": "2030-01-01T00:00:00Z", "NO_COLOR": "1", "LINES": "5",
               "HOME": os.devnull, "TERM": "dumb"}  # (COLUMNS and LANGUAGE: render sets them)
    result = subprocess.run([sys.executable, "-c", "import sys; from shsync.cli import helppages; "
                             "sys.stdout.write(helppages.stored_text())"],
                            capture_output=True, text=True, timeout=120, env=hostile)
    assert result.returncode == 0, result.stderr
    assert result.stdout == Path(quickhelp.PAGES_FILE).read_text(encoding="ascii")

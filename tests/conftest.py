from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pytest

from tests import fault_stats, pg

if TYPE_CHECKING:
    from click.testing import Result

# The suite's one clock: every planning time, SHSYNC_NOW and server clock in the tests is this
# instant, so no result depends on the day the suite runs. A test that needs the real clock
# (token expiry is real time by design) says why and holds on any date.
NOW = "2026-11-26T12:00:00Z"
# Every command a test runs, in process or as a subprocess, plans at NOW unless the test says
# otherwise.
os.environ["SHSYNC_NOW"] = NOW
# An error made with a code shsync.errors.CODES does not hold fails loudly here, in process and in
# every command a test runs (in use it keeps its code and answers as its class: shsync/errors.py).
os.environ["SHSYNC_STRICT_CODES"] = "1"

#: What a user's shell may set that changes what a command does: unset for every command run_cli
#: runs, unless the test gives it, so no result depends on who runs the suite.
UNSET = ("SHSYNC_ACTOR", "SHSYNC_BACKEND", "SHSYNC_ORG", "SHSYNC_TOKEN", "SHSYNC_MAX_FILE_BYTES",
         "SHSYNC_PRACTICE")


def run_cli(*args: object, env: Mapping[str, str | None] | None = None,
            input: str | bytes | None = None, **kw: Any) -> Result:
    """Run `shsync ARGS...` in process (click's CliRunner), every argument as str, planning at
    NOW with UNSET unset; `env` adds to that or overrides it (None unsets a variable). `kw` goes
    to CliRunner.invoke (terminal_width=, catch_exceptions=). The one in-process runner of the
    suite; tests/cli/conftest.py's `run` fixture is the one for a real process."""
    from click.testing import CliRunner

    from shsync.cli import cli

    full: dict[str, str | None] = {"SHSYNC_NOW": NOW, **dict.fromkeys(UNSET), **(env or {})}
    return CliRunner().invoke(cli, [str(a) for a in args], env=full, input=input, **kw)


def pytest_sessionfinish(session, exitstatus):
    pg.drop_schemas()
    # Under pytest-xdist each worker counts its own share; hand it to the controller, which
    # adds them up (pytest_testnodedown) before printing the one summary line.
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["fault_counts"] = dict(fault_stats.COUNTS)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    fault_stats.COUNTS.update(getattr(node, "workeroutput", {}).get("fault_counts", {}))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if fault_stats.COUNTS:
        terminalreporter.write_line(fault_stats.summary())

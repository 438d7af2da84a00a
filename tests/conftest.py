import os

import pytest

from tests import fault_stats, pg

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

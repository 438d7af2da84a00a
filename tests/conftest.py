import pytest

from tests import fault_stats, pg


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

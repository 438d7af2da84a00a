from tests import fault_stats, pg


def pytest_sessionfinish(session, exitstatus):
    pg.drop_schemas()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if fault_stats.COUNTS:
        terminalreporter.write_line(fault_stats.summary())

from tests import fault_stats, pg


def pytest_sessionfinish(session, exitstatus):
    pg.drop_schemas()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    c = fault_stats.COUNTS
    if c:
        terminalreporter.write_line(
            f"reliability: {c['crash points']} crash points tried, {c['corpus files']} corpus "
            f"files tried, {c['fuzz examples']} fuzz examples run; "
            f"{c['lost or corrupted']} lost or corrupted anything (must be 0)")

from tests import pg


def pytest_sessionfinish(session, exitstatus):
    pg.drop_schemas()

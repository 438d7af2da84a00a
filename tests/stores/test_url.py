"""Backend URLs: secrets never printed in any form, malformed URLs refused with a code."""

from __future__ import annotations

import pytest

from shsync.stores import open_backend
from shsync.stores.url import parse_sqlite, redact, scrub, secrets
from shsync.errors import BackendError

SECRET = "hunter2"


@pytest.mark.parametrize("url, shown", [
    ("postgresql://u:hunter2@h/db", "postgresql://u:***@h/db"),
    ("postgresql://u:hun/ter2@h/db", "postgresql://u:***@h/db"),
    ("postgresql://u:hun#ter2@h/db", "postgresql://u:***@h/db"),
    ("postgresql://u:hun?ter2@h/db", "postgresql://u:***@h/db"),
    ("postgresql://u:hun@ter2@h/db", "postgresql://u:***@h/db"),
    ("postgresql://u:hunter2@[::1", "postgresql://u:***@[::1"),
    ("postgresql://h/db?password=hunter2", "postgresql://h/db?password=***"),
    ("postgresql://h/db?sslmode=require&PASSWORD=hunter2&x=1",
     "postgresql://h/db?sslmode=require&PASSWORD=***&x=1"),
    ("postgresql://h/db?sslpassword=hunter2", "postgresql://h/db?sslpassword=***"),
    ("postgresql://u@h/db?user=a@b.example", "postgresql://u@h/db?user=a@b.example"),
    ("sqlite:///q.db?practice=x", "sqlite:///q.db?practice=x"),
    # libpq percent-decodes parameter names too
    ("postgresql://u@h:1/x?pass%77ord=hunter2", "postgresql://u@h:1/x?pass%77ord=***"),
    ("postgresql://h/x?%70assword=hunter2&sslpass%77ord=hunter2",
     "postgresql://h/x?%70assword=***&sslpass%77ord=***"),
    # libpq splits parameters on `&` only: `;` and `?` belong to the value
    ("postgresql://h/x?password=hunter2;PassWord=hunter2", "postgresql://h/x?password=***"),
    ("postgresql://h/x?practice=p&password=ab;hunter2", "postgresql://h/x?practice=p&password=***"),
    ("postgresql://h/x?password=ab?hunter2&x=1", "postgresql://h/x?password=***&x=1"),
    ("postgresql://h/x?x=1;password=hunter2", "postgresql://h/x?x=***"),
    # an encoded `=`: libpq refuses the name and echoes it back, password and all
    ("postgresql://h:1/db?password%3Dhunter2", "postgresql://h:1/db?***"),
    ("postgresql://h:1/db?x=1&pass%2577ord=hunter2", "postgresql://h:1/db?x=1&pass%2577ord=***"),
    ("postgresql://h/db#password=hunter2", "postgresql://h/db#password=***"),
    # a user or database that happens to be called so is not a password
    ("postgresql://password@h/passwords?practice=p",
     "postgresql://password@h/passwords?practice=p"),
    # not `scheme://`: nowhere to tell a password from the rest, so all of it is masked
    (" postgresql://u:hunter2@h/x", "***"),
    ("\tpostgresql://u:hunter2@h/x", "***"),
    ("host=127.0.0.1 password=hunter2", "***"),
    ("postgresql:/u:hunter2@h/x", "postgresql:***"),
    ("u:hunter2@h", "u:***"),
    ("sqlite:q.db", "sqlite:***"),
])
def test_redact_hides_every_password(url, shown):
    assert redact(url) == shown


def test_secrets_lists_every_form_so_a_driver_message_can_be_scrubbed():
    url = "postgresql://u:hun%40ter2@h/db?password=p%2Fw"
    assert set(secrets(url)) == {"hun%40ter2", "hun@ter2", "p%2Fw", "p/w"}
    assert scrub('password "hun@ter2" or p/w failed', url) == 'password "***" or *** failed'


@pytest.mark.parametrize("url", [
    "postgresql://u:hunter2@[::1",                # a bad IPv6 address
    "postgresql://u:hunter2@[::1]:port/db",       # a port that is not a number
    "postgresql://u:hun/ter2@127.0.0.1:1/db",     # '/' in the password
    "postgresql://u:hun#ter2@127.0.0.1:1/db",     # '#'
    "postgresql://u:hun@ter2@127.0.0.1:1/db",     # '@'
])
def test_a_malformed_url_is_refused_with_a_code_and_without_the_secret(url):
    with pytest.raises(BackendError) as info:
        open_backend(url)
    assert info.value.code == "bad-backend-url"
    text = info.value.render()
    for form in ("hunter2", "hun", "ter2"):
        assert form not in text, text


@pytest.mark.parametrize("url", [
    " postgresql://u:hunter2@127.0.0.1:1/x", "host=127.0.0.1 password=hunter2",
    "postgresql:/u:hunter2@h/x", "u:hunter2@h", "mysql://u:hunter2@h/x", "hunter2",
])
def test_an_unknown_url_is_refused_without_its_secret(url):
    with pytest.raises(BackendError) as info:
        open_backend(url)
    assert info.value.code == "bad-backend-url"
    assert "hunter2" not in info.value.render() and "hunter" not in str(info.value)


def test_a_password_under_an_encoded_name_is_scrubbed_from_a_driver_message():
    url = "postgresql://u@h/x?pass%77ord=hun%40ter2"
    assert set(secrets(url)) == {"hun%40ter2", "hun@ter2"}
    assert scrub("FATAL: password hun@ter2 rejected", url) == "FATAL: password *** rejected"
    whole = "postgresql://h:1/db?password%3Dhunter2"
    assert scrub('invalid URI query parameter: "password=hunter2"', whole) == \
        'invalid URI query parameter: "***"'


@pytest.mark.parametrize("url", ["postgresql://127.0.0.1:1/db?password%3Dhunter2",
                                 "postgresql://u@127.0.0.1:1/x?pass%77ord=hunter2"])
def test_libpqs_own_message_about_an_encoded_parameter_is_scrubbed(url):
    with pytest.raises(BackendError) as info:
        open_backend(url)
    assert "hunter" not in info.value.render(), info.value.render()


def test_sqlite_urls_take_the_practice_from_the_query():
    assert parse_sqlite("sqlite:///q.db?practice=north") == parse_sqlite("sqlite:///q.db") \
        .__class__("q.db", "north")
    assert parse_sqlite("sqlite:////abs/q.db").path == "/abs/q.db"


@pytest.mark.parametrize("url", ["sqlite:///", "sqlite:///?practice=x", "sqlite:///q.db?pw=1",
                                 "sqlite:///q.db?practice=", "sqlite://q.db", "sqlite:///nd/sub/",
                                 "sqlite:////tmp/"])
def test_bad_sqlite_urls_are_refused(url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BackendError) as info:
        open_backend(url, create=True)
    assert info.value.code == "bad-backend-url"
    assert list(tmp_path.iterdir()) == []

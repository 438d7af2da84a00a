"""`shsync serve --notify` (issue #25): signed JSON events when runbook steps become overdue
and when they are done or observed, posted to a local receiver.

The notifier's clock is a fake one built from the steps' own deadlines (the store's clock at
the apply + the practice's policy), so no test waits for a deadline or depends on the date.
One real `shsync serve` process shows the done event end to end, and one that a receiver that
never answers does not stop it from serving."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from shsync.core.authorize import Actor
from shsync.errors import ShsyncError
from shsync.jobs.app import Shsync
from shsync.model.clock import later
from shsync.server import notify
from shsync.stores.sqlite import SqliteBackend
from tests.conftest import run_cli
from tests.server.conftest import DANA, ORG, SNAPSHOT, seeded

SECRET = "a-test-secret-of-the-receiver-0123"
PRACTICE = "riverbend"
# Words of the steps' texts and notes that an event must never carry: a new member's names,
# the Sessions Health screens, a note's free text.
NEVER = ("Alex", "Rivera", "Add Member", "Account Settings", "Manage Access",
         "called the client")


# --- a local receiver ---------------------------------------------------------------------------

class Receiver:
    """A tiny HTTP server on a thread: records each POST (headers, exact body bytes) and answers
    with the statuses it was given, then 200; `hang` holds every answer until closed."""

    def __init__(self, answers: tuple[int, ...] = (), hang: bool = False):
        self.got: list[tuple[str, dict[str, str], bytes]] = []
        self.answers = list(answers)
        self.released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.got.append((self.path, dict(self.headers.items()), body))
                if hang:
                    receiver.released.wait(30)
                status = receiver.answers.pop(0) if receiver.answers else 200
                try:
                    self.send_response(status)
                    if 300 <= status < 400:
                        self.send_header("Location", "/elsewhere")
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the notifier gave up waiting (a timeout): nobody reads the answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/shsync?key=path-secret"

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, _, body in self.got]

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(*answers: int, hang: bool = False) -> Receiver:
        made.append(Receiver(answers, hang))
        return made[-1]

    yield make
    for r in made:
        r.close()


def signed(headers: dict[str, str], body: bytes) -> bool:
    """The receiver's check: the signature header is the HMAC-SHA256 of the exact body."""
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers.get("X-Shsync-Signature", ""), expected)


def wait_for(check: Callable[[], Any], seconds: float = 20.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.05)
    raise AssertionError(f"not within {seconds} s")


# --- a store with runbook steps -----------------------------------------------------------------

class Store:
    def __init__(self, db: Path):
        self.db = db
        self.url = f"sqlite:///{db}"
        backend = SqliteBackend(str(db), PRACTICE)
        try:
            app = Shsync(backend, Actor.operator("test"))
            app.seed(SNAPSHOT)
            app.apply(app.plan(ORG).plan)
            self.steps = backend.runbook_steps()
        finally:
            backend.close()

    def backend(self) -> SqliteBackend:
        return SqliteBackend(str(self.db), PRACTICE)

    def first_due(self, effect: str) -> str:
        return min(s.due for s in self.steps if s.effect == effect)

    def labels(self, effect: str) -> list[str]:
        return [s.label for s in self.steps if s.effect == effect]

    def done(self, *labels: str, actor: str = DANA, note: str | None = None) -> int:
        backend = self.backend()
        try:
            return Shsync(backend, Actor.member(actor)).done(labels, note).seq
        finally:
            backend.close()


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "store.db")


class Clock:
    def __init__(self, at: str):
        self.at = at

    def __call__(self) -> str:
        return self.at

    def move(self, by: timedelta) -> None:
        self.at = later(self.at, by)


@pytest.fixture
def notifier() -> Iterator[Callable[..., notify.Notifier]]:
    made: list[notify.Notifier] = []

    def make(store_url: str, *urls: str, clock: Callable[[], str], **options: Any
             ) -> notify.Notifier:
        log = options.pop("log", io.StringIO())
        wall = options.pop("wall", notify.now_real)
        config = notify.settings(urls, environ={notify.SECRET_ENV: SECRET},
                                 **{"backoff": 0.01, "timeout": 5.0, **options})
        made.append(notify.Notifier(store_url, config, clock=clock, wall=wall, log=log))
        return made[-1]

    yield make
    for n in made:
        n.close()


def overdue_ids(events: list[dict[str, Any]]) -> list[str]:
    return sorted((e["steps"][0]["id"] for e in events if e["type"] == "runbook.overdue"),
                  key=lambda label: int(label[2:]))


def log_lines(log: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.getvalue().splitlines()]


# --- overdue, once per step ---------------------------------------------------------------------

def test_each_post_is_signed_over_its_exact_body(store, receiver, notifier):
    r = receiver()
    clock = Clock(later(store.first_due("narrows"), timedelta(seconds=1)))
    posted = notifier(store.url, r.url, clock=clock).poll()
    assert posted and len(r.got) == len(posted)
    for path, headers, body in r.got:
        assert path == "/hooks/shsync?key=path-secret"
        assert signed(headers, body)
        assert headers["Content-Type"] == "application/json"
        event = json.loads(body)
        assert headers["X-Shsync-Event"] == event["type"] == "runbook.overdue"
        assert headers["X-Shsync-Delivery"] == event["id"]
        assert not signed(headers, body + b" ")  # the exact bytes, not their JSON
    assert [json.loads(b) for _, _, b in r.got] == posted


def test_an_overdue_step_is_announced_once_and_carries_no_phi(store, receiver, notifier):
    r = receiver()
    clock = Clock(later(store.first_due("narrows"), timedelta(seconds=1)))
    n = notifier(store.url, r.url, clock=clock)
    first = n.poll()
    assert overdue_ids(first) == store.labels("narrows")  # every narrowing step: due in 1h
    event = first[0]
    assert set(event) == {"format", "type", "id", "practice", "at", "steps"}
    assert (event["format"], event["practice"], event["at"]) == (1, PRACTICE, clock.at)
    assert event["id"] == f"{PRACTICE}/{event['steps'][0]['id']}/overdue"
    step = event["steps"][0]
    assert set(step) == {"id", "entry", "actions", "member", "client", "effect", "recorded_at",
                         "due", "waits_for", "state", "by", "at", "confirmed_in"}
    assert (step["state"], step["effect"], step["entry"]) == ("pending", "narrows", 2)
    # Every poll after: nothing again, until the next kind of deadline passes.
    clock.move(timedelta(minutes=5))
    assert n.poll() == []
    assert n.poll() == []
    clock.at = later(store.first_due("widens"), timedelta(seconds=1))
    assert overdue_ids(n.poll()) == store.labels("widens")
    clock.at = later(store.first_due("other"), timedelta(days=30))
    assert overdue_ids(n.poll()) == store.labels("other")
    assert n.poll() == []
    bodies = b"".join(body for _, _, body in r.got)
    assert not [word for word in NEVER if word.encode() in bodies]
    assert sorted(overdue_ids(r.events()), key=lambda s: int(s[2:])) == \
        [s.label for s in store.steps]  # each step once, in all


def test_a_step_done_before_its_deadline_is_never_announced_overdue(store, receiver, notifier):
    r = receiver()
    store.done("R-6", "R-8")
    clock = Clock(later(store.first_due("narrows"), timedelta(seconds=1)))
    sent = notifier(store.url, r.url, clock=clock).poll()
    assert "R-6" not in overdue_ids(sent) and "R-8" not in overdue_ids(sent)
    assert len(overdue_ids(sent)) == len(store.labels("narrows")) - 2


def test_a_restart_resends_at_most_the_catch_up_window(store, receiver, notifier):
    r = receiver()
    due = store.first_due("narrows")
    first = notifier(store.url, r.url, clock=Clock(later(due, timedelta(seconds=1))))
    assert overdue_ids(first.poll()) == store.labels("narrows")
    first.close()  # the server stops; another starts, and looks back its catch-up window
    within = notifier(store.url, r.url, clock=Clock(later(due, timedelta(minutes=30))),
                      catch_up=timedelta(hours=1))
    assert overdue_ids(within.poll()) == store.labels("narrows")  # re-sent: within the window
    within.close()
    past = notifier(store.url, r.url, clock=Clock(later(due, timedelta(hours=2))),
                    catch_up=timedelta(hours=1))
    assert past.poll() == []  # overdue before the window: not sent again
    past.close()
    none = notifier(store.url, r.url, clock=Clock(later(due, timedelta(seconds=5))),
                    catch_up=timedelta(0))
    assert none.poll() == []


# --- done and observed ---------------------------------------------------------------------------

def test_done_and_observed_steps_are_announced_once_per_audit_entry(store, receiver, notifier):
    r = receiver()
    clock = Clock(store.steps[0].recorded_at)  # before any deadline
    n = notifier(store.url, r.url, clock=clock)
    assert n.poll() == []  # the apply itself is no event
    seq = store.done("R-6", "R-14", note="called the client's practitioner")
    sent = n.poll()
    assert [e["type"] for e in sent] == ["runbook.done"]
    event = sent[0]
    assert set(event) == {"format", "type", "id", "practice", "entry", "by", "at", "steps"}
    assert (event["id"], event["entry"], event["by"]) == (f"{PRACTICE}/entry/{seq}", seq, DANA)
    assert [(s["id"], s["state"], s["by"], s["confirmed_in"], s["late"])
            for s in event["steps"]] == [("R-6", "done", DANA, seq, False),
                                         ("R-14", "done", DANA, seq, False)]
    assert n.poll() == []
    backend = store.backend()
    try:  # what a refresh records when an observation shows a step carried out
        observed = backend.confirm_steps([17], how="observed", actor=Actor.operator("refresh"),
                                         now=clock.at).seq
    finally:
        backend.close()
    again = n.poll()
    assert [(e["type"], e["entry"], [s["id"] for s in e["steps"]]) for e in again] == [
        ("runbook.observed", observed, ["R-17"])]
    assert all(signed(h, b) for _, h, b in r.got)
    assert b"called the client" not in b"".join(b for _, _, b in r.got)


def test_a_restart_announces_only_entries_written_in_the_catch_up_window(store, receiver,
                                                                         notifier):
    r = receiver()
    clock = Clock(store.steps[0].recorded_at)
    seq = store.done("R-6")
    backend = store.backend()
    try:
        written = backend.history()[-1].written_at
    finally:
        backend.close()
    assert written is not None
    soon = notifier(store.url, r.url, clock=clock,
                    wall=Clock(later(written, timedelta(minutes=10))))
    assert [e["entry"] for e in soon.poll()] == [seq]
    soon.close()
    late = notifier(store.url, r.url, clock=clock,
                    wall=Clock(later(written, timedelta(hours=2))))
    assert late.poll() == []


# --- delivery: retries, bounds, timeouts ---------------------------------------------------------

def test_a_500_is_tried_again_with_the_same_signed_body_then_delivered(store, receiver,
                                                                       notifier):
    r = receiver(500, 503)
    log = io.StringIO()
    n = notifier(store.url, r.url, clock=Clock(store.steps[0].recorded_at), log=log)
    n.poll()
    store.done("R-6")
    assert [e["type"] for e in n.poll()] == ["runbook.done"]
    assert len(r.got) == 3 and len({body for _, _, body in r.got}) == 1
    assert all(signed(h, b) for _, h, b in r.got)
    said = [(line["notify"], line.get("status")) for line in log_lines(log)
            if line["notify"] in ("retrying", "delivered", "failed")]
    assert said == [("retrying", 500), ("retrying", 503), ("delivered", 200)]
    assert SECRET not in log.getvalue() and "path-secret" not in log.getvalue()


def test_attempts_are_bounded_then_the_failure_is_logged(store, receiver, notifier):
    r = receiver(500, 500, 500, 500)
    log = io.StringIO()
    n = notifier(store.url, r.url, clock=Clock(store.steps[0].recorded_at), log=log, attempts=3)
    n.poll()
    store.done("R-6")
    assert len(n.poll()) == 1  # posted, not delivered: the poll itself does not fail
    assert len(r.got) == 3
    failed = [line for line in log_lines(log) if line["notify"] == "failed"]
    assert [(f["level"], f["status"], f["attempt"]) for f in failed] == [("error", 500, 3)]
    assert n.poll() == [] and len(r.got) == 3  # not sent again on every poll


def test_a_4xx_is_not_tried_again_and_a_redirect_is_not_followed(store, receiver, notifier):
    r = receiver(400, 302)
    log = io.StringIO()
    n = notifier(store.url, r.url, clock=Clock(store.steps[0].recorded_at), log=log)
    n.poll()
    store.done("R-6")
    store.done("R-8")
    assert len(n.poll()) == 2
    assert [path for path, _, _ in r.got] == ["/hooks/shsync?key=path-secret"] * 2
    assert [line["error"] for line in log_lines(log) if line["notify"] == "failed"] == [
        "status 400", "redirect (not followed)"]


def test_a_receiver_that_is_not_there_is_tried_again_and_logged(store, notifier):
    log = io.StringIO()
    with socket_closed() as port:
        n = notifier(store.url, f"http://127.0.0.1:{port}/hook",
                     clock=Clock(store.steps[0].recorded_at), log=log, attempts=2)
        n.poll()
        store.done("R-6")
        assert len(n.poll()) == 1
    said = [(line["notify"], line["error"]) for line in log_lines(log)
            if line["notify"] in ("retrying", "failed")]
    assert said == [("retrying", "ConnectError"), ("failed", "ConnectError")]


class socket_closed:
    """A loopback port nobody listens on."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        pass


def test_a_receiver_that_hangs_times_out(store, receiver, notifier):
    r = receiver(hang=True)
    log = io.StringIO()
    n = notifier(store.url, r.url, clock=Clock(store.steps[0].recorded_at), log=log,
                 timeout=0.3, attempts=2)
    n.poll()
    store.done("R-6")
    started = time.monotonic()
    assert len(n.poll()) == 1
    assert time.monotonic() - started < 5
    assert [(line["notify"], line["error"]) for line in log_lines(log)
            if line["notify"] in ("retrying", "failed")] == [
        ("retrying", "ReadTimeout"), ("failed", "ReadTimeout")]


def test_every_url_gets_every_event(store, receiver, notifier):
    one, two = receiver(), receiver(500)
    n = notifier(store.url, one.url, two.url, clock=Clock(store.steps[0].recorded_at))
    n.poll()
    store.done("R-6")
    n.poll()
    assert len(one.got) == 1 and len(two.got) == 2
    assert one.got[0][2] == two.got[-1][2]


def test_a_practice_may_have_its_own_receiver(store, receiver, notifier):
    # A second practice in the same store, with its own steps.
    backend = SqliteBackend(str(store.db), "second")
    try:
        app = Shsync(backend, Actor.operator("test"))
        app.seed(SNAPSHOT)
        app.apply(app.plan(ORG).plan)
    finally:
        backend.close()
    everyone, ours, theirs = receiver(), receiver(), receiver()
    clock = Clock(later(store.first_due("narrows"), timedelta(seconds=1)))
    n = notifier(store.url, everyone.url, f"{PRACTICE}={ours.url}", f"second={theirs.url}",
                 clock=clock)
    posted = n.poll()
    practices = {e["practice"] for e in posted}
    assert practices == {PRACTICE, "second"}
    assert len(everyone.got) == len(posted)
    assert {json.loads(b)["practice"] for _, _, b in ours.got} == {PRACTICE}
    assert {json.loads(b)["practice"] for _, _, b in theirs.got} == {"second"}
    assert len(ours.got) + len(theirs.got) == len(posted)
    assert all(signed(h, b) for _, h, b in ours.got + theirs.got)


@pytest.mark.parametrize("url, said", [
    ("bad name=https://hooks.example/x", "names no practice `shsync serve` serves"),
    ("riverbend=ftp://hooks.example/x", "not a ftp: URL"),
    ("riverbend=http://10.0.0.7/x", "plain http is allowed only to loopback"),
])
def test_a_practice_receiver_is_checked_as_any_other(url, said):
    with pytest.raises(ShsyncError, match=re.escape(said)):
        notify.target(url)


def test_a_practice_receiver_is_shown_with_its_practice():
    found = notify.target("riverbend=https://hooks.example/T0/secret?x=1")
    assert (found.practice, found.shown) == ("riverbend", "riverbend=https://hooks.example/...")
    assert found.url == "https://hooks.example/T0/secret?x=1"
    # A URL whose query holds `=` is still one URL for every practice.
    assert notify.target("https://hooks.example/x?a=b").practice is None
    config = notify.settings(["https://a.example/x", "riverbend=https://a.example/x"],
                             environ={notify.SECRET_ENV: SECRET})
    assert [t.practice for t in config.targets] == [None, "riverbend"]


# --- one notifier per store ----------------------------------------------------------------------

def test_a_second_notifier_over_the_store_stands_by_and_takes_over(store, receiver, notifier):
    r = receiver()
    clock = Clock(store.steps[0].recorded_at)
    log = io.StringIO()
    first = notifier(store.url, r.url, clock=clock)
    second = notifier(store.url, r.url, clock=clock, log=log)
    assert first.poll() == [] and first.leading
    assert second.poll() == [] and not second.leading
    store.done("R-6")
    assert [e["type"] for e in first.poll()] == ["runbook.done"]
    assert second.poll() == []
    assert len(r.got) == 1  # sent once, whichever replica or worker recorded it
    first.close()  # that server stops: the other takes over, with its catch-up window
    assert [e["type"] for e in second.poll()] == ["runbook.done"]
    assert [line["notify"] for line in log_lines(log)] == ["standing-by", "leading",
                                                           "delivered"]


def test_notifiers_over_postgresql_share_one_advisory_lease(receiver, notifier):
    from tests import pg

    pg.require()
    url = pg.fresh_url(pg.new_schema("notify"), PRACTICE)
    from shsync.stores import open_backend

    backend = open_backend(url, create=True)
    try:
        app = Shsync(backend, Actor.operator("test"))
        app.seed(SNAPSHOT)
        app.apply(app.plan(ORG).plan)
        steps = backend.runbook_steps()
    finally:
        backend.close()

    r = receiver()
    due = min(s.due for s in steps if s.effect == "narrows")
    clock = Clock(later(due, timedelta(seconds=1)))
    first = notifier(url, r.url, clock=clock)
    second = notifier(url, r.url, clock=clock)
    narrows = sorted((s.label for s in steps if s.effect == "narrows"),
                     key=lambda label: int(label[2:]))
    assert overdue_ids(first.poll()) == narrows and second.poll() == []
    assert first.poll() == [] and first.leading and not second.leading  # still the one
    first.close()
    assert overdue_ids(second.poll()) == narrows and second.leading


# --- startup: refused without a secret or with a URL shsync does not post to ---------------------

def serve(tmp_path: Path, *args: str, secret: str | None = SECRET, **env: str | None):
    db = tmp_path / "refused.db"
    result = run_cli("serve", "--backend", f"sqlite:///{db}", "--port", "0", *args,
                     env={notify.SECRET_ENV: secret, notify.URL_ENV: None, **env})
    assert not db.exists()  # refused before the store is opened, nothing started
    return result


def test_notify_without_a_secret_refuses_to_start(tmp_path):
    unset = serve(tmp_path, "--notify", "http://127.0.0.1:9/hook", secret=None)
    assert unset.exit_code == 1
    assert "error[notify-secret]" in unset.stderr and "SHSYNC_NOTIFY_SECRET is not set" in \
        unset.stderr
    short = serve(tmp_path, "--notify", "http://127.0.0.1:9/hook", secret="  too-short  ")
    assert short.exit_code == 1 and "too short" in short.stderr
    assert "too-short" not in short.output + short.stderr  # the value is never shown
    from_env = serve(tmp_path, secret=None, SHSYNC_NOTIFY_URL="https://hooks.example/a")
    assert from_env.exit_code == 1 and "error[notify-secret]" in from_env.stderr


@pytest.mark.parametrize("url, said", [
    ("ftp://hooks.example/shsync", "http:// or https:// URLs only, not a ftp: URL"),
    ("file:///etc/passwd", "http:// or https:// URLs only, not a file: URL"),
    ("javascript:alert(1)", "http:// or https:// URLs only"),
    ("hooks.example/shsync", "one without a scheme"),
    ("https:///no-host", "names no host"),
    ("http://hooks.example/shsync", "plain http is allowed only to loopback"),
    ("http://10.0.0.7:8080/shsync", "plain http is allowed only to loopback"),
    ("https://user:hunter2@hooks.example/x", "carries credentials"),
    ("https://hooks.example/x#frag", "has a fragment"),
    ("https://hooks.example:99999/x", "is malformed"),
])
def test_a_url_shsync_does_not_post_to_is_refused_at_startup(tmp_path, url, said):
    result = serve(tmp_path, "--notify", url)
    assert result.exit_code == 1, result.output
    assert "error[bad-notify-url]" in result.stderr and said in result.stderr
    assert "hunter2" not in result.stderr and SECRET not in result.output + result.stderr


def test_the_url_may_come_from_the_environment_and_is_checked_the_same(tmp_path):
    result = serve(tmp_path, SHSYNC_NOTIFY_URL="https://hooks.example/a ftp://hooks.example/b")
    assert result.exit_code == 1 and "not a ftp: URL" in result.stderr


def test_what_is_accepted_and_how_it_is_shown():
    assert notify.target("https://hooks.example/services/T0/B0/XYZ").shown == \
        "https://hooks.example/..."
    assert notify.target("http://127.0.0.1:8080").shown == "http://127.0.0.1:8080/"
    assert notify.target("http://[::1]:9/x").shown.startswith("http://::1:9")
    assert notify.target("http://localhost/x").url == "http://localhost/x"
    assert notify.target("http://hooks.internal/x", allow_http=True).shown == \
        "http://hooks.internal/..."
    config = notify.settings(["https://a.example/x", "https://a.example/x"],
                             environ={notify.SECRET_ENV: SECRET})
    assert len(config.targets) == 1 and SECRET not in repr(config)
    assert "XYZ" not in repr(notify.target("https://hooks.example/services/T0/B0/XYZ"))


# --- a real server --------------------------------------------------------------------------------

def _apply_in(server) -> None:
    backend = server.store(PRACTICE)
    try:
        app = Shsync(backend, Actor.operator("test"))
        app.apply(app.plan(ORG).plan)
    finally:
        backend.close()


def test_a_real_server_posts_a_done_event_after_shsync_done(own_server, receiver):
    r = receiver()
    server, practice = own_server({notify.SECRET_ENV: SECRET},
                                  ("--notify", r.url, "--notify-interval", "0.2"))
    _apply_in(server)
    done = run_cli("done", "R-6", "R-9", "--note", "called the client",
                   "--backend", f"sqlite:///{server.db}?practice={PRACTICE}", "--actor", DANA)
    assert done.exit_code == 0, done.output + done.stderr

    def posted() -> list[tuple[dict[str, str], bytes]]:
        return [(h, b) for _, h, b in r.got if json.loads(b)["type"] == "runbook.done"]

    [(headers, body)] = wait_for(posted)
    assert signed(headers, body)
    event = json.loads(body)
    assert (event["practice"], event["by"]) == (PRACTICE, DANA)
    assert [s["id"] for s in event["steps"]] == ["R-6", "R-9"]
    assert b"called the client" not in body
    time.sleep(0.6)  # a few more polls: still once
    assert len(posted()) == 1
    log = server.log.read_text()
    assert SECRET not in log and "path-secret" not in log
    assert "shsync notifying http://127.0.0.1:" in log
    assert '"notify": "delivered"' in log


def test_with_several_workers_each_event_is_posted_once(tmp_path, receiver):
    from tests.served import start

    r = receiver()
    server = start(tmp_path, env={notify.SECRET_ENV: SECRET},
                   args=("--workers", "3", "--notify", r.url, "--notify-interval", "0.2"))
    try:
        seeded(server, PRACTICE)
        _apply_in(server)
        assert run_cli("done", "R-6", "--backend", f"sqlite:///{server.db}?practice={PRACTICE}"
                       ).exit_code == 0
        wait_for(lambda: [e for e in r.events() if e["type"] == "runbook.done"])
        time.sleep(1)  # five more polls, in whichever process polls
        assert len([e for e in r.events() if e["type"] == "runbook.done"]) == 1
    finally:
        server.stop()


def test_a_receiver_that_hangs_does_not_stop_the_server(own_server, receiver):
    r = receiver(hang=True)
    server, practice = own_server({notify.SECRET_ENV: SECRET},
                                  ("--notify", r.url, "--notify-interval", "0.2",
                                   "--notify-timeout", "1", "--notify-attempts", "2"))
    _apply_in(server)
    assert run_cli("done", "R-6", "--backend", f"sqlite:///{server.db}?practice={PRACTICE}"
                   ).exit_code == 0
    wait_for(lambda: r.got)  # the notifier is waiting for the receiver now
    with practice.as_member(DANA, "read") as client:
        for _ in range(5):
            started = time.monotonic()
            assert httpx.get(server.base + "/healthz", timeout=5).status_code == 200
            assert client.get("/whoami").status_code == 200
            assert time.monotonic() - started < 1
    wait_for(lambda: '"notify": "failed"' in server.log.read_text(), 20)
    failed = [json.loads(line) for line in server.log.read_text().splitlines()
              if '"notify": "failed"' in line]
    assert failed[0]["error"] == "ReadTimeout" and failed[0]["attempt"] == 2
    assert server.process.poll() is None
    started = time.monotonic()
    server.stop()
    assert server.process.returncode in (0, -15) and time.monotonic() - started < 10

"""`shsync serve --notify URL`: a signed JSON event when a runbook step becomes overdue, and
when steps are done or observed (issue #25).

A `Notifier` looks at the store every `interval` seconds, on a thread of its own in the
`shsync serve` process (with `--workers N`, the supervisor: one notifier per command, never one
per worker), and posts what it finds to every URL:

- `runbook.overdue`, once per step: a pending step whose deadline passed since the last look.
  What was announced is derived from the store and a clock watermark, not kept anywhere: a
  step is announced when `previous look <= due < now`. On start (and on taking over from
  another server) the previous look is taken to be `catch_up` ago, so a restart re-sends at most
  the steps that became overdue in that window, and a server down for less than it misses none.
- `runbook.done` / `runbook.observed`, one per audit entry of that kind (`shsync done`, the
  server's done endpoint, a refresh that saw steps carried out): read from the audit log after
  the entry last looked at (on start: the entries written in the last `catch_up`). Whichever
  process or replica wrote the entry, it is in the log, so one notifier sees them all.

One notifier sends at a time per store: a notifier first takes a lease held by the store's side
(a PostgreSQL session advisory lock; for SQLite, an exclusive `flock` on `PATH.notify-lock`
beside the file), and a second `shsync serve --notify` over the same store stands by, and takes
over (with its catch-up window) when the first stops.

Events carry no PHI: step ids, audit entry numbers, the practice's name in the store, what
kind of operations a step carries out, its effect, times and state, members by email and
clients by id. A step's text (the Sessions Health screen and control) is left out: it holds a
new member's first and last name, and a note to `shsync done` is free text. Each POST carries
`X-Shsync-Signature: sha256=HEX`, the HMAC-SHA256 of the exact body bytes keyed with
SHSYNC_NOTIFY_SECRET. A delivery is tried `attempts` times on a network error, a timeout, a 429
or a 5xx, with backoff; a redirect is not followed; then the failure is logged (a JSON line on
standard error, as the request logs) and the server carries on. docs/server.md#notifications
says all of this for operators.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol, TextIO, cast
from urllib.parse import parse_qsl, urlsplit

import httpx

from shsync import __version__
from shsync.core.entry import AuditEntry
from shsync.core.runbook import Step, label, parse_label
from shsync.core.tokens import PRACTICE_NAME
from shsync.errors import ShsyncError, UserError
from shsync.model.clock import later, now as planning_now, now_real
from shsync.render.escape import shown, visible
from shsync.server.handles import Handles
from shsync.stores import open_backend
from shsync.stores.url import is_loopback, parse_sqlite

__all__ = ["Notifier", "Running", "Settings", "Target", "judge_now", "settings", "sign",
           "start", "target"]

URL_ENV = "SHSYNC_NOTIFY_URL"
SECRET_ENV = "SHSYNC_NOTIFY_SECRET"
SIGNATURE_HEADER = "X-Shsync-Signature"
EVENT_HEADER = "X-Shsync-Event"
DELIVERY_HEADER = "X-Shsync-Delivery"
FORMAT = 1  # the event format's version (`format` in every event)
MIN_SECRET = 16  # characters
MAX_BACKOFF = 30.0  # seconds between two attempts, at most
CONFIRMATIONS = ("done", "observed")  # the audit entry kinds that confirm steps


# --- settings, checked before the server starts ------------------------------------------------

@dataclass(frozen=True)
class Target:
    """A URL events are posted to. `shown` is what logs and messages say: scheme, host and
    port, never the path or query (a webhook's path is often its secret)."""

    url: str = field(repr=False)
    shown: str
    practice: str | None = None  # only this practice's events; None: every practice's

    def takes(self, event: Mapping[str, Any]) -> bool:
        return self.practice is None or self.practice == event.get("practice")


# `PRACTICE=URL`: a practice's own receiver, named as `shsync serve` serves it. A name holds no
# `:`, and a URL's own `=` comes after its `://`, so the two cannot be confused.
_FOR_PRACTICE = re.compile(f"({PRACTICE_NAME.pattern})=(.*)", re.S)


def target(url: str, *, allow_http: bool = False) -> Target:
    """A --notify URL, checked: http(s) only, a host, no credentials or fragment in it, and
    plain http only to loopback unless `allow_http`; `PRACTICE=URL` posts only that practice's
    events there. UserError `bad-notify-url` otherwise."""
    practice = None
    named = _FOR_PRACTICE.fullmatch(url.strip())
    if named is not None:
        practice, url = named.group(1), named.group(2)
    elif "=" in url.partition("://")[0]:
        raise UserError("a --notify PRACTICE=URL names no practice `shsync serve` serves (1-100 "
                        "letters, digits, '.', '_' or '-', first a letter or digit)",
                        "bad-notify-url")
    checked = _checked(url, allow_http)
    if practice is None:
        return checked
    return Target(checked.url, f"{shown(practice, 60)}={checked.shown}", practice)


def _checked(url: str, allow_http: bool) -> Target:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise UserError("a --notify URL is malformed (not shown)", "bad-notify-url") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        what = f"a {shown(scheme, 20)}: URL" if scheme else "one without a scheme"
        raise UserError(f"--notify takes http:// or https:// URLs only, not {what}",
                        "bad-notify-url")
    host = parts.hostname or ""
    if not host:
        raise UserError(f"a --notify URL names no host ({scheme}://...)", "bad-notify-url")
    seen = f"{scheme}://{shown(host, 100)}" + (f":{port}" if port is not None else "")
    if parts.username is not None or parts.password is not None:
        raise UserError(f"the --notify URL {seen}/... carries credentials: the receiver checks "
                        f"the {SIGNATURE_HEADER} header instead", "bad-notify-url")
    if parts.fragment:
        raise UserError(f"the --notify URL {seen}/... has a fragment (#...), which is never "
                        "sent", "bad-notify-url")
    if scheme == "http" and not allow_http and not is_loopback(host):
        raise UserError(f"{seen}: plain http is allowed only to loopback (127.0.0.1, ::1, "
                        "localhost); use https, or --notify-allow-http", "bad-notify-url")
    rest = parts.path not in ("", "/") or parts.query
    return Target(url.strip(), seen + ("/..." if rest else "/"))


def secret(environ: Mapping[str, str] | None = None) -> bytes:
    """The signing secret from SHSYNC_NOTIFY_SECRET (surrounding whitespace is not part of it);
    UserError `notify-secret` when it is unset or shorter than MIN_SECRET. Never shown."""
    value = (os.environ if environ is None else environ).get(SECRET_ENV, "").strip()
    if len(value) < MIN_SECRET:
        why = "is not set" if not value else "is too short"
        raise UserError(f"--notify signs every event: {SECRET_ENV} {why}. Set it to a secret of "
                        f"at least {MIN_SECRET} characters that the receiver shares (the value "
                        "is never shown)", "notify-secret")
    return value.encode("utf-8")


@dataclass(frozen=True)
class Settings:
    targets: tuple[Target, ...]
    secret: bytes = field(repr=False)
    interval: float = 60.0  # seconds between two looks at the store
    timeout: float = 10.0  # seconds, for each phase of each request (connect, write, read)
    attempts: int = 4  # tries per event and URL
    backoff: float = 1.0  # seconds before the second try, doubling each time
    catch_up: timedelta = timedelta(hours=1)


def settings(urls: Iterable[str], *, allow_http: bool = False,
             environ: Mapping[str, str] | None = None, **options: Any) -> Settings:
    """Settings from --notify URLs and the environment, every URL checked before the secret."""
    found: dict[str, Target] = {}
    for url in urls:
        checked = target(url, allow_http=allow_http)
        found.setdefault(f"{checked.practice or ''}={checked.url}", checked)
    if not found:
        raise UserError("--notify needs a URL", "bad-notify-url")
    return Settings(tuple(found.values()), secret(environ), **options)


def sign(key: bytes, body: bytes) -> str:
    """The signature header's value: `sha256=` and the HMAC-SHA256 of the body, in hex."""
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def judge_now() -> str:
    """The time deadlines are judged by, as `shsync runbook` judges them: the real clock, or a
    later SHSYNC_NOW."""
    return max(planning_now(), now_real())


# --- events ------------------------------------------------------------------------------------

def step_summary(step: Step) -> dict[str, Any]:
    """What an event says of a step: no text, no note, no access rows."""
    out: dict[str, Any] = {
        "id": step.label, "entry": step.entry, "actions": list(step.actions),
        "member": step.member, "client": step.client, "effect": step.effect,
        "recorded_at": step.recorded_at, "due": step.due, "waits_for": step.waits_for,
        "state": step.state, "by": step.by, "at": step.at, "confirmed_in": step.confirmed_in}
    if step.state != "pending":
        out["late"] = step.at is not None and step.at > step.due
    return out


def overdue_event(practice: str, step: Step, now: str) -> dict[str, Any]:
    return {"format": FORMAT, "type": "runbook.overdue", "id": f"{practice}/{step.label}/overdue",
            "practice": practice, "at": now, "steps": [step_summary(step)]}


def confirmed_event(practice: str, entry: AuditEntry, steps: Mapping[int, Step]
                    ) -> dict[str, Any]:
    listed = entry.details.get("steps")
    named = [parse_label(str(t)) for t in (listed if isinstance(listed, list) else [])]
    found = [step_summary(steps[i]) if i in steps else {"id": label(i)}
             for i in named if i is not None]
    return {"format": FORMAT, "type": f"runbook.{entry.kind}",
            "id": f"{practice}/entry/{entry.seq}", "practice": practice, "entry": entry.seq,
            "by": entry.actor, "at": entry.written_at or entry.at, "steps": found}


def body_of(event: Mapping[str, Any]) -> bytes:
    """The exact bytes posted (and signed): compact JSON, keys sorted, ASCII."""
    return json.dumps(event, sort_keys=True, separators=(",", ":")).encode("ascii")


# --- logging and delivery ----------------------------------------------------------------------

class Log:
    """JSON lines on standard error, like the request logs: never the secret, a URL's path or a
    body."""

    def __init__(self, stream: TextIO | None = None):
        self._stream = stream
        self._lock = threading.Lock()

    def __call__(self, level: str, what: str, **fields: Any) -> None:
        line = {"ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "level": level,
                "notify": what, **fields}
        stream = self._stream if self._stream is not None else sys.stderr
        with self._lock:
            try:
                stream.write(json.dumps(line) + "\n")
                stream.flush()
            except (OSError, ValueError):
                pass  # a closed log never stops the notifier


class Sender:
    """Posts one event to every target, each with its retries; never raises for the network."""

    def __init__(self, config: Settings, *, transport: httpx.BaseTransport | None = None,
                 log: Log | None = None, stop: threading.Event | None = None):
        self.settings = config
        self._log = log or Log()
        self._stop = stop or threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(config.timeout),
                                    follow_redirects=False, transport=transport,
                                    headers={"User-Agent": f"shsync-notify/{__version__}"})

    def send(self, event: Mapping[str, Any]) -> bool:
        """True when every target took the event (a 2xx)."""
        body = body_of(event)
        headers = {"Content-Type": "application/json",
                   SIGNATURE_HEADER: sign(self.settings.secret, body),
                   EVENT_HEADER: str(event["type"]), DELIVERY_HEADER: str(event["id"])}
        return all([self._post(t, event, body, headers) for t in self.settings.targets
                    if t.takes(event)])

    def _post(self, to: Target, event: Mapping[str, Any], body: bytes,
              headers: dict[str, str]) -> bool:
        about = {"event": event["type"], "delivery": event["id"], "target": to.shown}
        for attempt in range(1, self.settings.attempts + 1):
            status: int | None = None
            try:
                answer = self._client.post(to.url, content=body, headers=headers)
            except httpx.HTTPError as exc:  # no answer: refused, reset, a timeout
                why = type(exc).__name__
                again = True
            else:
                status = answer.status_code
                if 200 <= status < 300:
                    self._log("info", "delivered", **about, attempt=attempt, status=status)
                    return True
                why = "redirect (not followed)" if 300 <= status < 400 else f"status {status}"
                again = status >= 500 or status == 429
            if not again or attempt == self.settings.attempts:
                self._log("error", "failed", **about, attempt=attempt, status=status, error=why)
                return False
            self._log("warning", "retrying", **about, attempt=attempt, status=status, error=why)
            wait = min(self.settings.backoff * 2 ** (attempt - 1), MAX_BACKOFF)
            if self._stop.wait(wait):
                self._log("error", "failed", **about, attempt=attempt, status=status,
                          error=f"{why}; the server is stopping")
                return False
        return False  # attempts is at least 1: not reached

    def close(self) -> None:
        self._client.close()


# --- one notifier per store --------------------------------------------------------------------

class _Rows(Protocol):
    """The SQL stores' own rows, read where the store contract has no call for it yet: the names
    of the practices a store holds, and PostgreSQL's advisory lock (read-only, in a snapshot)."""

    def _snapshot(self) -> Any: ...
    def _query(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]: ...
    def close(self) -> None: ...


class Lease(Protocol):
    """Which of the notifiers over one store sends: the one holding the lease."""

    @property
    def holding(self) -> bool: ...
    def take(self, store: _Rows) -> bool: ...
    def connection_closed(self) -> None: ...
    def release(self) -> None: ...


class FileLease:
    """SQLite: an exclusive flock on a file beside the store, held while the notifier lives
    (a SQLite store is one machine's: docs/server.md)."""

    def __init__(self, path: str):
        self.path = path
        self._fd: int | None = None

    @property
    def holding(self) -> bool:
        return self._fd is not None

    def take(self, store: _Rows) -> bool:
        if self._fd is not None:
            return True
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def connection_closed(self) -> None:
        pass  # the file lock does not depend on the store's connection

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # the flock goes with the last descriptor
            self._fd = None


class AdvisoryLease:
    """PostgreSQL: a session advisory lock on the notifier's own connection; the database drops
    it when that connection ends, however the process ends, and another notifier takes it."""

    def __init__(self, key: int):
        self.key = key
        self._on: _Rows | None = None  # the connection that holds it

    @property
    def holding(self) -> bool:
        return self._on is not None

    def take(self, store: _Rows) -> bool:
        with store._snapshot():
            got = bool(store._query("SELECT pg_try_advisory_lock(?)", (self.key,))[0][0])
            if got and self._on is store:  # held already by this session: the count stays 1
                store._query("SELECT pg_advisory_unlock(?)", (self.key,))
        self._on = store if got else None
        return got

    def connection_closed(self) -> None:
        self._on = None  # and the lock with it

    def release(self) -> None:
        # Unlocked here, not only by closing the connection: the database ends a closed
        # session's backend (and frees its locks) a moment after the client has returned, so
        # a notifier standing by could look in that moment and stay standing by a whole poll.
        on, self._on = self._on, None
        if on is not None:
            try:
                with on._snapshot():
                    on._query("SELECT pg_advisory_unlock(?)", (self.key,))
            except Exception:  # noqa: BLE001 - a broken connection has dropped the lock anyway
                pass


def _lease_for(url: str) -> Lease:
    if url.startswith("sqlite:"):
        return FileLease(parse_sqlite(url).path + ".notify-lock")
    schema = next((v for k, v in parse_qsl(urlsplit(url).query) if k == "schema"), "")
    key = int.from_bytes(hashlib.sha256(f"shsync-notify:{schema}".encode()).digest()[:8],
                         "big", signed=True)
    return AdvisoryLease(key)


@dataclass
class _Seen:
    checked: str  # the deadline clock at the last look: steps due before it were announced
    seq: int  # the last audit entry looked at
    era: int  # the lease taken when it was looked at


class Notifier:
    """One store's events (every practice in it), a `poll` at a time.

    `clock` is the time deadlines are judged by (an instant, `2026-11-26T12:00:00Z`); `wall`,
    the real time that audit entries' `written_at` (the store's clock) is compared with when
    catching up. The tests pass fake ones of both."""

    def __init__(self, url: str, config: Settings, *, clock: Callable[[], str] = judge_now,
                 wall: Callable[[], str] = now_real,
                 transport: httpx.BaseTransport | None = None, log: TextIO | None = None,
                 stop: threading.Event | None = None, lock_timeout: float = 60.0):
        self.url, self.settings, self.clock, self.wall = url, config, clock, wall
        self.stop = stop or threading.Event()
        self.log = Log(log)
        self.sender = Sender(config, transport=transport, log=self.log, stop=self.stop)
        self._lock_timeout = lock_timeout
        self._handles = Handles(url, lock_timeout)
        self._lease = _lease_for(url)
        self._catalog: _Rows | None = None
        self._era = 0  # how many times this notifier took the lease
        self._since: str | None = None  # while it holds it: the catch-up window's start
        self._entries_since = ""  # the same, by the store's clock
        self._standing_by = False
        self._seen: dict[str, _Seen] = {}

    @property
    def leading(self) -> bool:
        return self._since is not None

    def poll(self) -> list[dict[str, Any]]:
        """One look at the store: the events it posted (delivered or not, each logged)."""
        now = self.clock()
        try:
            if self._catalog is None:
                self._catalog = cast(_Rows, open_backend(self.url, self._lock_timeout,
                                                         create=True))
            held = self._lease.take(self._catalog)
            names = _practices(self._catalog) if held else []
        except (ShsyncError, OSError) as exc:
            self._drop_catalog()
            if not self._lease.holding:
                self._since = None
            self.log("error", "store", error=_said(exc))
            return []
        if not held:
            if not self._standing_by:
                self.log("info", "standing-by", reason="another shsync serve --notify holds "
                         "this store's notifications")
            self._since, self._standing_by = None, True
            return []
        self._standing_by = False
        if self._since is None:
            self._era += 1
            self._since = later(now, -self.settings.catch_up)
            self._entries_since = later(self.wall(), -self.settings.catch_up)
            self.log("info", "leading", catch_up_from=self._since)
        sent: list[dict[str, Any]] = []
        for name in names:
            if self.stop.is_set():
                break
            try:
                events = self._look(name, now)
            except ShsyncError as exc:
                self.log("error", "store", practice=name, error=_said(exc))
                continue
            for event in events:
                self.sender.send(event)
                sent.append(event)
        return sent

    def _look(self, practice: str, now: str) -> list[dict[str, Any]]:
        """The events of one practice since the last look; its watermark moved past them.

        Overdue: the pending steps with `since <= due < now`, `since` the last look's clock (on
        the first look since the lease was taken, at most `catch_up` before it). Confirmed: the
        done and observed entries after the last one looked at (on the first look since the
        lease was taken, only those written in the catch-up window)."""
        assert self._since is not None
        seen = self._seen.get(practice)
        catching_up = seen is None or seen.era != self._era
        since = self._since if seen is None else max(seen.checked, self._since)
        last = seen.seq if seen is not None else 0
        with self._handles.practice(practice, cached=False) as store:
            head = cast(Any, store).head()  # one small query; the log is read when it moved
            events = [overdue_event(practice, s, now)
                      for s in store.runbook_steps(pending_only=True) if since <= s.due < now]
            if head is not None and head[0] != last:
                entries = store.history()
                new = [e for e in entries if e.seq > last and (
                    not catching_up or (e.written_at or e.at) >= self._entries_since)]
                last = entries[-1].seq if entries else 0
                confirms = [e for e in new if e.kind in CONFIRMATIONS]
                if confirms:
                    steps = {s.id: s for s in store.runbook_steps()}
                    events += [confirmed_event(practice, e, steps) for e in confirms]
        self._seen[practice] = _Seen(max(now, since), last, self._era)
        return events

    def _drop_catalog(self) -> None:
        if self._catalog is not None:
            try:
                self._catalog.close()
            except Exception:  # noqa: BLE001 - a broken connection may fail to close
                pass
            self._catalog = None
            self._lease.connection_closed()

    def close(self) -> None:
        self.sender.close()
        self._handles.close()
        self._lease.release()
        self._drop_catalog()


def _practices(store: _Rows) -> list[str]:
    """Every practice the store holds whose name a server answers for."""
    with store._snapshot():
        rows = store._query("SELECT practice FROM practices ORDER BY practice")
    return [str(r[0]) for r in rows if PRACTICE_NAME.fullmatch(str(r[0]))]


def _said(exc: BaseException) -> str:
    return visible(f"{type(exc).__name__}: {exc}")[:300]


class Running:
    """A notifier on a thread of its own, polling every `interval` seconds until `stop`."""

    def __init__(self, notifier: Notifier):
        self.notifier = notifier
        self.thread = threading.Thread(target=self._loop, name="shsync-notify", daemon=True)

    def _loop(self) -> None:
        stop = self.notifier.stop
        try:
            while not stop.is_set():
                try:
                    self.notifier.poll()
                except Exception as exc:  # noqa: BLE001 - a bug here never stops the server
                    self.notifier.log("error", "poll", error=_said(exc))
                stop.wait(self.notifier.settings.interval)
        finally:
            self.notifier.close()

    def stop(self, timeout: float | None = None) -> None:
        self.notifier.stop.set()
        self.thread.join(timeout)


def start(url: str, config: Settings, *, lock_timeout: float = 60.0,
          log: TextIO | None = None) -> Running:
    running = Running(Notifier(url, config, log=log, lock_timeout=lock_timeout))
    running.thread.start()
    return running

"""A real headless Chromium driven over the DevTools protocol, through a pipe.

Chromium is found (or required) as for the access review's browser test
(tests/render/test_report_browser.py): Debian's `chromium`, skipped with the reason when it is
missing, failing instead where CI=true or SHSYNC_REQUIRE_CHROMIUM=1. It is started as that test
starts it, plus `--remote-debugging-pipe`: commands go in on file descriptor 3 and answers and
events come out on 4, each a JSON message ended by a NUL byte. No port, no websocket library
and no browser download: only the standard library and the system's Chromium.

The page is driven as a person drives it: clicks are mouse events at an element's place on the
screen, typing is text inserted where the focus is, Enter is a key press.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests import browser

WIDTH, HEIGHT = 1000, 1200


def chromium() -> str:
    return browser.chromium("the browser test of the runbook checklist page")


class BrowserError(AssertionError):
    pass


class Browser:
    """One Chromium with one page. `events` holds every event it sent, in order."""

    def __init__(self, profile: Path, timeout: float = 20.0):
        self.timeout = timeout
        self.events: list[dict[str, Any]] = []
        self._next = 0
        self._buffer = b""
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # Above the numbers the child is given (3, 4), so no redirection overwrites another.
        low = [to_chrome_r, from_chrome_w]
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in low]
        for fd in low:
            os.close(fd)
        command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                   "--hide-scrollbars", "--no-first-run", "--no-default-browser-check",
                   "--disable-extensions", "--disable-background-networking",
                   "--disable-component-update", "--disable-sync", "--remote-debugging-pipe",
                   f"--user-data-dir={profile}", f"--window-size={WIDTH},{HEIGHT}",
                   "about:blank"]
        self.process = subprocess.Popen(
            # bash, not sh: dash takes no descriptor above 9 in a redirection
            ["bash", "-c", f'exec "$@" 3<&{high[0]} 4>&{high[1]} {high[0]}<&- {high[1]}>&-',
             "bash", *command], pass_fds=tuple(high), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for fd in high:
            os.close(fd)
        try:
            targets = self.send("Target.getTargets")["targetInfos"]
            page = next(t for t in targets if t["type"] == "page")
            self.session = self.send("Target.attachToTarget", targetId=page["targetId"],
                                     flatten=True)["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                self.call(f"{domain}.enable")
        except BaseException:
            self.close()
            raise

    # --- the protocol -------------------------------------------------------------------------
    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._next += 1
        ask = self._next
        message: dict[str, Any] = {"id": ask, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            got = self._receive(deadline, method)
            if got.get("id") == ask:
                if "error" in got:
                    raise BrowserError(f"{method}: {got['error']}")
                return got.get("result", {})
            if "method" in got:
                self.events.append(got)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """A command to the page's own session."""
        return self.send(method, self.session, **params)

    def _receive(self, deadline: float, waiting_for: str) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._from_chrome], [], [], max(left, 0))
            if not ready:
                raise BrowserError(f"Chromium did not answer {waiting_for} within "
                                   f"{self.timeout} s")
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                raise BrowserError(f"Chromium stopped: {self._stderr()}")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def _stderr(self) -> str:
        self.process.kill()
        _, err = self.process.communicate(timeout=10)
        return err.decode(errors="replace")[-2000:]

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.send("Browser.close")
            except (BrowserError, OSError):
                pass
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr is not None:
            self.process.stderr.close()
        for fd in (self._to_chrome, self._from_chrome):
            try:
                os.close(fd)
            except OSError:
                pass

    # --- the page -----------------------------------------------------------------------------
    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (a promise is awaited)."""
        found = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                          awaitPromise=True)
        if "exceptionDetails" in found:
            raise BrowserError(f"{expression[:200]}: {found['exceptionDetails']}")
        return found["result"].get("value")

    def goto(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete' && location.href === "
                      + json.dumps(url))

    def wait_for(self, expression: str, timeout: float | None = None) -> Any:
        """Poll until the expression is truthy; its value."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"still false after {timeout or self.timeout} s: "
                                   f"{expression}")
            time.sleep(0.05)

    def click(self, selector: str) -> None:
        """A left click with the mouse at the middle of the element."""
        x, y = self.evaluate(f"""(() => {{
            const e = document.querySelector({json.dumps(selector)});
            if (!e) throw new Error("no element " + {json.dumps(selector)});
            e.scrollIntoView({{block: "center"}});
            const r = e.getBoundingClientRect();
            return [r.x + r.width / 2, r.y + r.height / 2];
        }})()""")
        self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left",
                      clickCount=1)

    def type(self, selector: str, text: str) -> None:
        """Click into the field, then type `text` into it."""
        self.click(selector)
        self.call("Input.insertText", text=text)

    def press_enter(self) -> None:
        self.call("Input.dispatchKeyEvent", type="keyDown", key="Enter", code="Enter",
                  windowsVirtualKeyCode=13, text="\r")
        self.call("Input.dispatchKeyEvent", type="keyUp", key="Enter", code="Enter",
                  windowsVirtualKeyCode=13)

    # --- what happened ------------------------------------------------------------------------
    def requests(self) -> list[dict[str, Any]]:
        """Every request the page sent: its URL, method and headers."""
        return [e["params"]["request"] for e in self.events
                if e["method"] == "Network.requestWillBeSent"]

    def complaints(self) -> list[str]:
        """What the page logged as an error or warning, and every uncaught exception."""
        found = []
        for e in self.events:
            p = e["params"]
            if e["method"] == "Runtime.exceptionThrown":
                found.append(f"exception: {p['exceptionDetails']}")
            elif e["method"] == "Runtime.consoleAPICalled" and p["type"] in ("error", "warning",
                                                                              "assert"):
                found.append(f"console.{p['type']}: {p['args']}")
            elif e["method"] == "Log.entryAdded" and p["entry"]["level"] in ("error",
                                                                               "warning"):
                entry = p["entry"]
                found.append(f"log {entry['source']}: {entry['text']} {entry.get('url', '')}")
        return found

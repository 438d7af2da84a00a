"""Request logs (JSON lines) and Prometheus metrics, as one ASGI middleware.

Each request is one log line: `request_id`, `method`, `path` (without its query string, so a
client id asked for in `?client=` is not logged), `status`, `actor` (the token's identity, once
known) and `duration_ms`. Never a header, a body or a token. Metrics count requests by route
template (`/practices/{practice}/access`), never by practice name or id.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TextIO

from shsync.render.escape import visible

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.buckets: dict[str, list[int]] = defaultdict(lambda: [0] * (len(BUCKETS) + 1))
        self.sums: dict[str, float] = defaultdict(float)
        self.in_flight = 0

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, status)] += 1
            counts = self.buckets[route]
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    counts[i] += 1
            counts[-1] += 1
            self.sums[route] += seconds

    def text(self) -> str:
        """The Prometheus text exposition format (version 0.0.4)."""
        lines = ["# HELP shsync_http_requests_total Requests answered, by route and status.",
                 "# TYPE shsync_http_requests_total counter"]
        with self._lock:
            for (method, route, status), count in sorted(self.requests.items()):
                lines.append(f'shsync_http_requests_total{{method="{method}",route="{route}",'
                             f'status="{status}"}} {count}')
            lines += ["# HELP shsync_http_request_duration_seconds Time to answer, by route.",
                      "# TYPE shsync_http_request_duration_seconds histogram"]
            for route, counts in sorted(self.buckets.items()):
                for bound, count in zip((*BUCKETS, "+Inf"), counts, strict=True):
                    lines.append(f'shsync_http_request_duration_seconds_bucket{{route="{route}",'
                                 f'le="{bound}"}} {count}')
                lines.append(f'shsync_http_request_duration_seconds_sum{{route="{route}"}} '
                             f"{self.sums[route]:.6f}")
                lines.append(f'shsync_http_request_duration_seconds_count{{route="{route}"}} '
                             f"{counts[-1]}")
            lines += ["# HELP shsync_http_requests_in_flight Requests being answered now.",
                      "# TYPE shsync_http_requests_in_flight gauge",
                      f"shsync_http_requests_in_flight {self.in_flight}"]
        return "\n".join(lines) + "\n"


class JsonLines(logging.Formatter):
    """uvicorn's own messages (a malformed request, a worker started) as JSON lines too, cut
    and escaped like the request lines, so the log stays one JSON object a line."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps({"ts": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                               time.gmtime(record.created)),
                           "level": record.levelname.lower(),
                           "message": _bounded(visible(record.getMessage()))})


# uvicorn's logging, every line through JsonLines (`uvicorn.run(log_config=...)`)
LOG_CONFIG: dict[str, Any] = {
    "version": 1, "disable_existing_loggers": False,
    "formatters": {"json": {"()": f"{__name__}.JsonLines"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json",
                            "stream": "ext://sys.stderr"}},
    "loggers": {name: {"handlers": ["stderr"], "level": "WARNING", "propagate": False}
                for name in ("uvicorn", "uvicorn.error", "uvicorn.access")}}

PATH_LIMIT = 300  # a log line per request stays a line, whatever path a caller sends


def _bounded(path: str) -> str:
    return path if len(path) <= PATH_LIMIT else f"{path[:PATH_LIMIT]}...({len(path):,} chars)"


class Telemetry:
    """The middleware: a request id on every response, a log line and metrics per request."""

    def __init__(self, app: ASGIApp, metrics: Metrics, log: TextIO | None = None):
        self.app = app
        self.metrics = metrics
        self.log = log or sys.stderr

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or ()).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append(
                    (b"x-request-id", request_id.encode("latin-1")))
            await send(message)

        self.metrics.in_flight += 1
        try:
            await self.app(scope, receive, sending)
        finally:
            self.metrics.in_flight -= 1
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.observe(scope["method"], route, status, seconds)
            line = {"ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "request_id": request_id, "method": scope["method"],
                    "path": _bounded(scope.get("path", "")), "status": status,
                    "actor": scope["state"].get("actor"),
                    "duration_ms": round(seconds * 1000, 2)}
            try:
                self.log.write(json.dumps(line) + "\n")
                self.log.flush()
            except (OSError, ValueError):
                pass  # a closed log never fails a request

"""`shsync serve`: the practice store as an HTTP service (issue #13).

Another face over the same application object as the command line (`shsync.jobs.app.Shsync`):
`api` builds one per request from the bearer token's identity and the server's clock, and
calls it. FastAPI and uvicorn are imported only by `shsync serve` and by this package.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from shsync.stores import open_backend
from shsync.errors import UserError

__all__ = ["run"]

# How a worker process (`--workers N`) learns what to serve: uvicorn starts each worker afresh
# and imports its application by name, so the store's URL travels in the environment (never on
# a command line, where `ps` would show a password in it).
WORKER_SETTINGS = "SHSYNC_SERVE_WORKER"


def run(url: str, host: str, port: int, *, lock_timeout: float = 60.0, workers: int = 1,
        ready: Callable[[], None] = lambda: None) -> None:
    """Serve until SIGINT or SIGTERM; in-flight requests finish first (uvicorn's graceful
    shutdown), and an apply cut short by a harder stop rolls back whole in the store. With
    `workers` above 1, that many processes share the port (uvicorn's supervisor passes SIGTERM
    on to each, and each finishes its own requests first)."""
    import uvicorn

    gc.enable()  # a long-lived process: the `shsync` command turned the collector off
    if url.startswith(("http://", "https://")):
        raise UserError("shsync serve keeps a store itself: --backend sqlite:///PATH or "
                        "postgresql://..., not another server", "usage")
    open_backend(url, lock_timeout, create=True).close()  # the store is there, and current
    ready()
    from shsync.server.telemetry import LOG_CONFIG

    options: dict[str, Any] = dict(host=host, port=port, access_log=False, log_level="warning",
                                   timeout_graceful_shutdown=60, server_header=False,
                                   log_config=LOG_CONFIG)
    if workers > 1:
        os.environ[WORKER_SETTINGS] = json.dumps({"url": url, "lock_timeout": lock_timeout})
        uvicorn.run("shsync.server:worker_app", factory=True, workers=workers, **options)
        return
    from shsync.server.api import create_app
    from shsync.server.telemetry import Telemetry

    api = create_app(url, lock_timeout=lock_timeout)
    wrapped = Telemetry(api, api.state.metrics, sys.stderr)
    try:
        uvicorn.run(wrapped, **options)
    finally:
        api.state.handles.close()


def worker_app() -> Any:
    """One worker process's application (`--workers N`), as `run` describes it."""
    from shsync.server.api import create_app
    from shsync.server.telemetry import Telemetry

    settings = json.loads(os.environ[WORKER_SETTINGS])
    api = create_app(settings["url"], lock_timeout=settings["lock_timeout"])
    return Telemetry(api, api.state.metrics, sys.stderr)

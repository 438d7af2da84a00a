"""`shsync serve`: the practice store as an HTTP service (issue #13).

Another face over the same application object as the command line (`shsync.app.Shsync`):
`api` builds one per request from the bearer token's identity and the server's clock, and
calls it. FastAPI and uvicorn are imported only by `shsync serve` and by this package.
"""

from __future__ import annotations

import sys

from shsync.backends import open_backend
from shsync.errors import UserError

__all__ = ["run"]


def run(url: str, host: str, port: int, *, lock_timeout: float = 60.0) -> None:
    """Serve until SIGINT or SIGTERM; in-flight requests finish first (uvicorn's graceful
    shutdown), and an apply cut short by a harder stop rolls back whole in the store."""
    import uvicorn

    from shsync.server.api import create_app

    if url.startswith(("http://", "https://")):
        raise UserError("shsync serve keeps a store itself: --backend sqlite:///PATH or "
                        "postgresql://..., not another server", "usage")
    open_backend(url, lock_timeout, create=True).close()  # the store is there, and current
    api = create_app(url, lock_timeout=lock_timeout)
    from shsync.server.telemetry import Telemetry

    wrapped = Telemetry(api, api.state.metrics, sys.stderr)
    try:
        uvicorn.run(wrapped, host=host, port=port, access_log=False, log_level="warning",
                    timeout_graceful_shutdown=60, server_header=False)
    finally:
        api.state.handles.close()

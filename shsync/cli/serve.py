"""`shsync serve`: the HTTP API over a store. FastAPI and uvicorn are imported only here."""

from __future__ import annotations

import click

from shsync.cli.common import backend_option, handled


@click.command()
@backend_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on. Put a TLS proxy in front for anything but "
                   "loopback.")
@click.option("--port", type=click.IntRange(0, 65535), default=8787, show_default=True,
              help="The port to listen on.")
@click.option("--lock-timeout", type=click.FloatRange(min=0), default=60.0, show_default=True,
              help="Seconds an apply waits while another apply of the same practice holds "
                   "the lock.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Server processes sharing the port. Each keeps its own copy of what it "
                   "has read, and its own /metrics.")
@handled
def serve(backend_url: str, host: str, port: int, lock_timeout: float, workers: int) -> None:
    """Serve every practice in a store over HTTP, to holders of tokens (`shsync token`).

    Endpoints are per practice (/practices/NAME/...): plans, approvals, applies of stored plans,
    export, access, history, acceptances, refresh; and /healthz, /metrics, /openapi.json. Each
    request is one JSON line on standard error. SIGTERM finishes requests in flight first.

    \b
    Examples:
      shsync serve --backend postgresql://shsync@db.internal/practices
      shsync serve --backend sqlite:///srv/shsync/practice.db --port 8787
      shsync serve --backend postgresql://shsync@db/practices --workers 2
      SHSYNC_TOKEN=shs_... shsync plan org/ \\
          --backend https://shsync.example/practices/riverbend
    """
    from shsync.stores.url import redact
    from shsync.server import run

    def ready() -> None:  # once the store is open and current, not before
        click.echo(f"shsync serving {redact(backend_url)} on http://{host}:{port} "
                   "(/healthz, /openapi.json)", err=True)

    run(backend_url, host, port, lock_timeout=lock_timeout, workers=workers, ready=ready)

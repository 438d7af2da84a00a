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
@click.option("--notify", "notify_urls", multiple=True, metavar="URL",
              envvar="SHSYNC_NOTIFY_URL",
              help="Post a signed JSON event to URL when a runbook step becomes overdue and "
                   "when steps are done or observed (repeatable; SHSYNC_NOTIFY_URL may hold "
                   "several, space-separated). PRACTICE=URL posts only that practice's "
                   "events there. Signed with SHSYNC_NOTIFY_SECRET, which must be set. https, "
                   "or http to loopback.")
@click.option("--notify-interval", type=click.FloatRange(min=0.1), default=60.0,
              show_default=True, metavar="SECONDS",
              help="How often the store is looked at for events to post.")
@click.option("--notify-timeout", type=click.FloatRange(min=0.1, max=300), default=10.0,
              show_default=True, metavar="SECONDS",
              help="The timeout of each request to a --notify URL.")
@click.option("--notify-attempts", type=click.IntRange(1, 10), default=4, show_default=True,
              metavar="N",
              help="Tries per event and URL (a network error, a timeout, 429 or 5xx is tried "
                   "again, with backoff from 1 s doubling); then the failure is logged.")
@click.option("--notify-catch-up", type=click.IntRange(0, 7 * 24 * 60), default=60,
              show_default=True, metavar="MINUTES",
              help="On start, also post what happened in the last MINUTES: a restart "
                   "re-sends at most that window's events, and misses none of it.")
@click.option("--notify-allow-http", is_flag=True,
              help="Allow plain http --notify URLs to hosts other than loopback.")
@handled
def serve(backend_url: str | None, host: str, port: int, lock_timeout: float, workers: int,
          notify_urls: tuple[str, ...], notify_interval: float, notify_timeout: float,
          notify_attempts: int, notify_catch_up: int, notify_allow_http: bool) -> None:
    """Serve every practice in a store over HTTP, to holders of tokens (`shsync token`).

    Endpoints are per practice (/practices/NAME/...): plans, approvals, applies of stored plans,
    export, access, history, acceptances, refresh; and /healthz, /metrics, /openapi.json. Each
    request is one JSON line on standard error. SIGTERM finishes requests in flight first.

    \b
    Examples:
      shsync serve --backend postgresql://shsync@db.internal/practices
      shsync serve --backend sqlite:///srv/shsync/practice.db --port 8787
      shsync serve --backend postgresql://shsync@db/practices --workers 2
      SHSYNC_NOTIFY_SECRET=... shsync serve --backend postgresql://db/practices \\
          --notify https://hooks.example/shsync
      SHSYNC_TOKEN=shs_... shsync plan org/ \\
          --backend https://shsync.example/practices/riverbend
    """
    from datetime import timedelta

    from shsync.cli.common import store_url
    from shsync.stores.url import redact
    from shsync.server import notify, run

    backend_url = store_url(backend_url)

    # Checked before anything starts: a URL shsync does not post to, or no secret, is refused.
    settings = notify.settings(
        notify_urls, allow_http=notify_allow_http, interval=notify_interval,
        timeout=notify_timeout, attempts=notify_attempts,
        catch_up=timedelta(minutes=notify_catch_up)) if notify_urls else None
    running: list[notify.Running] = []

    def ready() -> None:  # once the store is open and current, not before
        click.echo(f"shsync serving {redact(backend_url)} on http://{host}:{port} "
                   "(/healthz, /openapi.json)", err=True)
        if settings is not None:
            # One notifier for the whole command, in this process (the supervisor, with
            # --workers): never one per worker (docs/server.md#notifications).
            running.append(notify.start(backend_url, settings, lock_timeout=lock_timeout))
            click.echo("shsync notifying " + ", ".join(t.shown for t in settings.targets)
                       + f" every {notify_interval:g} s", err=True)

    try:
        run(backend_url, host, port, lock_timeout=lock_timeout, workers=workers, ready=ready)
    finally:
        for notifier in running:  # a delivery in flight gets its timeout, no more
            notifier.stop(timeout=notify_timeout + 1)

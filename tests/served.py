"""A real `shsync serve` process on a free loopback port, started once per test session (per
xdist worker), and tokens made straight in its store, as the operator would."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from shsync.core import tokens
from shsync.stores.sqlite import SqliteBackend

ROOT = Path(__file__).resolve().parents[1]
from tests.conftest import NOW


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    db: Path
    port: int
    process: subprocess.Popen
    log: Path
    opened: list = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, practice: str) -> str:
        return f"{self.base}/practices/{practice}"

    def store(self, practice: str) -> SqliteBackend:
        return SqliteBackend(str(self.db), practice)

    def token(self, practice: str, actor: str = "tester", *, operator: bool = True,
              scope: str = "admin", expires: str = "90d") -> str:
        store = self.store(practice)
        try:
            text, _ = tokens.create(store, actor=actor, operator=operator, scope=scope,
                                    expires=expires, created_by="test", now=datetime.now(UTC))
        finally:
            store.close()
        return text

    def wipe(self, *practices: str) -> None:
        """Forget these practices in the server's store, every table (the contract suite
        names its practices `default`, `first`, ...: each test starts them empty)."""
        with sqlite3.connect(self.db) as conn:
            tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE "
                                                 "type = 'table'")]
            for table in tables:
                columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
                if "practice" in columns:
                    conn.executemany(f"DELETE FROM {table} WHERE practice = ?",
                                     [(p,) for p in practices])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(tmp: Path, *, env: dict[str, str] | None = None, backend: str | None = None,
          args: tuple[str, ...] = ()) -> Server:
    db = tmp / f"served-{uuid.uuid4().hex[:6]}.db"
    port = free_port()
    log = tmp / f"serve-{port}.log"
    full = {**{k: v for k, v in os.environ.items() if not k.startswith("SHSYNC_")},
            "SHSYNC_NOW": NOW, **(env or {})}
    with log.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "shsync", "serve", "--backend", backend or f"sqlite:///{db}",
             "--port", str(port), *args], stdout=subprocess.DEVNULL, stderr=err, env=full,
            cwd=tmp)
    server = Server(db, port, process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"shsync serve stopped: {log.read_text()[-2000:]}")
        try:
            if httpx.get(server.base + "/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError("shsync serve did not start within 60 s")


def practice_name(label: str = "p") -> str:
    return f"{label[:40]}-{uuid.uuid4().hex[:10]}"

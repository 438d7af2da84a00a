"""One real `shsync serve` process per test module, over a SQLite store, and helpers to make a
practice in it (seeded from the examples) with tokens for its members."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from shsync.jobs.app import Shsync
from shsync.core.authorize import Actor
from tests.served import ROOT, Server, practice_name, start

SNAPSHOT = ROOT / "examples" / "practice-snapshot.yaml"
ORG = ROOT / "examples" / "org.yaml"
DANA = "dana.ortiz@riverbend.example"  # an administrator
ELLEN = "ellen.wu@riverbend.example"  # another administrator
SAM = "sam.lee@riverbend.example"  # a practitioner, not an administrator
VICTOR = "victor.okafor@riverbend.example"  # invited, not accepted


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    served = start(tmp_path_factory.mktemp("serve"))
    yield served
    served.stop()


class Practice:
    def __init__(self, server: Server, name: str):
        self.server, self.name = server, name

    @property
    def url(self) -> str:
        return self.server.url(self.name)

    def token(self, actor: str = DANA, scope: str = "apply", **kw) -> str:
        return self.server.token(self.name, actor, operator=False, scope=scope, **kw)

    def client(self, token: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def as_member(self, actor: str = DANA, scope: str = "apply") -> httpx.Client:
        return self.client(self.token(actor, scope))

    def store(self):
        return self.server.store(self.name)


def seeded(server: Server, name: str) -> Practice:
    """A practice on `server`, seeded from examples/ straight in its store (as the operator)."""
    store = server.store(name)
    try:
        Shsync(store, Actor.operator("test")).seed(SNAPSHOT)
    finally:
        store.close()
    return Practice(server, name)


@pytest.fixture
def practice(server) -> Practice:
    """A practice of its own on the module's server, seeded from examples/."""
    return seeded(server, practice_name("t"))


@pytest.fixture
def own_server(tmp_path):
    """A server of the test's own, started with test-only hooks in its environment, and its
    seeded practice `riverbend`: `own_server(env, args)` -> (server, practice). Stopped after."""
    started: list[Server] = []

    def start_with(env: dict[str, str], args: tuple[str, ...] = ()) -> tuple[Server, Practice]:
        served = start(tmp_path, env=env, args=args)
        started.append(served)
        return served, seeded(served, "riverbend")

    yield start_with
    for served in started:
        served.stop()


def org_text(path: Path = ORG) -> bytes:
    return path.read_bytes()


def keep_plan(client: httpx.Client, text: bytes | None = None) -> dict:
    """POST the org (examples/org.yaml by default) to be planned and kept; the kept plan."""
    made = client.post("/plans", content=text or org_text(),
                       headers={"Content-Type": "application/yaml"})
    assert made.status_code == 201, made.text
    return made.json()

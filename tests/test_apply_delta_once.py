"""An apply works out the plan's access delta once: the store's check reuses the planner's when
its states are the planner's, even though the store's clock stamps the invitations later."""

from __future__ import annotations

import pytest

from shsync.core import access, planner
from shsync.core.access import AccessChange
from shsync.core.state import PracticeState
from shsync.jobs.app import Shsync
from shsync.stores.sqlite import SqliteBackend
from tests.helpers import base_org, write_yaml


def count_deltas(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one each time the access delta is worked out from scratch."""
    calls: list[int] = []
    real = access._delta

    def counted(before: PracticeState, after: PracticeState) -> tuple[AccessChange, ...]:
        calls.append(1)
        return real(before, after)

    monkeypatch.setattr(access, "_delta", counted)
    return calls


def test_the_store_reuses_the_planners_delta_across_clocks(tmp_path, monkeypatch):
    calls = count_deltas(monkeypatch)
    clock = iter(["2026-11-26T12:00:00Z", "2026-11-26T12:00:09Z"])
    app = Shsync(SqliteBackend(str(tmp_path / "p.db")), planner.OPERATOR,
                 clock=lambda: next(clock))
    planned = app.plan(write_yaml(tmp_path / "org.yaml", base_org()))
    assert planned.plan.access_changes and planned.plan.summary.invite
    entry = app.apply(planned.plan)
    assert entry.seq == 1 and len(calls) == 1


def test_a_different_practice_is_worked_out_again(tmp_path, monkeypatch):
    calls = count_deltas(monkeypatch)
    from tests.core.builders import ADMIN, c, live, m

    sam = m("sam", "practitioner")
    before = live(ADMIN, sam, clients=[c("C1", "sam")])
    access.delta(before, live(ADMIN, sam, clients=[c("C1", "sam", "admin")]))
    access.delta(before, live(ADMIN, sam, clients=[c("C1", "sam")]))
    assert len(calls) == 2

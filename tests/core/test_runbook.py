"""The runbook's pure parts (shsync/core/runbook.py): step ids, which steps an apply asks
for, who may confirm them, and the two truths (shsync's record beside Sessions Health's)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shsync.core import access, runbook
from shsync.core.authorize import Actor
from shsync.core.operations import op
from shsync.core.runbook import Step, two_truths
from shsync.render import runbook as render
from tests.core.builders import ADMIN, D, c, live, m

AT = "2026-11-26T12:00:00Z"
SAM, KIM = m("sam", "practitioner"), m("kim", "practitioner")


@pytest.mark.parametrize("text, found", [("R-17", 17), ("r-17", 17), (" 17 ", 17), ("R-", None),
                                         ("R-1x", None), ("R-١٢", None), ("-1", None),
                                         ("R-" + "9" * 13, None)])
def test_step_ids(text, found):
    assert runbook.parse_label(text) == found


def test_steps_with_nothing_to_do_in_sessions_health_are_not_recorded():
    before = live(ADMIN, SAM)
    ops = [op("set_policy", "practice", approvals=(("widens_access", 1),), previous=())]
    assert runbook.derive(ops, before, replace(before, approval_policy=(("widens_access", 1),)),
                          entry=2, first_id=1, recorded_at=AT) == ()


def test_a_refresh_leaves_nobody_anything_to_do():
    before = live(ADMIN, SAM, clients=[c("C1", "sam")])
    after = live(ADMIN, SAM, clients=[c("C1", "sam", "admin")])
    grant = [op("grant_access", "C1", member="admin" + D, until=None, reason=None)]
    assert runbook.derive(grant, before, after, entry=2, first_id=1, recorded_at=AT,
                          kind="refresh") == ()
    (step,) = runbook.derive(grant, before, after, entry=2, first_id=5, recorded_at=AT)
    assert (step.label, step.client, step.member, step.effect) == ("R-5", "C1", "admin" + D,
                                                                  "widens")
    assert step.due == "2026-11-29T12:00:00Z"  # three days for access given, by default
    assert runbook.derive(grant, before, after, entry=2, first_id=5, recorded_at=AT,
                          deadlines=(("widens_access", 90),))[0].due == "2026-11-26T13:30:00Z"


def _step(i: int, member: str, client: str | None, change: str, state: str = "pending",
          entry: int = 2, cap: str = "record") -> Step:
    return Step(i, entry, ("x",), member, client, f"do {i}", "narrows" if change == "lose"
                else "widens", AT, "2026-11-26T13:00:00Z",
                access=((change, member, client or "*", cap, "assigned"),), state=state)


def test_access_taken_away_stays_visible_until_any_step_that_ends_it_is_done():
    untick = _step(1, "jo" + D, "C1", "lose")
    remove = _step(2, "jo" + D, "C1", "lose")
    (still,) = two_truths([], [untick, remove], client="C1", member=None)
    assert (still.in_shsync, still.in_sessions_health, still.step) == (False, "pending", untick)
    assert two_truths([], [untick, replace(remove, state="done")], client="C1",
                      member=None) == []


def test_access_given_is_not_yet_there_until_its_step_is_done():
    row = access.Row("kim" + D, "C1", "record", "assigned")
    give = _step(3, "kim" + D, "C1", "gain")
    (seen,) = two_truths([row], [give], client="C1", member=None)
    assert (seen.in_shsync, seen.in_sessions_health, seen.step) == (True, False, give)
    (done,) = two_truths([row], [replace(give, state="done")], client="C1", member=None)
    assert (done.in_sessions_health, done.step) == (True, None)


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(["C1", "C2", None]),
                          st.sampled_from(["gain", "lose"]),
                          st.sampled_from(["pending", "done", "observed"])), max_size=12),
       st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(["C1", "C2"])),
                max_size=6, unique=True))
def test_every_row_shsync_holds_is_shown_once_and_nothing_ended_twice(raw_steps, held):
    steps = [_step(i, who + D, client, change, state)
             for i, (who, client, change, state) in enumerate(raw_steps, 1)]
    rows = [access.Row(who + D, client, "record", "assigned") for who, client in held]
    for client in ("C1", "C2"):
        mine = [r for r in rows if r.client == client]
        seen = two_truths(mine, steps, client=client, member=None)
        assert [s.row for s in seen if s.in_shsync] == mine
        extra = [(s.row.member, s.row.capability, s.row.reason) for s in seen if not s.in_shsync]
        assert len(extra) == len(set(extra))
        assert all(s.step is not None and s.step.state == "pending" for s in seen
                   if s.in_sessions_health is not True)


def test_who_may_confirm():
    state = live(ADMIN, SAM, m("ivy", "practitioner", status="invited"))
    steps = {1: _step(1, "sam" + D, "C1", "gain"),
             2: replace(_step(2, "ivy" + D, None, "gain"), waits_for="ivy" + D),
             3: replace(_step(3, "sam" + D, "C1", "gain"), state="done", by="x")}
    sam, admin = Actor.member("sam" + D), Actor.member("admin" + D)
    assert runbook.confirmation(steps, [1], sam, state, None) == []
    assert runbook.confirmation(steps, [1], Actor.member("kim" + D), state, None) != []
    assert "waits for ivy" in runbook.confirmation(steps, [2], admin, state, None)[0]
    assert "already done" in runbook.confirmation(steps, [3], admin, state, None)[0]
    assert "no runbook step R-9" in runbook.confirmation(steps, [9], admin, state, None)[0]
    assert "named twice" in runbook.confirmation(steps, [1, 1], admin, state, None)[0]
    assert "printable" in runbook.confirmation(steps, [1], admin, state, "a\u202eb")[0]
    assert runbook.confirmation(steps, [1], Actor.operator("op"), state, "ok") == []


def test_a_step_waits_only_while_its_member_is_still_invited():
    waiting = replace(_step(1, "ivy" + D, None, "gain"), waits_for="ivy" + D)
    invited = live(ADMIN, m("ivy", "practitioner", status="invited"))
    assert runbook.as_of([waiting], invited) == [waiting]
    (now,) = runbook.as_of([waiting], live(ADMIN, m("ivy", "practitioner")))
    assert now.waits_for is None and now == replace(waiting, waits_for=None)
    assert "waits for" not in render.text([now], AT, practice="p")


@pytest.mark.parametrize("fmt", sorted(render.FORMATS))
def test_hostile_text_is_escaped_in_every_format(fmt):
    hostile = replace(_step(1, "sam" + D, "C1", "gain"),
                      text='<script>alert(1)</script> \x1b[31m name\u202e', note="<b>\x07")
    out = render.FORMATS[fmt]([hostile], AT, practice="p<\x1b>", everything=True)
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    if fmt == "html":
        assert "<script>" not in out and "&lt;script&gt;" in out

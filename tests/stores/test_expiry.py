"""Access that ends by itself, in every store: ends persist, expiries and emergencies apply,
reviews are recorded, and the audit log still verifies and replays. SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import timedelta

import pytest

from shsync.stores.sql import SCHEMA_VERSION
import yaml

from shsync.jobs.app import Shsync
from shsync.audit.chain import replay, verify_chain
from shsync.stores.sqlite import SqliteBackend
from shsync.errors import AuditBroken, Forbidden, Refused, UserError
from shsync.core import planner
from shsync.core.authorize import Actor
from shsync.core.operations import op
from shsync.core.plan import Plan
from shsync.core.state import End
from shsync.model.clock import later
from tests.core.builders import ADMIN, D, c, live, m, want

from tests.conftest import NOW
END = "2026-11-30T00:00:00Z"
OPERATOR = Actor.operator("tester")
SAM = m("sam", "practitioner")
KIM = m("kim", "practitioner")


def state_with_ends():
    kim = replace(KIM, full_clinical_access=True, clinical_until=END, clinical_reason="audit")
    return live(ADMIN, SAM, kim, m("lee", "practitioner"), clients=[
        replace(c("C1", "sam", "admin", "lee"), ends=(
            End("admin" + D, END, "leave cover"), End("lee" + D, END, "crisis", True))),
        c("C2", "sam", "admin")])


def plan_at(desired, state, now):
    result = planner.plan(desired, state, practice="default", now=now)
    assert not result.errors, result.errors
    return result


def clock(times):
    return lambda: times[0]


@pytest.fixture
def backend(make_store):
    """These tests apply at chosen times; a server applies at its own clock (tests/server)."""
    return make_store()


def test_ends_are_kept_exactly(backend):
    backend.seed(state_with_ends())
    assert backend.read() == state_with_ends()


def test_a_grant_with_an_end_is_applied_then_expires(backend):
    backend.seed(live(ADMIN, SAM, KIM, clients=[c("C1", "sam")]))
    desired = want(ADMIN, SAM, KIM, clients=[replace(c("C1", "sam", "kim"),
                                                     ends=(End("kim" + D, END, "cover"),))])
    backend.apply(plan_at(desired, backend.read(), NOW), actor=OPERATOR, now=NOW)
    assert backend.read().clients["C1"].ends == (End("kim" + D, END, "cover"),)
    assert plan_at(desired, backend.read(), "2026-11-29T23:59:59Z").operations == ()
    expiry = plan_at(desired, backend.read(), END)
    assert expiry.operations == (op("revoke_access", "C1", member="kim" + D, expired=END),)
    backend.apply(expiry, actor=OPERATOR, now=END)
    assert backend.read().clients["C1"] == c("C1", "sam")
    entries = backend.history()
    assert verify_chain(entries) is None and replay(entries, backend.read()) is None


def test_full_clinical_access_with_an_end_is_applied_then_expires(backend):
    backend.seed(live(ADMIN, SAM, KIM))
    kim = replace(KIM, full_clinical_access=True, clinical_until=END, clinical_reason="audit")
    backend.apply(plan_at(want(ADMIN, SAM, kim), backend.read(), NOW), actor=OPERATOR, now=NOW)
    assert backend.read().members["kim" + D] == kim
    backend.apply(plan_at(want(ADMIN, SAM, kim), backend.read(), END), actor=OPERATOR, now=END)
    assert backend.read().members["kim" + D] == KIM


def test_an_expiry_is_refused_before_its_end_and_changes_nothing(backend):
    backend.seed(state_with_ends())
    early = Plan(practice="default", fingerprint=planner.fingerprint(backend.read()),
                 operations=(op("revoke_access", "C1", member="admin" + D, expired=END),),
                 summary=plan_at(want(ADMIN, SAM, KIM), state_with_ends(), END).summary)
    with pytest.raises(Refused, match="marked expired at 2026-11-30T00:00:00Z, which has not "
                                      "passed"):
        backend.apply(early, actor=OPERATOR, now="2026-11-29T23:59:59Z")
    assert backend.read() == state_with_ends()
    assert len(backend.history()) == 1


@pytest.fixture
def org(tmp_path):
    path = tmp_path / "org.yaml"
    admin = {"email": "admin" + D, "first_name": "A", "last_name": "X", "admin": True,
             "roles": ["practitioner"]}
    path.write_text(yaml.safe_dump({"version": 1, "policy": {"break_glass": {"max": "2h"}},
                                    "members": [admin]}))
    return path


def test_break_glass_expire_and_review_keep_the_log_replayable(backend, org):
    backend.seed(live(ADMIN, SAM, KIM, clients=[c("C1", "sam")]))
    times = [NOW]
    kim = Shsync(backend, Actor.member("kim" + D), clock(times))
    entry = kim.apply(kim.plan_break_glass("C1", "crisis, sam unreachable", "90m"))
    assert entry.kind == "break_glass" and entry.actor == "kim" + D
    until = "2026-11-26T13:30:00Z"
    assert backend.read().clients["C1"].ends == (
        End("kim" + D, until, "crisis, sam unreachable", True),)
    operator = Shsync(backend, OPERATOR, clock(times))
    assert operator.plan_expiry().operations == ()
    times[0] = until
    expired = operator.apply(operator.plan_expiry())
    assert expired.kind == "expire"
    assert backend.read().clients["C1"] == c("C1", "sam")
    assert [e.seq for e in operator.emergencies()] == [entry.seq]
    admin = Shsync(backend, Actor.member("admin" + D), clock(times))
    review = admin.review(entry.seq, "justified: client called at 2 a.m.")
    assert review.kind == "review" and review.details["entry"] == entry.seq
    assert operator.emergencies() == []
    assert [e.kind for e in backend.history()] == [
        "seed", "break_glass", "expire", "review"]
    assert operator.check_log().replayed


def test_break_glass_refusals_change_nothing(backend, org):
    backend.seed(replace(live(ADMIN, SAM, KIM, replace(m("new", "practitioner"), status="invited"),
                              clients=[c("C1", "sam"), c("C2", "kim")]),
                         break_glass_policy=(("practitioner",), 120)))  # policy.break_glass.max: 2h

    def attempt(who, client="C1", reason="crisis", length=None):
        app = Shsync(backend, Actor.member(who + D), lambda: NOW)
        with pytest.raises(UserError) as info:
            app.plan_break_glass(client, reason, length)
        return info.value.code

    assert attempt("new") == "break-glass-not-active"
    assert attempt("nobody") == "break-glass-not-active"
    assert attempt("kim", length="3h") == "break-glass-too-long"
    assert attempt("kim", client="C2") == "break-glass-already-sees"
    assert attempt("kim", reason="  ") == "break-glass-no-reason"
    assert len(backend.history()) == 1


def test_a_store_of_schema_version_2_is_upgraded_with_its_practice(tmp_path):
    path = tmp_path / "practice.db"
    store = SqliteBackend(str(path))
    store.seed(live(ADMIN, SAM, KIM, clients=[c("C1", "sam", "admin")]))
    store.close()
    with sqlite3.connect(path) as conn:  # the store as shsync wrote it before ends existed
        for table, column in (("client_access", "ends_at"), ("client_access", "end_reason"),
                              ("client_access", "break_glass"), ("members", "clinical_ends_at"),
                              ("members", "clinical_end_reason"), ("practices", "approvals"),
                              ("practices", "break_glass"), ("practices", "head_seq"),
                              ("practices", "head_hash"), ("practices", "fingerprint"),
                              ("practices", "deadlines")):
            conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        conn.execute("DROP TABLE stored_plans")
        conn.execute("DROP TABLE plan_approvals")
        conn.execute("DROP TABLE tokens")
        conn.execute("DROP TABLE runbook_steps")  # version 10's
        conn.execute("UPDATE shsync_meta SET value = '2' WHERE key = 'schema_version'")
    store = SqliteBackend(str(path))
    assert store.read() == live(ADMIN, SAM, KIM, clients=[c("C1", "sam", "admin")])
    assert Shsync(store, OPERATOR).check_log().replayed  # fingerprints from before still hold
    store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM shsync_meta").fetchone() == (str(SCHEMA_VERSION),)


@pytest.mark.parametrize("kind", ["expire", "apply", "refresh", "accepted"])
def test_a_break_glass_step_hides_in_no_other_kind_of_plan(backend, org, kind):
    """The entry's kind is what `history --break-glass` and the review look for: a plan file
    relabelled to hide an emergency (or to dress something else up as one) is refused."""
    backend.seed(live(ADMIN, SAM, KIM, clients=[c("C1", "sam")]))
    kim = Shsync(backend, Actor.member("kim" + D), lambda: NOW)
    genuine = kim.plan_break_glass("C1", "crisis", "90m")
    with pytest.raises(Refused, match="belongs only in a break_glass plan"):
        kim.apply(replace(genuine, kind=kind))
    admin = Shsync(backend, Actor.member("admin" + D), lambda: NOW)
    dressed = replace(admin.plan_expiry(), operations=(op("set_admin", "sam" + D, admin=True),),
                      kind="break_glass")
    with pytest.raises(Refused, match="exactly one break_glass step"):
        admin.apply(dressed)
    disguised = replace(admin.plan_expiry(), operations=(op("set_admin", "sam" + D, admin=True),))
    with pytest.raises(Refused, match="only steps that take back access"):
        admin.apply(disguised)
    assert [e.kind for e in backend.history()] == ["seed"]
    assert kim.apply(genuine).kind == "break_glass"


def test_nobody_reviews_their_own_emergency_access(backend, org):
    lead = m("lead", "practitioner", admin=True)
    backend.seed(live(ADMIN, SAM, lead, clients=[c("C1", "sam")]))
    mine = Shsync(backend, Actor.member("lead" + D), lambda: NOW)
    entry = mine.apply(mine.plan_break_glass("C1", "crisis", "1h"))
    with pytest.raises(Forbidden) as forbidden:
        mine.review(entry.seq, "looked fine to me")
    assert forbidden.value.code == "self-review"
    with pytest.raises(UserError) as info:
        mine.review(entry.seq, "bad\x1b[2Knote")
    assert info.value.code == "invalid-note"
    other = Shsync(backend, Actor.member("admin" + D), lambda: NOW)
    assert other.review(entry.seq, "checked with lead").kind == "review"


def test_break_glass_ends_no_later_than_the_stores_clock_plus_the_live_max(backend, org):
    """The planning clock (SHSYNC_NOW, `plan --at`) is the member's to set; the store bounds an
    emergency by its own clock at the moment it writes the entry, plus the live policy's max.
    A member who fixes the planning clock in the far future gets nothing: that apply is refused
    outright (`clock-ahead`), and within the few minutes two clocks may differ, the end is still
    the store's clock plus the max. (The store's own clock, read from it: on any date, and
    under a shifted machine clock, which PostgreSQL's is not.)"""
    backend.seed(replace(live(ADMIN, SAM, KIM, clients=[c("C1", "sam")]),
                         break_glass_policy=(("practitioner",), 120)))
    future = Shsync(backend, Actor.member("kim" + D), lambda: "9999-12-24T00:00:00Z")
    forged = future.plan_break_glass("C1", "curious", "2h")  # the planner only knows its clock
    assert forged.operations[0].get("until") == "9999-12-24T02:00:00Z"
    with pytest.raises(Refused) as ahead:
        future.apply(forged)
    assert ahead.value.code == "clock-ahead" and "only preview" in str(ahead.value)
    near = later(backend._clock(), timedelta(minutes=4))
    skewed = Shsync(backend, Actor.member("kim" + D), lambda: near)
    with pytest.raises(Refused, match="longer than the practice's policy allows "
                                      r"\(practitioner for up to 2h\)") as info:
        skewed.apply(skewed.plan_break_glass("C1", "curious", "2h"))
    assert "from now (the store's clock" in str(info.value)
    assert [e.kind for e in backend.history()] == ["seed"]
    assert backend.read().clients["C1"] == c("C1", "sam")


def test_each_kind_of_plan_holds_only_the_steps_the_application_builds_it_from(backend, org):
    """The kind becomes the audit entry's kind: an expire plan only takes access back whose end
    has passed, a refresh records an observation (never shsync's own policies), an accepted
    plan only acceptances. Anything else is refused with its own code, and nothing changes."""
    backend.seed(live(ADMIN, SAM, replace(KIM, status="invited"), clients=[c("C1", "sam")]))
    admin = Shsync(backend, Actor.member("admin" + D), lambda: NOW)
    base = admin.plan_expiry()
    forged = {
        "expire": (op("set_full_clinical_access", "sam" + D, full_clinical_access=True,
                      expired=NOW),),
        "refresh": (op("set_break_glass_policy", "practice", who=("biller",),
                       max_minutes=10080, previous_who=None, previous_max_minutes=None),),
        "accepted": (op("set_admin", "sam" + D, admin=True),),
    }
    for kind, operations in forged.items():
        with pytest.raises(Refused) as info:
            admin.apply(replace(base, operations=operations, kind=kind))
        assert info.value.code == "plan-kind-mismatch", (kind, str(info.value))
    assert [e.kind for e in backend.history()] == ["seed"]


def test_a_deleted_tail_that_cancels_out_is_found_by_the_practices_anchor(backend, org):
    """A break-glass and its expiry change nothing net: deleting both leaves a chain that holds
    and a replay that reproduces the state. The practice row keeps the log's head, written in
    the same transaction as each entry, so `history --verify` (check_log) finds the cut. (An
    attacker who edits the store can edit both: --expect-head, kept outside, is the real
    assurance.)"""
    backend.seed(live(ADMIN, SAM, KIM, clients=[c("C1", "sam")]))
    times = [NOW]
    kim = Shsync(backend, Actor.member("kim" + D), clock(times))
    kim.apply(kim.plan_break_glass("C1", "crisis", "1h"))
    times[0] = "2026-11-26T13:00:00Z"
    operator = Shsync(backend, OPERATOR, clock(times))
    operator.apply(operator.plan_expiry())
    assert operator.check_log().entries == 3
    with backend._transaction():
        backend._execute("DELETE FROM audit WHERE practice = ? AND seq > 1", (backend.practice,))
    assert verify_chain(backend.history()) is None  # the chain alone holds
    assert replay(backend.history(), backend.read()) is None  # and so does the replay
    with pytest.raises(AuditBroken) as info:
        operator.check_log()
    assert info.value.code == "log-truncated"
    assert str(info.value) == (
        "the audit log ends at entry #1, but the practice recorded its log's head as entry #3 "
        f"({backend.head_anchor()[1]}): entries were removed from the end of the log")


def test_a_review_is_checked_inside_the_stores_transaction(make_backend):
    # Two reviews of one emergency at once: the second reviewer's reads were taken before the
    # first review committed. The store checks again on the log it reads in its transaction,
    # so only one review is recorded (on every store, a server's included).
    from shsync.errors import ShsyncError

    backend = make_backend()
    backend.seed(live(ADMIN, m("ben", "practitioner", admin=True), SAM, KIM,
                      clients=[c("C1", "sam")]))
    kim = Shsync(backend, Actor.member("kim" + D), clock([NOW]))
    entry = kim.apply(kim.plan_break_glass("C1", "crisis, sam unreachable", "90m"))
    read_before = backend.history()
    Shsync(backend, Actor.member("admin" + D), clock([NOW])).review(entry.seq, "first")
    backend.history = lambda: read_before  # what the second reviewer saw
    try:
        with pytest.raises(ShsyncError) as refused:
            Shsync(backend, Actor.member("ben" + D), clock([NOW])).review(entry.seq, "second")
    finally:
        del backend.history
    assert refused.value.code == "already-reviewed"
    assert [e.kind for e in backend.history()] == ["seed", "break_glass", "review"]


def test_an_end_is_judged_by_the_stores_clock_never_by_the_planning_clock(backend):
    """`expire` with a planning clock a few minutes fast (SHSYNC_NOW, a runner's clock; within
    the skew an apply may have) does not take a grant back before its end: the store judges
    the end by its own clock as it writes. (The store's own clock, read from it: on any
    date.)"""
    store = backend._clock()
    soon = later(store, timedelta(minutes=2))
    backend.seed(live(ADMIN, SAM, KIM, clients=[replace(c("C1", "sam", "kim"),
                                                        ends=(End("kim" + D, soon, "cover"),))]))
    fast = Shsync(backend, Actor.operator("cron"), lambda: later(store, timedelta(minutes=4)))
    early = fast.plan_expiry()
    assert early.operations == (op("revoke_access", "C1", member="kim" + D, expired=soon),)
    with pytest.raises(Refused, match="has not passed by the store's clock"):
        fast.apply(early)
    assert "kim" + D in backend.read().clients["C1"].access
    assert [e.kind for e in backend.history()] == ["seed"]

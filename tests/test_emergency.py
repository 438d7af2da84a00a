"""The break-glass policy, expiry and reviews as library calls (shsync/emergency.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shsync import app
from shsync.backends.audit import AuditEntry
from shsync.emergency import break_glass_operation, review_details, unreviewed
from shsync.errors import Forbidden, UserError
from shsync.reconcile import planner
from shsync.reconcile.actions import may_break_glass as allowed
from shsync.reconcile.authorize import Actor
from shsync.reconcile.state import End, desired_from_org
from shsync.schema.load import load_org
from tests.reconcile.builders import ADMIN, D, c, live, m

NOW = "2026-11-26T12:00:00Z"
KIM = m("kim", "practitioner")
ROSA = m("rosa", "scheduler", "supervisor")
STATE = live(ADMIN, m("sam", "practitioner"), KIM, ROSA, clients=[c("C1", "sam")])


def attempt(who, policy=None, length=None):
    """`policy`: the (who, max minutes) the live practice keeps; None: the default."""
    state = replace(STATE, break_glass_policy=policy)
    return break_glass_operation(state, Actor.member(who + D), "C1", "crisis", length, NOW)


def test_without_for_it_lasts_4h_or_the_policys_max_if_shorter():
    assert attempt("kim").get("until") == "2026-11-26T16:00:00Z"
    short = (("practitioner",), 90)
    assert attempt("kim", short).get("until") == "2026-11-26T13:30:00Z"
    assert attempt("kim", short, "1h30m").get("until") == "2026-11-26T13:30:00Z"


def test_the_policy_says_who_may():
    with pytest.raises(UserError) as refused:
        attempt("rosa")  # default: practitioners
    assert refused.value.code == "break-glass-not-allowed"
    assert str(refused.value) == (f"rosa{D} may not break glass: the practice's policy allows "
                                  "practitioner for up to 8h")
    assert attempt("rosa", (("supervisor",), 480)).get("member") == "rosa" + D
    assert allowed(ADMIN, ["admin"]) and allowed(KIM, ["KIM" + D]) and not allowed(KIM, ["admin"])


def entry(seq, kind, operations=(), details=None):
    return AuditEntry(seq, NOW, "x", "", "", {}, list(operations), "", "", kind=kind,
                      details=details or {})


EMERGENCY = entry(2, "break_glass", [{"action": "break_glass", "target": "C1",
                                      "member": "kim" + D, "until": "2026-11-26T16:00:00Z",
                                      "reason": "crisis"}])


def test_reviews_are_for_named_administrators():
    log = [entry(1, "seed"), EMERGENCY]
    admin = Actor.member("admin" + D)
    assert review_details(log, STATE, admin, 2, " ok ")["note"] == "ok"
    with pytest.raises(Forbidden):
        review_details(log, STATE, Actor.member("kim" + D), 2, "ok")
    # The operator is unnamed: it may be the very member who broke glass, holding the store's
    # credentials, so it reviews nothing.
    with pytest.raises(UserError) as unnamed:
        review_details(log, STATE, Actor.operator("ops"), 2, "ok")
    assert unnamed.value.code == "review-needs-actor"
    with pytest.raises(UserError, match="not an emergency access"):
        review_details(log, STATE, admin, 1, "ok")
    with pytest.raises(UserError, match="a note is required"):
        review_details(log, STATE, admin, 2, "  ")
    reviewed = [*log, entry(3, "review", details={"entry": 2, "note": "ok"})]
    assert [e.seq for e in unreviewed(log)] == [2] and unreviewed(reviewed) == []
    with pytest.raises(UserError, match="already been reviewed"):
        review_details(reviewed, STATE, admin, 2, "again")


def test_an_export_with_ends_plans_to_no_changes(tmp_path):
    kim = replace(KIM, full_clinical_access=True, clinical_until="2027-01-01T06:00:00Z",
                  clinical_reason="audit")
    state = live(ADMIN, m("sam", "practitioner"), kim, m("lee", "practitioner"), clients=[
        replace(c("C1", "sam", "admin", "lee"), ends=(
            End("admin" + D, "2027-02-01T06:00:00Z", "leave cover"),
            End("lee" + D, "2026-11-26T14:00:00Z", "crisis", True)))])
    (tmp_path / "org.yaml").write_text(app.export(state))
    loaded = load_org(tmp_path / "org.yaml", NOW)
    assert loaded.ok, loaded.diagnostics
    desired = desired_from_org(loaded.model)
    assert "lee" + D not in desired.clients["C1"].access  # emergency access is not exported
    result = planner.plan(desired, state, practice="p", now=NOW)
    assert result.operations == ()
    assert [w.code for w in result.warnings] == ["break-glass"]


def test_the_review_queue_is_built_from_break_glass_steps_not_from_entry_kinds():
    """An emergency in an entry labelled otherwise (a store edited behind shsync's back, or an
    older log) is still listed for review; an entry labelled break_glass without one is not."""
    hidden = replace(EMERGENCY, kind="expire")
    dressed = entry(3, "break_glass", [{"action": "set_admin", "target": "kim" + D,
                                        "admin": True}])
    assert [e.seq for e in unreviewed([entry(1, "seed"), hidden, dressed])] == [2]
    assert review_details([hidden], STATE, Actor.member("admin" + D), 2, "ok")["entry"] == 2

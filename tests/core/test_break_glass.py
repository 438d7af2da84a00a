"""The break-glass policy, expiry and reviews as library calls (shsync/core/break_glass.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shsync.jobs import app
from shsync.core.entry import AuditEntry
from shsync.core.break_glass import break_glass_operation, review_details, unreviewed
from shsync.errors import Forbidden, UserError
from shsync.core import planner
from shsync.core.actions import may_break_glass as allowed
from shsync.core.authorize import Actor
from shsync.core.state import End, desired_from_values
from shsync.format.load import load_org
from tests.core.builders import ADMIN, D, c, live, m

from tests.conftest import NOW
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


def test_reviews_are_for_another_named_administrator():
    log = [entry(1, "seed"), EMERGENCY]
    admin = Actor.member("admin" + D)
    assert review_details(log, STATE, admin, 2, " ok ")["note"] == "ok"
    with pytest.raises(Forbidden):
        review_details(log, STATE, Actor.member("kim" + D), 2, "ok")
    # The operator is whoever holds the store's URL without naming themselves: the member who
    # broke glass could review their own emergency that way. A review names its reviewer.
    with pytest.raises(Forbidden) as anonymous:
        review_details(log, STATE, Actor.operator("ops"), 2, "ok")
    assert anonymous.value.code == "review-needs-actor"
    with pytest.raises(UserError, match="not an emergency access"):
        review_details(log, STATE, admin, 1, "ok")
    with pytest.raises(UserError, match="a note is required"):
        review_details(log, STATE, admin, 2, "  ")
    reviewed = [*log, entry(3, "review", details={"entry": 2, "note": "ok"})]
    assert [e.seq for e in unreviewed(log)] == [2] and unreviewed(reviewed) == []
    with pytest.raises(UserError, match="already been reviewed"):
        review_details(reviewed, STATE, admin, 2, "again")


@pytest.mark.parametrize("kind", ["apply", "expire", "refresh", None])
def test_the_review_queue_is_built_from_break_glass_steps_whatever_the_entrys_kind(kind):
    """A log written before kinds were checked (or a store edited by hand) may hold a
    break-glass under another kind: it still awaits a review, and can be reviewed."""
    hidden = replace(EMERGENCY, kind=kind)
    log = [entry(1, "seed"), hidden]
    assert [(e.seq, e.member, e.client) for e in unreviewed(log)] == [(2, "kim" + D, "C1")]
    done = review_details(log, STATE, Actor.member("admin" + D), 2, "ok")
    assert done["member"] == "kim" + D
    assert unreviewed([*log, entry(3, "review", details={"entry": 2})]) == []


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
    assert loaded.value is not None
    desired = desired_from_values(loaded.value)
    assert "lee" + D not in desired.clients["C1"].access  # emergency access is not exported
    result = planner.plan(desired, state, practice="p", now=NOW)
    assert result.operations == ()
    assert [w.code for w in result.warnings] == ["break-glass"]

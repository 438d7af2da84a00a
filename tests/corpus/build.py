"""Writes the hostile-input corpus beside this file: `python tests/corpus/build.py`.

Each file is named `<expected error code>--<what it is>.<ext>`: .yaml files go to `shsync
validate`, .csv rosters to `shsync onboard`, .json saved plans to `shsync apply` against the
practice in `tests/corpus_support/live.yaml`. The files are committed; this script documents how
they were made and can make them again.
"""

from __future__ import annotations

import copy
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from shsync.core import planner  # noqa: E402
from shsync.core.operations import from_dict, to_dict  # noqa: E402
from shsync.core.plan import canonical  # noqa: E402
from shsync.core.state import desired_from_values, state_from_snapshot  # noqa: E402
from shsync.format.load import load_org, load_snapshot  # noqa: E402
from tests.helpers import value_of  # noqa: E402

D = "@corpus.example"
GOOD: dict[str, Any] = {
    "version": 1,
    "members": [
        {"email": f"dana{D}", "first_name": "Dana", "last_name": "O", "admin": True,
         "owner": True, "roles": ["practitioner", "supervisor"], "npi": "1245319599"},
        {"email": f"sam{D}", "first_name": "Sam", "last_name": "L", "roles": ["practitioner"],
         "npi": "1234567893", "supervised_by": f"dana{D}"},
        {"email": f"rosa{D}", "first_name": "Rosa", "last_name": "D", "roles": ["scheduler"]},
    ],
    "clients": [{"id": "C-1", "practitioner": f"sam{D}", "access": [f"dana{D}"]}],
}


def edit(change) -> dict[str, Any]:
    doc = copy.deepcopy(GOOD)
    change(doc)
    return doc


def m(doc: dict[str, Any], i: int) -> dict[str, Any]:
    return doc["members"][i]


def member(name: str, *roles: str, **extra: Any) -> dict[str, Any]:
    return {"email": f"{name}{D}", "first_name": name.title(), "last_name": "X",
            "roles": list(roles), **extra}


def _cycle(d):
    m(d, 1)["roles"] = ["practitioner", "supervisor"]
    d["members"].append(member("ann", "practitioner", "supervisor", supervised_by=f"sam{D}"))
    m(d, 1)["supervised_by"] = f"ann{D}"


RULES: dict[str, Any] = {
    "duplicate-email--same-address-twice": lambda d: d["members"].append(
        member("SAM", "biller")),
    "duplicate-client--same-id-twice": lambda d: d["clients"].append(
        {"id": "C-1", "practitioner": f"sam{D}"}),
    "no-role--member-without-role": lambda d: d["members"].append(member("ann")),
    "invalid-npi--check-digit": lambda d: m(d, 1).update(npi="1234567890"),
    "invalid-npi--starts-with-3": lambda d: m(d, 1).update(npi="3234567893"),
    "invalid-npi--nine-digits": lambda d: m(d, 1).update(npi="123456789"),
    "duplicate-npi--shared": lambda d: m(d, 1).update(npi="1245319599"),
    "practitioner-only--npi-on-scheduler": lambda d: m(d, 2).update(npi="1234567893"),
    "practitioner-only--billing-on-scheduler": lambda d: m(d, 2).update(billing_access=False),
    "multiple-owners--two": lambda d: d["members"].append(
        member("ann", "biller", admin=True, owner=True)),
    "owner-not-admin--basic-owner": lambda d: (m(d, 0).update(admin=False),
                                               m(d, 2).update(admin=True)),
    "no-admin--nobody": lambda d: m(d, 0).update(admin=False, owner=False),
    "unknown-supervisor--not-a-member": lambda d: m(d, 1).update(supervised_by=f"kim{D}"),
    "not-a-supervisor--scheduler-supervises": lambda d: m(d, 1).update(
        supervised_by=f"rosa{D}"),
    "self-supervision--self": lambda d: m(d, 0).update(supervised_by=f"dana{D}"),
    "supervision-cycle--two-members": _cycle,
    "unknown-practitioner--client": lambda d: d["clients"][0].update(practitioner=f"kim{D}"),
    "not-a-practitioner--client": lambda d: d["clients"][0].update(practitioner=f"rosa{D}"),
    "unknown-member--grant": lambda d: d["clients"][0].update(access=[f"kim{D}"]),
    "duplicate-access--grant-twice": lambda d: d["clients"][0].update(
        access=[f"rosa{D}", f"rosa{D}"]),
    "access-to-practitioner--own": lambda d: d["clients"][0].update(access=[f"sam{D}"]),
    "client-supervisor-is-practitioner--own": lambda d: (
        m(d, 1).update(roles=["practitioner", "supervisor"]),
        d["clients"][0].update(supervisor=f"sam{D}")),
    "handoff-from-member--still-declared": lambda d: d.update(handoffs=[{"from": f"sam{D}"}]),
    "handoff-target--not-practitioner": lambda d: d.update(
        handoffs=[{"from": f"jo{D}", "notes": f"rosa{D}"}]),
    "duplicate-handoff--twice": lambda d: d.update(
        handoffs=[{"from": f"jo{D}"}, {"from": f"jo{D}"}]),
    "unsupported-version--two": lambda d: d.update(version=2),
    "missing-key--no-last-name": lambda d: m(d, 2).pop("last_name"),
    "unknown-key--supervisor-by": lambda d: m(d, 1).update(
        supervisor_by=m(d, 1).pop("supervised_by")),
    "invalid-role--typo": lambda d: m(d, 2).update(roles=["schedular"]),
    "duplicate-item--role-twice": lambda d: m(d, 2).update(roles=["scheduler", "scheduler"]),
    "invalid-email--no-at": lambda d: m(d, 2).update(email="rosa.corpus.example"),
    "invalid-taxonomy--short": lambda d: m(d, 1).update(taxonomy="101YM0800"),
    "invalid-client-id--a-name": lambda d: d["clients"][0].update(id="Jane Doe"),
    "invalid-client-id--too-long": lambda d: d["clients"][0].update(id="C" * 65),
    "invalid-length--huge-scalar": lambda d: m(d, 2).update(first_name="A" * 100_000),
    "wrong-type--members-is-a-mapping": lambda d: d.update(members={"email": f"x{D}"}),
}

GOOD_TEXT = yaml.safe_dump(GOOD, sort_keys=False)
RAW: dict[str, bytes] = {
    "wrong-type--npi-without-quotes": GOOD_TEXT.replace("'1234567893'", "1234567893").encode(),
    "wrong-type--norway-no": GOOD_TEXT.replace("admin: true", "admin: no").encode(),
    "yaml-duplicate-key--email-twice": GOOD_TEXT.replace(
        "  first_name: Rosa", f"  first_name: Rosa\n  email: other{D}").encode(),
    "yaml-alias-bomb--billion-laughs": ("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
                                        + "".join(f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n"
                                                  for p, n in zip("abcdefgh", "bcdefghi"))
                                        ).encode(),
    "yaml-too-deep--nesting": ("version: 1\nx: " + "[" * 1000 + "]" * 1000 + "\n").encode(),
    "encoding--nul-byte": GOOD_TEXT.replace("Rosa", "Ro\x00sa").encode(),
    "encoding--invalid-utf8": GOOD_TEXT.encode().replace(b"Rosa", b"Ros\xe9"),
    "encoding--utf16": GOOD_TEXT.encode("utf-16"),
    "yaml-tab--tab-indent": GOOD_TEXT.replace("\n  first_name: Rosa", "\n\tfirst_name: Rosa")
    .encode(),
    "yaml-tag--python-object": b"version: 1\nmembers: !!python/object/apply:os.system [id]\n",
    "yaml-tag--binary": b"version: 1\npractice: !!binary aGVsbG8=\n",
    "yaml-tag--custom": b"version: 1\npractice: !secret name\n",
    "yaml-merge-key--defaults": (b"version: 1\nbase: &b {last_name: X}\nmembers:\n"
                                 b"  - <<: *b\n    email: a@corpus.example\n"),
    "yaml-key-not-string--number": b"version: 1\n1: one\n",
    "yaml-key-not-string--null": b"version: 1\n~: nothing\n",
    "yaml-multiple-documents--two": GOOD_TEXT.encode() + b"---\nversion: 1\n",
    "yaml-syntax--unclosed-list": b"version: 1\nmembers: [\n",
    "yaml-alias--undefined": b"version: 1\npractice: *nowhere\n",
    "empty-file--nothing": b"",
    "empty-file--only-comments": b"# nothing here\n",
    "not-a-mapping--a-list": b"- version: 1\n",
    "not-a-mapping--a-scalar": b"just text\n",
}

ROSTER_HEADER = "email,first_name,last_name,roles,admin,npi,taxonomy,billing_access,supervised_by\n"
ADMIN_ROW = f"dana{D},Dana,O,practitioner;supervisor,yes,1245319599,,,\n"
ROSTERS: dict[str, bytes] = {
    "missing-column--no-last-name": b"email,first_name\nx@corpus.example,X\n",
    "invalid-npi--check-digit": (ROSTER_HEADER + ADMIN_ROW
                                 + f"sam{D},Sam,L,practitioner,,1234567890,,,\n").encode(),
    "unknown-supervisor--row": (ROSTER_HEADER + ADMIN_ROW
                                + f"sam{D},Sam,L,practitioner,,,,no,kim{D}\n").encode(),
    "invalid-email--row": (ROSTER_HEADER + ADMIN_ROW + "not-an-email,A,B,biller,,,,,\n").encode(),
    "invalid-role--row": (ROSTER_HEADER + ADMIN_ROW + f"a{D},A,B,janitor,,,,,\n").encode(),
    "wrong-type--admin-maybe": (ROSTER_HEADER + ADMIN_ROW + f"a{D},A,B,biller,maybe,,,,\n")
    .encode(),
    "duplicate-email--two-rows": (ROSTER_HEADER + ADMIN_ROW + ADMIN_ROW).encode(),
    # A roster with no administrator into a new directory is a warning, not a refusal: new
    # hires may be onboarded before the administrators (tests/cli/test_onboard.py).
    "encoding--latin1": (ROSTER_HEADER + ADMIN_ROW + f"a{D},Jos\xe9,B,biller,,,,,\n")
    .encode("latin-1"),
    "empty-file--nothing": b"",
}


def _rehash(data: dict[str, Any]) -> str:
    data.pop("plan_hash", None)
    data["plan_hash"] = "sha256:" + hashlib.sha256(canonical(data).encode()).hexdigest()
    return json.dumps(data, indent=1)


def plans() -> dict[str, str]:
    support = ROOT / "tests" / "corpus_support"
    live = state_from_snapshot(value_of(load_snapshot(support / "live.yaml")))
    desired = desired_from_values(value_of(load_org(support / "desired.yaml")))
    plan = planner.plan(desired, live, practice="default", now="2026-11-26T12:00:00Z")
    assert plan.operations and not plan.errors
    good = json.loads(plan.to_file())

    def variant(change) -> dict[str, Any]:
        data = copy.deepcopy(good)
        change(data)
        return data

    edited = variant(lambda d: d["changes"][0].update(admin=True))
    return {
        "plan-hash-mismatch--edited-operation": json.dumps(edited, indent=1),
        "plan-hash-mismatch--no-hash": json.dumps(variant(lambda d: d.pop("plan_hash"))),
        "plan-format-version--future": _rehash(variant(lambda d: d.update(format_version=9))),
        "stale-plan--other-fingerprint": _rehash(variant(
            lambda d: d.update(fingerprint="sha256:" + "0" * 64))),
        "wrong-practice--other-practice": _rehash(variant(lambda d: d.update(practice="other"))),
        "plan-malformed--unknown-action": _rehash(variant(
            lambda d: d["changes"].append({"action": "drop_table", "target": "x"}))),
        "plan-malformed--extra-field": _rehash(variant(lambda d: d.update(note="hi"))),
        "forbidden--actor-escalates": _rehash(variant(
            lambda d: d.update(actor=f"sam{D}"))),
        "not-a-plan--yaml": "kind: shsync-plan\n",
        "not-a-plan--truncated": plan.to_file()[:200],
        **forged(good),
    }


S, DANA, ROSA = f"sam{D}", f"dana{D}", f"rosa{D}"
# One forged step per action, each breaking its precondition against the live practice (or the
# owner rules), in a plan file whose hash is recomputed: the store's own check must refuse it.
FORGED: dict[str, dict[str, Any]] = {
    "invite_member-existing-member": {"action": "invite_member", "target": S, "first_name": "S",
                                      "last_name": "L", "roles": ["biller"], "admin": True,
                                      "npi": None, "taxonomy": None, "billing_access": True,
                                      "full_clinical_access": False, "status": "active"},
    "accept_invitation-already-active": {"action": "accept_invitation", "target": S},
    "update_member-stale-value": {"action": "update_member", "target": S,
                                  "changes": {"first_name": ["Wrong", "X"]}},
    "grant_role-already-held": {"action": "grant_role", "target": S, "role": "practitioner"},
    "revoke_role-clients-assigned": {"action": "revoke_role", "target": S,
                                     "role": "practitioner"},
    "set_admin-owner-demotion": {"action": "set_admin", "target": DANA, "admin": False},
    "set_billing_access-not-a-practitioner": {"action": "set_billing_access", "target": ROSA,
                                              "billing_access": False},
    "set_full_clinical_access-not-a-practitioner": {
        "action": "set_full_clinical_access", "target": ROSA, "full_clinical_access": True},
    "set_practice_name-stale-name": {"action": "set_practice_name", "target": "practice",
                                     "name": "X", "previous": "Wrong"},
    "set_policy-stale-policy": {"action": "set_policy", "target": "practice", "approvals": {},
                                "previous": {"widens_access": 1}},
    "set_break_glass_policy-stale-policy": {
        "action": "set_break_glass_policy", "target": "practice", "who": ["biller"],
        "max_minutes": 10080, "previous_who": ["admin"], "previous_max_minutes": 60},
    "set_deadline_policy-stale-deadlines": {
        "action": "set_deadline_policy", "target": "practice", "deadlines": {"other": 60},
        "previous": {"narrows_access": 30}},
    "set_supervisor-not-a-supervisor": {"action": "set_supervisor", "target": S,
                                        "supervisor": ROSA, "previous": DANA},
    "set_cosign-stale-value": {"action": "set_cosign", "target": S, "cosign": ["assessments"],
                               "previous": ["progress_notes"]},
    "create_client-existing-client": {"action": "create_client", "target": "C-1",
                                      "practitioner": DANA, "access": [], "supervisor": None},
    "reassign_client-stale-practitioner": {"action": "reassign_client", "target": "C-1",
                                           "practitioner": DANA, "previous": ROSA},
    "set_client_supervisor-unknown-client": {"action": "set_client_supervisor", "target": "C-404",
                                             "supervisor": DANA, "previous": None},
    "grant_access-to-a-scheduler": {"action": "grant_access", "target": "C-1", "member": ROSA},
    "revoke_access-not-granted": {"action": "revoke_access", "target": "C-1", "member": DANA},
    "set_access_end-not-granted": {"action": "set_access_end", "target": "C-1", "member": DANA,
                                   "until": "2027-01-01T00:00:00Z", "reason": "cover",
                                   "previous": None},
    "break_glass-already-sees": {"action": "break_glass", "target": "C-1", "member": S,
                                 "until": "2027-01-01T00:00:00Z", "reason": "crisis"},
    "handoff_notes-wrong-count": {"action": "handoff_notes", "target": S, "to": DANA,
                                  "count": 5},
    "handoff_signatures-to-a-scheduler": {"action": "handoff_signatures", "target": S,
                                          "to": ROSA, "count": 0},
    "remove_member-the-owner": {"action": "remove_member", "target": DANA,
                                "cancel_appointments": 0},
    "remove_member-unknown-member": {"action": "remove_member", "target": f"ghost{D}",
                                     "cancel_appointments": 0},
}


def forged(good: dict[str, Any]) -> dict[str, str]:
    out = {}
    for name, step in FORGED.items():
        data = copy.deepcopy(good)
        data.update(changes=[to_dict(from_dict(step))], deferred=[], access_changes=[])
        if step["action"] == "break_glass":  # in the only kind of plan it may be in
            data["plan_kind"] = "break_glass"
        out[f"refused--{name}"] = _rehash(data)
    # A plan's kind becomes its audit entry's kind, which the review of emergencies relies on:
    # a break-glass logged as an expiry, a change dressed up as a break-glass, a policy change
    # passed off as an observation of Sessions Health; a grant, or the removal of access that
    # never had an end, passed off as an expiry.
    glass = {"action": "break_glass", "target": "C-1", "member": ROSA,
             "until": "2026-11-26T13:00:00Z", "reason": "crisis"}
    for name, kind, step in (
            ("break_glass-logged-as-expire", "expire", glass),
            ("set_admin-dressed-as-break_glass", "break_glass",
             {"action": "set_admin", "target": ROSA, "admin": True}),
            ("policy-in-a-refresh", "refresh",
             {**FORGED["set_break_glass_policy-stale-policy"], "previous_who": None,
              "previous_max_minutes": None}),
            ("grant-logged-as-expire", "expire",
             {"action": "set_full_clinical_access", "target": S, "full_clinical_access": True,
              "expired": "2026-01-01T00:00:00Z"}),
            ("revoke-without-an-end-as-expire", "expire",
             {"action": "revoke_access", "target": "C-1", "member": S,
              "expired": "2026-01-01T00:00:00Z"}),
            # an administrator's own time-bound access, passed off as something observed
            ("timed-access-in-a-refresh", "refresh",
             {"action": "set_full_clinical_access", "target": S, "full_clinical_access": True,
              "until": "2027-01-01T00:00:00Z", "reason": "records audit"})):
        data = copy.deepcopy(good)
        data.update(changes=[to_dict(from_dict(step))], deferred=[], access_changes=[],
                    plan_kind=kind)
        out[f"plan-kind-mismatch--{name}"] = _rehash(data)
    zeroed = copy.deepcopy(good)
    zeroed["summary"] = {k: 0 for k in zeroed["summary"]}
    out["plan-summary-mismatch--zeroed"] = _rehash(zeroed)
    out["plan-malformed--invented-role"] = _rehash(
        {**copy.deepcopy(good), "changes": [{**FORGED["invite_member-existing-member"],
                                             "roles": ["god"]}]})
    return out


def main() -> None:
    for old in HERE.glob("*--*"):
        old.unlink()
    for name, change in RULES.items():
        (HERE / f"{name}.yaml").write_text(yaml.safe_dump(edit(change), sort_keys=False))
    for name, raw in RAW.items():
        (HERE / f"{name}.yaml").write_bytes(raw)
    for name, raw in ROSTERS.items():
        (HERE / f"{name}.csv").write_bytes(raw)
    for name, text in plans().items():
        (HERE / f"{name}.json").write_text(text)
    print(f"wrote {len(list(HERE.glob('*--*')))} corpus files")


if __name__ == "__main__":
    main()

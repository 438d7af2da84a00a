"""Every rule of the org format: one org that breaks it, one that keeps it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shsync.format.rules import CODES
from tests.helpers import base_org, codes, email, load_data, member, write_yaml

Org = dict[str, Any]


def m(org: Org, name: str) -> dict[str, Any]:
    return next(x for x in org["members"] if x["email"] == email(name))


def add(org: Org, *members: dict[str, Any]) -> Org:
    org["members"].extend(members)
    return org


def client(org: Org, **fields: Any) -> Org:
    org["clients"][0].update(fields)
    return org


# code -> (break it, keep it): each function edits a fresh valid org.
CASES: dict[str, tuple[Callable[[Org], Any], Callable[[Org], Any]]] = {
    "duplicate-email": (lambda o: add(o, member("SAM", "scheduler")),
                        lambda o: add(o, member("sam2", "scheduler"))),
    "duplicate-client": (lambda o: o["clients"].append({"id": "C-1", "practitioner": email("sam")}),
                         lambda o: o["clients"].append({"id": "C-2", "practitioner": email("sam")})),
    "no-role": (lambda o: add(o, member("ann")), lambda o: add(o, member("ann", admin=True))),
    "invalid-npi": (lambda o: m(o, "sam").update(npi="1234567890"),
                    lambda o: m(o, "sam").update(npi="1234567893")),
    "duplicate-npi": (lambda o: m(o, "sam").update(npi="1245319599"),
                      lambda o: m(o, "sam").update(npi="1234567893")),
    "practitioner-only": (lambda o: m(o, "rosa").update(taxonomy="101YM0800X"),
                          lambda o: m(o, "sam").update(taxonomy="101YM0800X")),
    "multiple-owners": (lambda o: add(o, member("ann", "biller", admin=True, owner=True)),
                        lambda o: add(o, member("ann", "biller", admin=True))),
    "owner-not-admin": (lambda o: m(o, "dana").update(admin=False) or
                        add(o, member("ann", "biller", admin=True)),
                        lambda o: add(o, member("ann", "biller", admin=True))),
    "no-admin": (lambda o: m(o, "dana").update(admin=False, owner=False),
                 lambda o: m(o, "dana").update(owner=False)),
    "unknown-supervisor": (lambda o: m(o, "sam").update(supervised_by=email("kim")),
                           lambda o: m(o, "sam").update(supervised_by=email("dana"))),
    "not-a-supervisor": (lambda o: m(o, "sam").update(supervised_by=email("rosa")),
                         lambda o: m(o, "rosa").update(roles=["scheduler", "supervisor"]) or
                         m(o, "sam").update(supervised_by=email("rosa"))),
    "self-supervision": (lambda o: m(o, "dana").update(supervised_by=email("dana")),
                         lambda o: None),
    "supervision-cycle": (lambda o: m(o, "sam").update(roles=["practitioner", "supervisor"]) or
                          m(o, "dana").update(supervised_by=email("sam")),
                          lambda o: m(o, "sam").update(roles=["practitioner", "supervisor"])),
    "unknown-practitioner": (lambda o: client(o, practitioner=email("kim")), lambda o: None),
    "not-a-practitioner": (lambda o: client(o, practitioner=email("rosa")), lambda o: None),
    "unknown-member": (lambda o: client(o, access=[email("kim")]),
                       lambda o: client(o, access=[email("dana")])),
    "duplicate-access": (lambda o: client(o, access=[email("dana"), email("dana")]),
                         lambda o: client(o, access=[email("dana")])),
    "access-not-practitioner": (lambda o: client(o, access=[email("rosa")]),
                                lambda o: client(o, access=[email("dana")])),
    "cosign-without-supervisor": (lambda o: m(o, "dana").update(cosign=["progress_notes"]),
                                  lambda o: m(o, "sam").update(cosign=["progress_notes"])),
    "access-to-practitioner": (lambda o: client(o, access=[email("sam")]),
                               lambda o: client(o, access=[email("dana")])),
    "client-supervisor-is-practitioner": (
        lambda o: m(o, "sam").update(roles=["practitioner", "supervisor"]) or
        client(o, supervisor=email("sam")),
        lambda o: client(o, supervisor=email("dana"))),
    "handoff-from-member": (lambda o: o.update(handoffs=[{"from": email("sam")}]),
                            lambda o: o.update(handoffs=[{"from": email("jo")}])),
    "handoff-target": (lambda o: o.update(handoffs=[{"from": email("jo"), "notes": email("rosa")}]),
                       lambda o: o.update(handoffs=[{"from": email("jo"), "notes": email("sam")}])),
    "duplicate-handoff": (lambda o: o.update(handoffs=[{"from": email("jo")}, {"from": email("jo")}]),
                          lambda o: o.update(handoffs=[{"from": email("jo")}, {"from": email("al")}])),
    "missing-npi": (lambda o: m(o, "sam").pop("npi"),
                    lambda o: m(o, "sam").pop("npi") and m(o, "sam").update(billing_access=False)),
    "redundant-access": (lambda o: m(o, "dana").update(full_clinical_access=True),
                         lambda o: None),
    "control-character": (lambda o: m(o, "sam").update(first_name="Sam\x1b[2K"),
                          lambda o: m(o, "sam").update(first_name="Sám Ó'Brien-Łukasz 李")),
}
FILE_LEVEL = {"conflicting-setting", "unknown-client"}  # tested with directories and snapshots
ENDINGS = {"expired-grant", "invalid-until", "invalid-timezone", "until-without-reason",
           "invalid-policy"}  # tested with a fixed clock in tests/format/test_until.py


def test_every_rule_has_a_case():
    assert set(CODES) - FILE_LEVEL - ENDINGS == set(CASES)


def test_the_base_org_is_valid(tmp_path):
    loaded = load_data(tmp_path, base_org())
    assert loaded.ok and loaded.diagnostics == ()


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_reports_a_violation(tmp_path, code):
    org = base_org()
    CASES[code][0](org)
    assert code in codes(load_data(tmp_path, org))


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_accepts_a_compliant_org(tmp_path, code):
    org = base_org()
    CASES[code][1](org)
    assert code not in codes(load_data(tmp_path, org))


def test_invalid_npi_message_names_the_expected_check_digit(tmp_path):
    org = base_org()
    m(org, "sam")["npi"] = "1234567890"
    (d,) = [d for d in load_data(tmp_path, org).diagnostics if d.code == "invalid-npi"]
    assert d.message == '"1234567890" fails the NPI check digit (expected 1234567893)'


def test_unknown_supervisor_points_at_the_value(tmp_path):
    org = base_org()
    m(org, "sam")["supervised_by"] = email("kim")
    (d,) = load_data(tmp_path, org).diagnostics
    assert d.location is not None and d.location.column is not None
    assert d.render() == (
        f"{tmp_path.name and d.location.file}:{d.location.line}:{d.location.column}: "
        f"error[unknown-supervisor]: {email('sam')} is supervised by {email('kim')}, "
        "who is not a member")
    text = (tmp_path / "org.yaml").read_text().splitlines()
    assert text[d.location.line - 1][d.location.column - 1:] == email("kim")


def test_cycle_is_reported_whole(tmp_path):
    org = base_org()
    add(org, member("ann", "practitioner", "supervisor", supervised_by=email("sam")))
    m(org, "sam").update(roles=["practitioner", "supervisor"], supervised_by=email("ann"))
    found = [d for d in load_data(tmp_path, org).diagnostics if d.code == "supervision-cycle"]
    assert len(found) == 2  # one per member in the cycle, the same message
    assert f"{email('sam')} -> {email('ann')} -> {email('sam')}" in found[0].message


def test_emails_compare_case_insensitively(tmp_path):
    org = base_org()
    m(org, "sam")["supervised_by"] = email("DANA")
    assert load_data(tmp_path, org).ok


def test_all_problems_are_reported_at_once(tmp_path):
    org = base_org()
    m(org, "sam").update(npi="1234567890", supervised_by=email("kim"))
    m(org, "rosa")["admin"] = "yes"
    found = set(codes(load_data(tmp_path, org)))
    assert {"invalid-npi", "unknown-supervisor", "wrong-type"} <= found


def test_a_malformed_member_does_not_cascade_into_reference_errors(tmp_path):
    org = base_org()
    m(org, "dana")["admin"] = "yes"  # dana is dropped from the rules, but still declared
    assert codes(load_data(tmp_path, org)) == ["wrong-type"]


def test_warnings_alone_keep_the_org_valid(tmp_path):
    org = base_org()
    m(org, "sam").pop("npi")
    loaded = load_data(tmp_path, org)
    assert loaded.ok and codes(loaded) == ["missing-npi"]


@pytest.mark.parametrize("field", ["first_name", "last_name"])
@pytest.mark.parametrize("hostile", ["\x1b[1A", "a\nb", "a\rb", "\u2028", "\u2029", "\u202e",
                                     "\u2066x", "\x7f", "\x85", "\x00"])
def test_a_control_character_in_a_name_is_an_error_naming_the_field(tmp_path, field, hostile):
    org = base_org()
    m(org, "sam")[field] = f"Sam{hostile}"
    found = [d for d in load_data(tmp_path, org).diagnostics if d.code == "control-character"]
    assert len(found) == 1
    (d,) = found
    assert d.message.startswith(f"{email('sam')}'s {field} holds the character \\u")
    assert d.message.isprintable() and d.location is not None


def test_a_control_character_in_the_practice_name_is_an_error(tmp_path):
    org = base_org()
    org["practice"] = "Riverbend\u202eCounseling"
    (d,) = load_data(tmp_path, org).diagnostics
    assert d.code == "control-character"
    assert d.message == ("practice holds the character \\u202e (a control character, bidi "
                         "override or line separator); names may hold none")
    text = (tmp_path / "org.yaml").read_text().splitlines()
    assert d.location is not None
    assert text[d.location.line - 1].startswith("practice:")


def test_a_control_character_in_a_snapshot_is_an_error(tmp_path):
    from shsync.format.load import load_snapshot

    org = base_org()
    m(org, "rosa")["last_name"] = "Test\u2028No changes."
    loaded = load_snapshot(write_yaml(tmp_path / "snapshot.yaml", org))
    assert not loaded.ok and "control-character" in [d.code for d in loaded.diagnostics]


def test_a_mistyped_email_gets_the_member_it_probably_means_wherever_it_is_named(tmp_path):
    org = base_org()
    org["handoffs"] = [{"from": email("jo"), "clients": email("sma"), "notes": email("rosa")}]
    org["policy"] = {"break_glass": {"who": [email("dnaa")]}}
    found = [(d.code, d.message) for d in load_data(tmp_path, org).diagnostics]
    assert found == [
        ("handoff-target", f"{email('jo')}'s clients go to {email('sma')}, who is not a declared "
                           f"practitioner; did you mean {email('sam')}?"),
        # Rosa is a member, not a practitioner: no guess at another name for her.
        ("handoff-target", f"{email('jo')}'s notes go to {email('rosa')}, who is not a declared "
                           "practitioner"),
        ("unknown-member", f"break_glass.who names {email('dnaa')}, who is not a member; did "
                           f"you mean {email('dana')}?")]

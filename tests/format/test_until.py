"""Access that ends by itself, in the org file: `until`, `reason`, `timezone`, the break-glass
policy. A fixed clock throughout."""

from __future__ import annotations

import pytest

from shsync.model.clock import duration, end_instant
from shsync.core.state import desired_from_values
from shsync.format.load import load_org
from tests.helpers import base_org, codes, email, write_yaml

from tests.conftest import NOW


def load(tmp_path, org, now=NOW):
    return load_org(write_yaml(tmp_path / "org.yaml", org), now)


def timed(until, reason="leave cover", **org_fields):
    org = base_org()
    grant = {"member": email("dana"), "until": until}
    if reason is not None:
        grant["reason"] = reason
    org["clients"][0]["access"] = [grant]
    org.update(org_fields)
    return org


@pytest.mark.parametrize("until, zone, end", [
    ("2027-01-31", None, "2027-02-01T00:00:00Z"),  # a date: the end of that day, UTC
    ("2027-01-31", "America/Chicago", "2027-02-01T06:00:00Z"),  # CST is UTC-6
    ("2027-07-31", "America/Chicago", "2027-08-01T05:00:00Z"),  # CDT is UTC-5
    ("2027-01-31", "Asia/Tokyo", "2027-01-31T15:00:00Z"),
    ("2027-01-31T17:30", "Europe/Paris", "2027-01-31T16:30:00Z"),  # a local time
    ("2027-01-31T17:30:05Z", "Europe/Paris", "2027-01-31T17:30:05Z"),  # an instant stays
    ("2027-01-31T17:30:00-05:00", "Asia/Tokyo", "2027-01-31T22:30:00Z"),
    ("2027-01-31 09:00", None, "2027-01-31T09:00:00Z"),
])
def test_until_is_an_instant_in_the_practices_time_zone(until, zone, end):
    assert end_instant(until, zone) == end


def test_the_org_file_carries_ends_into_the_desired_practice(tmp_path):
    org = timed("2027-01-31", timezone="America/Chicago")
    org["members"][1]["full_clinical_access"] = {"until": "2027-01-15", "reason": "audit"}
    loaded = load(tmp_path, org)
    assert loaded.ok, loaded.diagnostics
    desired = desired_from_values(loaded.value)
    (end,) = desired.clients["C-1"].ends
    assert (end.member, end.until, end.reason, end.break_glass) == (
        email("dana"), "2027-02-01T06:00:00Z", "leave cover", False)
    assert desired.clients["C-1"].access == (email("dana"),)
    sam = desired.members[email("sam")]
    assert (sam.full_clinical_access, sam.clinical_until, sam.clinical_reason) == (
        True, "2027-01-16T06:00:00Z", "audit")


@pytest.mark.parametrize("now, expired", [
    ("2026-11-30T23:59:59Z", False),  # one second before the end of the 30th (UTC)
    ("2026-12-01T00:00:00Z", True),  # at the end
    ("2026-12-01T00:00:01Z", True),  # after
])
def test_a_past_until_is_a_warning_to_the_second(tmp_path, now, expired):
    loaded = load(tmp_path, timed("2026-11-30"), now)
    assert loaded.ok
    assert ("expired-grant" in codes(loaded)) is expired


def test_the_expired_warning_points_at_the_until_and_says_it_can_go(tmp_path):
    loaded = load(tmp_path, timed("2026-11-01"))
    (d,) = loaded.diagnostics
    assert d.render() == (
        f"{d.location.file}:{d.location.line}:{d.location.column}: warning[expired-grant]: client C-1's "
        f"grant to {email('dana')} ended at 2026-11-02T00:00:00Z: it is revoked by the next "
        "plan, and this entry can be removed")
    assert d.location.file.endswith("org.yaml")
    assert (tmp_path / "org.yaml").read_text().splitlines()[d.location.line - 1][
        d.location.column - 1:] in ("'2026-11-01'", "2026-11-01")


def test_validate_without_a_clock_does_not_judge_expiry(tmp_path):
    assert codes(load(tmp_path, timed("2020-01-01"), None)) == []


def test_full_clinical_access_can_expire(tmp_path):
    org = base_org()
    org["members"][1]["full_clinical_access"] = {"until": "2026-11-01", "reason": "audit"}
    assert codes(load(tmp_path, org)) == ["expired-grant"]


def test_an_until_without_a_reason_is_a_warning(tmp_path):
    loaded = load(tmp_path, timed("2027-01-31", reason=None))
    assert loaded.ok and codes(loaded) == ["until-without-reason"]


@pytest.mark.parametrize("until", ["2027-02-30", "2027-13-01", "2027-01-31T25:00"])
def test_a_date_that_does_not_exist_is_an_error(tmp_path, until):
    loaded = load(tmp_path, timed(until))
    assert not loaded.ok and codes(loaded) == ["invalid-until"]


@pytest.mark.parametrize("until", ["next friday", "31/01/2027", "2027-01-31T17"])
def test_an_until_that_is_no_date_is_refused_by_the_schema(tmp_path, until):
    loaded = load(tmp_path, timed(until))
    assert not loaded.ok and codes(loaded) == ["invalid-value"]


def test_an_unknown_time_zone_is_an_error(tmp_path):
    loaded = load(tmp_path, timed("2027-01-31", timezone="Mars/Olympus_Mons"))
    assert not loaded.ok and "invalid-timezone" in codes(loaded)


def test_a_grant_with_an_end_keeps_every_grant_rule(tmp_path):
    org = timed("2027-01-31")
    org["clients"][0]["access"].append(email("dana"))
    assert codes(load(tmp_path, org)) == ["duplicate-access"]
    org = timed("2027-01-31")
    org["clients"][0]["access"][0]["member"] = email("rosa")
    assert codes(load(tmp_path, org)) == ["access-not-practitioner"]


def test_the_break_glass_policy(tmp_path):
    org = base_org()
    org["policy"] = {"break_glass": {"who": ["supervisor", "admin", email("sam")],
                                     "max": "2h30m"}}
    assert load(tmp_path, org).ok
    org["policy"] = {"break_glass": {"who": ["janitor", email("kim")]}}
    assert codes(load(tmp_path, org)) == ["invalid-policy", "unknown-member"]
    org["policy"] = {"break_glass": {"max": "8 hours"}}
    assert codes(load(tmp_path, org)) == ["invalid-value"]


def test_files_of_one_org_agree_on_the_time_zone(tmp_path):
    write_yaml(tmp_path / "org" / "a.yaml", {**base_org(), "timezone": "Europe/Paris"})
    write_yaml(tmp_path / "org" / "b.yaml", {"version": 1, "timezone": "UTC"})
    assert "conflicting-setting" in codes(load_org(tmp_path / "org", NOW))


@pytest.mark.parametrize("text, minutes", [("8h", 480), ("90m", 90), ("1h30m", 90)])
def test_durations(text, minutes):
    assert duration(text).total_seconds() == minutes * 60


@pytest.mark.parametrize("text", ["", "0h", "8", "h", "1.5h", "-2h"])
def test_not_durations(text):
    with pytest.raises(ValueError):
        duration(text)

"""An observation (what `refresh` reads) reads all an org file may hold, as `export` writes it:
the desired state ignored with a warning per key, a `timezone` applied to its `until`s. A
snapshot to seed from still refuses the desired state."""

from __future__ import annotations

from typing import Any

from shsync.format.load import load_snapshot, status_unstated
from shsync.model.diagnostics import Severity
from tests.helpers import email, member, write_yaml

MEMBERS = [member("dana", "practitioner", admin=True, owner=True, npi="1245319599"),
           {**member("sam", "practitioner", npi="1234567893"), "status": "active"},
           {**member("kim", "practitioner", npi="1260181593"), "status": "invited"}]
CLIENTS = [{"id": "C-1", "practitioner": email("sam"),
            "access": [{"member": email("dana"), "until": "2027-01-31", "reason": "cover"}]}]


def test_the_desired_state_is_ignored_with_a_warning_for_each_key_where_it_is(tmp_path):
    path = write_yaml(tmp_path / "observed.yaml",
                      "version: 1\nprune: true\npolicy:\n  approvals: {widens_access: 1}\n"
                      "members:\n  - {email: dana@riverbend.example, first_name: D, "
                      "last_name: O, admin: true, owner: true, roles: [scheduler]}\n")
    loaded = load_snapshot(path, observation=True)
    assert loaded.ok
    assert [(d.severity, d.code, d.location.line, d.location.column)  # type: ignore[union-attr]
            for d in loaded.diagnostics] == [(Severity.WARNING, "ignored-key", 2, 1),
                                             (Severity.WARNING, "ignored-key", 3, 1)]
    assert [d.message.split(":")[0] for d in loaded.diagnostics] == ["ignored 'prune'",
                                                                     "ignored 'policy'"]


def test_each_file_of_a_directory_is_told_of_its_own_keys(tmp_path):
    write_yaml(tmp_path / "org" / "org.yaml", {"version": 1, "prune": True})
    write_yaml(tmp_path / "org" / "members.yaml", {"version": 1, "members": MEMBERS,
                                                   "policy": {}})
    loaded = load_snapshot(tmp_path / "org", observation=True)
    assert loaded.ok
    assert sorted((d.location.file.rsplit("/", 1)[-1], d.message.split(":")[0])  # type: ignore
                  for d in loaded.diagnostics) == [("members.yaml", "ignored 'policy'"),
                                                   ("org.yaml", "ignored 'prune'")]


def test_a_timezone_reads_the_untils_as_an_org_file_does(tmp_path):
    snap = {"version": 1, "timezone": "America/Chicago", "members": MEMBERS, "clients": CLIENTS}
    loaded = load_snapshot(write_yaml(tmp_path / "observed.yaml", snap), observation=True)
    assert loaded.value is not None and loaded.diagnostics == ()
    assert _until(loaded.value) == "2027-02-01T06:00:00Z"  # the end of Jan 31 in Chicago
    utc = load_snapshot(write_yaml(tmp_path / "utc.yaml", {**snap, "timezone": "UTC"}),
                        observation=True).value
    assert utc is not None and _until(utc) == "2027-02-01T00:00:00Z"


def _until(snapshot: Any) -> Any:
    grant = snapshot.clients[0].access[0]
    return grant.until


def test_a_timezone_that_is_no_zone_is_an_error(tmp_path):
    loaded = load_snapshot(write_yaml(tmp_path / "observed.yaml",
                                      {"version": 1, "timezone": "Mars/Olympus",
                                       "members": MEMBERS}), observation=True)
    assert not loaded.ok
    assert [(d.code, d.location.line) for d in loaded.diagnostics] == [  # type: ignore
        ("invalid-timezone", 2)]


def test_members_listed_without_a_status_are_named(tmp_path):
    loaded = load_snapshot(write_yaml(tmp_path / "observed.yaml",
                                      {"version": 1, "members": MEMBERS}), observation=True)
    assert loaded.value is not None
    assert status_unstated(loaded.value) == {email("dana")}


def test_a_snapshot_to_seed_from_refuses_the_desired_state(tmp_path):
    path = write_yaml(tmp_path / "snapshot.yaml", {"version": 1, "prune": True,
                                                   "members": MEMBERS})
    assert [d.code for d in load_snapshot(path).diagnostics] == ["unknown-key"]
    assert [d.code for d in load_snapshot(path, observation=True).diagnostics] == [
        "ignored-key"]
    assert [d.code for d in load_snapshot(path).diagnostics] == ["unknown-key"]

"""An org split over a directory of files is one org."""

import os

import yaml

from tests.helpers import base_org, codes, email, location_of, member, write_yaml

from shsync.format.load import load_org


def split(tmp_path, extra_members=(), **settings):
    org = base_org()
    write_yaml(tmp_path / "org" / "members" / "clinical.yaml",
               {"version": 1, **settings, "members": org["members"][:2]})
    write_yaml(tmp_path / "org" / "members" / "front-office.yaml",
               {"version": 1, "members": [org["members"][2], *extra_members]})
    write_yaml(tmp_path / "org" / "clients.yaml", {"version": 1, "clients": org["clients"]})
    return tmp_path / "org"


def test_files_are_concatenated_into_one_org(tmp_path):
    loaded = load_org(split(tmp_path))
    assert loaded.ok and loaded.value is not None
    assert [m["email"] for m in loaded.value.members] == [email("dana"), email("sam"), email("rosa")]
    assert [c["id"] for c in loaded.value.clients] == ["C-1"]


def test_references_resolve_across_files(tmp_path):
    root = split(tmp_path, [member("ann", "practitioner", supervised_by=email("dana"),
                                   billing_access=False)])
    assert load_org(root).ok


def test_a_duplicate_across_files_is_reported_at_both_places(tmp_path):
    loaded = load_org(split(tmp_path, [member("sam", "biller")]))
    found = [d for d in loaded.diagnostics if d.code == "duplicate-email"]
    assert {location_of(d).file.rsplit("/", 1)[-1] for d in found} == {"clinical.yaml",
                                                                      "front-office.yaml"}


def test_a_rule_error_points_into_the_right_file(tmp_path):
    loaded = load_org(split(tmp_path, [member("ann", "practitioner", supervised_by=email("kim"),
                                              billing_access=False)]))
    (d,) = loaded.diagnostics
    assert d.code == "unknown-supervisor"
    assert d.location is not None and d.location.column is not None
    assert d.location.file.endswith("front-office.yaml")
    line = (tmp_path / "org/members/front-office.yaml").read_text().splitlines()[d.location.line - 1]
    assert line[d.location.column - 1:] == email("kim")


def test_conflicting_settings_are_reported_in_each_file(tmp_path):
    root = split(tmp_path, prune=False)
    write_yaml(root / "clients.yaml", {"version": 1, "prune": True, "clients": base_org()["clients"]})
    loaded = load_org(root)
    assert codes(loaded) == ["conflicting-setting", "conflicting-setting"]


def test_every_file_needs_the_version(tmp_path):
    root = split(tmp_path)
    write_yaml(root / "clients.yaml", {"clients": base_org()["clients"]})
    assert codes(load_org(root)) == ["missing-key"]


def rendered(loaded):
    return [d.render() for d in loaded.diagnostics]


def test_hidden_and_non_yaml_files_are_skipped_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = split(tmp_path)
    (root / "README.md").write_text("# not yaml")
    write_yaml(root / ".hidden.yaml", "not: [valid")
    write_yaml(root / ".git" / "config.yaml", "not: [valid")
    loaded = load_org(root)
    assert loaded.ok
    assert rendered(loaded) == [
        "warning[skipped-file]: org/.git: skipped, hidden directory",
        "warning[skipped-file]: org/.hidden.yaml: skipped, hidden file",
        "warning[skipped-file]: org/README.md: skipped, not a .yaml or .yml file"]


def test_upper_case_suffixes_are_read(tmp_path):
    root = split(tmp_path)
    write_yaml(root / "members" / "new.YAML", {"version": 1, "members": [member("ann", "biller")]})
    write_yaml(root / "members" / "more.Yml", {"version": 1, "members": [member("bo", "biller")]})
    loaded = load_org(root)
    assert loaded.ok and loaded.diagnostics == ()
    assert loaded.value is not None
    assert {email("ann"), email("bo")} <= {m["email"] for m in loaded.value.members}


def test_a_symlinked_subdirectory_inside_the_org_is_followed(tmp_path):
    root = split(tmp_path)
    (root / "members").rename(root / "real-members")
    (root / "members").symlink_to("real-members")
    loaded = load_org(root)
    assert loaded.ok and loaded.value is not None
    assert [m["email"] for m in loaded.value.members] == [email("dana"), email("sam"), email("rosa")]
    assert codes(loaded) == ["skipped-file"]  # the same directory, reached twice, read once


def test_a_file_reached_twice_is_read_once_and_reported_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = split(tmp_path)
    (root / "alias.yaml").symlink_to(root / "clients.yaml")
    (root / "loop").symlink_to(".")
    loaded = load_org(root)
    assert loaded.ok
    assert rendered(loaded) == [
        "warning[skipped-file]: org/clients.yaml: skipped, the same file as org/alias.yaml",
        "warning[skipped-file]: org/loop: skipped, the same directory as org"]


def test_a_symlink_leading_outside_the_org_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = split(tmp_path)
    write_yaml(tmp_path / "elsewhere" / "more.yaml",
               {"version": 1, "members": [member("eve", "practitioner", admin=True)]})
    (root / "more").symlink_to(tmp_path / "elsewhere")
    (root / "passwd.yaml").symlink_to("/etc/passwd")
    loaded = load_org(root)
    assert not loaded.ok
    assert rendered(loaded) == [
        f"error[symlink-outside]: org/more: a symbolic link to {tmp_path}/elsewhere, outside "
        "the org directory; shsync follows links only within it (copy the file in instead)",
        "error[symlink-outside]: org/passwd.yaml: a symbolic link to /etc/passwd, outside the "
        "org directory; shsync follows links only within it (copy the file in instead)"]


def test_a_fifo_inside_an_org_directory_is_refused_without_waiting(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = split(tmp_path)
    os.mkfifo(root / "pipe.yaml")
    assert rendered(load_org(root)) == [
        "error[not-a-file]: org/pipe.yaml: a FIFO (named pipe), not a regular file"]


def test_an_empty_directory_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    assert codes(load_org(tmp_path / "empty")) == ["empty-directory"]


def test_a_missing_path_is_an_error(tmp_path):
    assert codes(load_org(tmp_path / "nope.yaml")) == ["unreadable"]


def test_a_file_rejected_as_a_whole_does_not_cascade_into_other_files(tmp_path):
    root = split(tmp_path)
    clinical = root / "members" / "clinical.yaml"
    data = yaml.safe_load(clinical.read_text())
    del data["version"]  # the whole file is refused, but it still declares dana and sam
    write_yaml(clinical, data)
    assert codes(load_org(root)) == ["missing-key"]

"""An org split over a directory of files is one org."""

import yaml

from tests.helpers import base_org, codes, email, member, write_yaml

from shsync.schema.load import load_org


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
    assert loaded.ok
    assert [m.email for m in loaded.model.members] == [email("dana"), email("sam"), email("rosa")]
    assert [c.id for c in loaded.model.clients] == ["C-1"]


def test_references_resolve_across_files(tmp_path):
    root = split(tmp_path, [member("ann", "practitioner", supervised_by=email("dana"),
                                   billing_access=False)])
    assert load_org(root).ok


def test_a_duplicate_across_files_is_reported_at_both_places(tmp_path):
    loaded = load_org(split(tmp_path, [member("sam", "biller")]))
    found = [d for d in loaded.diagnostics if d.code == "duplicate-email"]
    assert {d.location.file.rsplit("/", 1)[-1] for d in found} == {"clinical.yaml",
                                                                     "front-office.yaml"}


def test_a_rule_error_points_into_the_right_file(tmp_path):
    loaded = load_org(split(tmp_path, [member("ann", "practitioner", supervised_by=email("kim"),
                                              billing_access=False)]))
    (d,) = loaded.diagnostics
    assert d.code == "unknown-supervisor"
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


def test_hidden_and_non_yaml_files_are_ignored(tmp_path):
    root = split(tmp_path)
    (root / "README.md").write_text("# not yaml")
    write_yaml(root / ".hidden.yaml", "not: [valid")
    assert load_org(root).ok


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

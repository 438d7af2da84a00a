"""The safe loader: plain data only, duplicate keys, bounded aliases, clear errors with places."""

import time

import pytest

from shsync.model.diagnostics import KeyOf, Location
from shsync.format.fileio import DEFAULT_LIMIT
from shsync.format.yamlload import LoadError, load_file, load_text


def problems(text: str) -> list[str]:
    with pytest.raises(LoadError) as info:
        load_text(text, "f.yaml")
    return [d.render() for d in info.value.diagnostics]


def test_plain_data_loads():
    assert load_text("a: 1\nb: [x, 'y']\nc: {d: true}\n", "f.yaml").data == {
        "a": 1, "b": ["x", "y"], "c": {"d": True}}


def test_duplicate_key_is_an_error_at_the_second_occurrence():
    assert problems("a: 1\nb: 2\na: 3\n") == [
        "f.yaml:3:1: error[yaml-duplicate-key]: duplicate key 'a' (first on line 1)"]


def test_every_duplicate_key_is_reported():
    assert len(problems("a: 1\na: 2\nb: {c: 1, c: 2}\n")) == 2


def test_billion_laughs_fails_fast_with_a_clear_error():
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    started = time.perf_counter()
    found = problems("\n".join(lines))
    assert time.perf_counter() - started < 1.0
    assert "error[yaml-alias-bomb]" in found[0]


def test_modest_aliases_are_allowed_and_shared():
    data = load_text("x: &who [a@b.example]\ny: *who\n", "f.yaml").data
    assert data["y"] == ["a@b.example"]


def test_unknown_alias_is_an_error():
    assert "error[yaml-alias]" in problems("a: *nope\n")[0]


def test_python_tags_are_refused():
    assert "error[yaml-tag]" in problems("a: !!python/object/apply:os.system [ls]\n")[0]


def test_binary_tag_is_refused():
    assert "error[yaml-tag]" in problems("a: !!binary aGVsbG8=\n")[0]


def test_merge_keys_are_refused():
    assert "error[yaml-merge-key]" in problems("base: &b {x: 1}\nm:\n  <<: *b\n")[0]


def test_non_string_keys_are_refused():
    assert "error[yaml-key-not-string]" in problems("1: one\n")[0]


def test_deep_nesting_is_refused():
    assert "error[yaml-too-deep]" in problems("a: " + "[" * 200 + "]" * 200)[0]


def test_tab_indentation_is_reported_with_its_place():
    assert problems("a:\n\tb: 1\n") == [
        "f.yaml:2:1: error[yaml-tab]: a tab character where YAML needs spaces; indent with spaces"]


def test_syntax_error_has_a_location():
    assert problems("a: [1, 2\n")[0].startswith("f.yaml:2:")


def test_yes_and_no_stay_strings():
    assert load_text("a: no\nb: yes\nc: on\n", "f.yaml").data == {"a": "no", "b": "yes", "c": "on"}


def test_timestamps_stay_strings():
    assert load_text("a: 2026-10-01T12:00:00Z\n", "f.yaml").data == {"a": "2026-10-01T12:00:00Z"}


def test_unquoted_digits_are_numbers():
    assert load_text("npi: 1245319599\n", "f.yaml").data == {"npi": 1245319599}


def test_a_list_is_not_a_mapping():
    assert "error[not-a-mapping]" in problems("- a\n- b\n")[0]


def test_empty_file():
    assert "error[empty-file]" in problems("")[0]
    assert "error[empty-file]" in problems("# only a comment\n")[0]


def test_two_documents_are_refused():
    assert "error[yaml-multiple-documents]" in problems("a: 1\n---\nb: 2\n")[0]


def test_invalid_utf8_is_reported_with_its_line(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(LoadError) as info:
        load_file(path, "f.yaml")
    assert info.value.diagnostics[0].render().startswith("f.yaml:2:7: error[encoding]")


def test_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert load_file(path).data == {"a": 1}


def test_utf16_is_refused(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_bytes("a: 1\n".encode("utf-16"))
    with pytest.raises(LoadError) as info:
        load_file(path, "f.yaml")
    assert info.value.diagnostics[0].code == "encoding"


def test_nul_byte_is_refused(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_bytes(b"a: 1\nb: \x00\n")
    with pytest.raises(LoadError) as info:
        load_file(path, "f.yaml")
    assert info.value.diagnostics[0].code == "encoding"


def test_file_over_the_size_limit_is_refused_without_reading(tmp_path):
    path = tmp_path / "big.yaml"
    with path.open("wb") as fh:
        fh.truncate(DEFAULT_LIMIT + 1)
    with pytest.raises(LoadError) as info:
        load_file(path, "big.yaml")
    assert info.value.diagnostics[0].code == "file-too-large"


def test_locate_points_at_values_and_keys():
    doc = load_text("version: 1\nmembers:\n  - email: a@b.example\n    roles: [x]\n", "f.yaml")
    found = doc.locate([("members", 0, "roles", 0), ("members", 0, KeyOf("roles")), ("version",)])
    assert found[("members", 0, "roles", 0)] == Location("f.yaml", 4, 13)
    assert found[("members", 0, KeyOf("roles"))] == Location("f.yaml", 4, 5)
    assert found[("version",)] == Location("f.yaml", 1, 10)


def test_locate_falls_back_to_the_nearest_enclosing_value():
    doc = load_text("a:\n  b: 1\n", "f.yaml")
    assert doc.locate([("a", "missing")])[("a", "missing")] == Location("f.yaml", 2, 3)


def test_a_text_that_recurs_is_one_string_object():
    # Keys and emails recur on every client of a large org: one object each, not one per use.
    data = load_text("clients:\n  - {id: C-1, practitioner: 'dana@x.example'}\n"
                     "  - {id: C-2, practitioner: dana@x.example}\n", "org.yaml").data
    first, second = data["clients"]
    assert first["practitioner"] is second["practitioner"]
    assert next(iter(first)) is next(iter(second))  # the key `id`

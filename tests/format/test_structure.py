"""Structure: required keys, types, enums, unknown keys with did-you-mean, the version."""

from tests.helpers import base_org, codes, load_data


def messages(loaded):
    return [d.message for d in loaded.diagnostics]


def test_unknown_key_suggests_the_closest_known_one(tmp_path):
    org = base_org()
    org["members"][1]["supervisor_by"] = org["members"][1].pop("supervised_by")
    loaded = load_data(tmp_path, org)
    assert codes(loaded) == ["unknown-key"]
    assert "did you mean 'supervised_by'?" in messages(loaded)[0]


def test_unknown_key_points_at_the_key(tmp_path):
    org = base_org()
    org["prunee"] = True
    (d,) = load_data(tmp_path, org).diagnostics
    assert d.location is not None and d.location.column is not None
    line = (tmp_path / "org.yaml").read_text().splitlines()[d.location.line - 1]
    assert line[d.location.column - 1:].startswith("prunee:")


def test_missing_required_key_names_the_member(tmp_path):
    org = base_org()
    del org["members"][2]["first_name"]
    loaded = load_data(tmp_path, org)
    assert codes(loaded) == ["missing-key"]
    assert messages(loaded) == ["member rosa@riverbend.example is missing 'first_name'"]


def test_missing_version(tmp_path):
    org = base_org()
    del org["version"]
    assert codes(load_data(tmp_path, org)) == ["missing-key"]


def test_other_versions_are_refused_clearly(tmp_path):
    org = base_org()
    org["version"] = 2
    org["future_key"] = 1
    loaded = load_data(tmp_path, org)
    assert codes(loaded) == ["unsupported-version"]
    assert "reads format version 1" in messages(loaded)[0]


def test_version_true_is_not_version_1(tmp_path):
    org = base_org()
    org["version"] = True
    assert codes(load_data(tmp_path, org)) == ["unsupported-version"]


def test_unquoted_npi_gets_a_quoting_hint(tmp_path):
    text = (
        "version: 1\nmembers:\n  - email: a@riverbend.example\n    first_name: A\n"
        "    last_name: B\n    admin: true\n    roles: [practitioner]\n    npi: 1245319599\n")
    loaded = load_data(tmp_path, text)
    assert codes(loaded) == ["wrong-type"]
    assert "write it in quotes" in messages(loaded)[0]
    location = loaded.diagnostics[0].location
    assert location is not None and location.line == 8


def test_norway_booleans_are_not_booleans(tmp_path):
    org = base_org()
    org["members"][0]["admin"] = "yes"
    loaded = load_data(tmp_path, org)
    assert codes(loaded) == ["wrong-type"] and "write admin: true" in messages(loaded)[0]


def test_unknown_role_suggests_a_role(tmp_path):
    org = base_org()
    org["members"][2]["roles"] = ["schedular"]
    loaded = load_data(tmp_path, org)
    assert codes(loaded) == ["invalid-role"] and "did you mean 'scheduler'?" in messages(loaded)[0]


def test_duplicate_role(tmp_path):
    org = base_org()
    org["members"][2]["roles"] = ["scheduler", "scheduler"]
    assert codes(load_data(tmp_path, org)) == ["duplicate-item"]


def test_invalid_email(tmp_path):
    org = base_org()
    org["members"][2]["email"] = "rosa at riverbend"
    assert codes(load_data(tmp_path, org)) == ["invalid-email"]


def test_npi_format(tmp_path):
    org = base_org()
    org["members"][1]["npi"] = "3234567893"
    assert codes(load_data(tmp_path, org)) == ["invalid-npi"]


def test_taxonomy_format(tmp_path):
    org = base_org()
    org["members"][1]["taxonomy"] = "101YM0800"
    assert codes(load_data(tmp_path, org)) == ["invalid-taxonomy"]


def test_client_id_format(tmp_path):
    org = base_org()
    org["clients"][0]["id"] = "Jane Doe"
    assert codes(load_data(tmp_path, org)) == ["invalid-client-id"]


def test_client_id_length(tmp_path):
    org = base_org()
    org["clients"][0]["id"] = "C" * 65
    assert codes(load_data(tmp_path, org)) == ["invalid-client-id"]


def test_members_must_be_a_list(tmp_path):
    org = base_org()
    org["members"] = {"email": "a@b.example"}
    assert codes(load_data(tmp_path, org)) == ["wrong-type"]


def test_a_trailing_newline_never_passes_a_pattern(tmp_path):
    # Python's re lets `$` match before a final newline; JSON Schema (ECMA) does not.
    org = base_org()
    org["members"][1]["npi"] = "1234567893\n"
    loaded = load_data(tmp_path, org)
    assert not loaded.ok and codes(loaded) == ["invalid-value"]


def test_each_missing_key_is_reported_once(tmp_path):
    org = base_org()
    del org["members"][2]["first_name"]
    del org["members"][2]["last_name"]
    assert messages(load_data(tmp_path, org)) == [
        "member rosa@riverbend.example is missing 'first_name'",
        "member rosa@riverbend.example is missing 'last_name'"]

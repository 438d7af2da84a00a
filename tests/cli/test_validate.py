"""`shsync validate` and `shsync schema`, through the real command line."""

import json

from tests.cli.conftest import ROOT
from tests.helpers import base_org, email, write_yaml


def test_the_example_org_is_valid(run):
    result = run("validate", str(ROOT / "examples" / "org.yaml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid (15 members" in result.stderr


def test_errors_are_one_line_each_with_file_line_column_and_exit_1(run, tmp_path):
    org = base_org()
    org["members"][1]["supervised_by"] = email("kim")
    org["members"][1]["npi"] = "1234567890"
    write_yaml(tmp_path / "org.yaml", org)
    result = run("validate", "org.yaml")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert all(line.startswith("org.yaml:") for line in lines)
    assert {line.split(": ")[1] for line in lines} == {"error[invalid-npi]",
                                                       "error[unknown-supervisor]"}
    assert "Traceback" not in result.stderr


def test_json_format_lists_the_same_diagnostics(run, tmp_path):
    org = base_org()
    org["members"][1]["npi"] = "1234567890"
    write_yaml(tmp_path / "org.yaml", org)
    result = run("validate", "org.yaml", "--format", "json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["format_version"] == 1 and data["ok"] is False and data["warnings"] == []
    (item,) = data["errors"]
    assert set(item) == {"severity", "code", "message", "file", "line", "column"}
    assert item["code"] == "invalid-npi" and item["file"] == "org.yaml"


def test_warnings_alone_exit_0_and_strict_makes_them_errors(run, tmp_path):
    org = base_org()
    del org["members"][1]["npi"]
    write_yaml(tmp_path / "org.yaml", org)
    relaxed = run("validate", "org.yaml")
    assert relaxed.returncode == 0 and "warning[missing-npi]" in relaxed.stdout
    strict = run("validate", "org.yaml", "--strict")
    assert strict.returncode == 1 and "error[missing-npi]" in strict.stdout


def test_broken_yaml_is_a_diagnostic_not_a_traceback(run, tmp_path):
    (tmp_path / "org.yaml").write_bytes(b"version: 1\nmembers:\n\t- x\n")
    result = run("validate", "org.yaml")
    assert result.returncode == 1
    assert result.stdout.startswith("org.yaml:3:1: error[yaml-tab]")
    assert "Traceback" not in result.stderr


def test_missing_file_is_a_clear_error(run):
    result = run("validate", "nope.yaml")
    assert result.returncode == 1
    assert "error[unreadable]: nope.yaml: no such file or directory" in result.stdout


def test_schema_prints_the_published_schema(run):
    result = run("schema")
    assert result.returncode == 0
    assert json.loads(result.stdout)["$schema"].endswith("2020-12/schema")


def test_every_rule_code_is_documented_in_the_org_file_page():
    # the rules' tables moved from the README to docs/org-format.md (issue #24)
    from shsync.format.rules import CODES

    page = (ROOT / "docs" / "org-format.md").read_text()
    missing = [code for code in CODES if f"`{code}`" not in page]
    assert missing == []

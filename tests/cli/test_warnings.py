"""Repeated warnings, as a person reads them: one line with a count and the first names; JSON
keeps every one. Exact text."""

from __future__ import annotations

import json

from tests.helpers import base_org, email, member, write_yaml


def many_without_npi(tmp_path, n: int = 8):
    org = base_org()
    org["members"] += [member(f"p{i}", "practitioner") for i in range(n)]
    write_yaml(tmp_path / "org.yaml", org)


def test_validate_collapses_repeated_warnings_into_one_line(run, tmp_path):
    many_without_npi(tmp_path)
    result = run("validate", "org.yaml")
    assert result.returncode == 0
    assert result.stdout == (
        f"org.yaml:24:3: warning[missing-npi]: practitioner {email('p0')} has billing access "
        "but no NPI; claims for their sessions cannot be submitted (8 warnings like this: "
        f"{email('p0')}, {email('p1')}, {email('p2')} and 5 more)\n")
    assert result.stderr == "org.yaml: valid (11 members, 1 clients, 8 warning(s))\n"


def test_validate_json_keeps_every_warning(run, tmp_path):
    many_without_npi(tmp_path)
    items = json.loads(run("validate", "org.yaml", "--format", "json").stdout)["warnings"]
    assert [i["message"].split()[1] for i in items] == [email(f"p{i}") for i in range(8)]


def test_the_plan_lists_a_repeated_warning_once(run, tmp_path):
    many_without_npi(tmp_path)
    # plan reads an existing store only: create it by applying the org once
    assert run("apply", "org.yaml", "--auto-approve", "--assume-accepted").returncode == 0
    result = run("plan", "org.yaml")
    assert result.returncode == 0, result.stderr
    warnings = result.stdout.split("\nWarnings:\n")[1].split("\n\n")[0]
    assert warnings == (
        f"  ! [missing-npi] practitioner {email('p0')} has billing access but no NPI; claims "
        "for their sessions cannot be submitted (8 warnings like this: "
        f"{email('p0')}, {email('p1')}, {email('p2')} and 5 more)")
    assert result.stderr.count("warning[missing-npi]") == 1
    plan = json.loads(run("plan", "org.yaml", "--format", "json").stdout)
    assert len([w for w in plan["warnings"] if w["code"] == "missing-npi"]) == 8

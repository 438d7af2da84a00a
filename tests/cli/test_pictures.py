"""`shsync graph`, `shsync report` and `shsync completion`, as a user runs them."""

from __future__ import annotations

import pytest

from tests.cli.conftest import ROOT
from tests.helpers import base_org, write_yaml
from tests.render.html_tables import tables

ORG = str(ROOT / "examples" / "org.yaml")
SNAPSHOT = str(ROOT / "examples" / "practice-snapshot.yaml")


@pytest.fixture
def seeded(run):
    assert run("seed", SNAPSHOT).returncode == 0
    return run


def test_graph_of_an_org_file(run, tmp_path):
    write_yaml(tmp_path / "org.yaml", base_org())
    result = run("graph", "org.yaml")
    assert result.returncode == 0, result.stderr
    assert result.stdout == """\
flowchart TD
  m1["Dana Test<br/>dana@riverbend.example<br/>practitioner, supervisor<br/>owner, admin"]
  m2["Rosa Test<br/>rosa@riverbend.example<br/>scheduler"]
  m3["Sam Test<br/>sam@riverbend.example<br/>practitioner"]
  m1 -->|supervises| m3
  classDef admin stroke-width:3px
  class m1 admin
"""


def test_graph_of_a_client_from_an_org_file_as_dot_to_a_file(run, tmp_path):
    write_yaml(tmp_path / "org.yaml", base_org())
    result = run("graph", "org.yaml", "--client", "C-1", "--format", "dot", "-o", "c1.dot")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "Wrote c1.dot.\n")
    lines = (tmp_path / "c1.dot").read_text().splitlines()
    assert lines[:4] == ["digraph access {", "  rankdir=LR;", "  node [shape=box];",
                         '  c [label="client C-1", shape=ellipse];']
    assert '  m1 -> c [label="granted: record, notes, diagnoses, treatment plans, billing"];' \
        in lines
    assert '  m1 -> c [label="supervisor: notes, treatment plans, sign notes"];' in lines


def test_graph_of_the_live_practice(seeded):
    out = seeded("graph").stdout
    assert '  m13["Victor Okafor<br/>victor.okafor@riverbend.example<br/>practitioner<br/>' \
           'invited"]' in out
    assert "  class m2,m3,m10 admin" in out


def test_graph_never_creates_a_store(run, tmp_path):
    result = run("graph")
    assert result.returncode == 1
    assert result.stderr == (
        f"error[no-practice]: no practice at sqlite:///{tmp_path}/practice.db: the file does "
        "not exist (`shsync seed` or `shsync apply` creates it)\n")
    nested = run("graph", env={"SHSYNC_BACKEND": f"sqlite:///{tmp_path}/new/dir/p.db"})
    assert nested.returncode == 1
    assert list(tmp_path.iterdir()) == []


def test_graph_of_an_unknown_client(seeded):
    result = seeded("graph", "--client", "C-9999")
    assert (result.returncode, result.stderr) == (
        1, "error[unknown-client]: there is no client C-9999 in this practice\n")


def test_report_of_the_live_practice(seeded, tmp_path):
    assert seeded("apply", ORG, "--auto-approve").returncode == 0
    result = seeded("report", "-o", "review.html", "--since", "2026-11-01")
    assert (result.returncode, result.stderr) == (0, "Wrote review.html.\n")
    found = tables((tmp_path / "review.html").read_text())
    assert ["sam.lee@riverbend.example", "record, notes, diagnoses, treatment plans, schedule, "
            "manage access", "2 clients: C-1001, C-1002", "assigned"] in found["access-table"]
    assert ["tom.fischer@riverbend.example", "record, notes, diagnoses, treatment plans",
            "all 8 clients", "full_clinical_access"] in found["access-table"]
    widened = found["widenings-table"]
    assert ["#2", "2026-11-26T12:00:00Z", "apply", "C-1003"] in [
        [r[0], r[1], r[3], r[4]] for r in widened]
    assert [r[:2] for r in found["audit-table"][1:]] == [["#2", "apply"], ["#1", "seed"]]


def test_report_since_must_be_a_date(seeded):
    result = seeded("report", "--since", "last quarter")
    assert (result.returncode, result.stderr) == (
        1, "error[invalid-time]: --since='last quarter' is not an ISO time like "
           "2026-11-26T12:00:00Z\n")


def test_report_never_creates_a_store(run, tmp_path):
    result = run("report", "-o", "review.html")
    assert (result.returncode, result.stderr) == (
        1, f"error[no-practice]: no practice at sqlite:///{tmp_path}/practice.db: the file does "
           "not exist (`shsync seed` or `shsync apply` creates it)\n")
    assert list(tmp_path.iterdir()) == []


def test_completion_scripts(run):
    bash = run("completion", "bash")
    assert bash.returncode == 0
    assert "_SHSYNC_COMPLETE=bash_complete" in bash.stdout
    assert "complete -o nosort -F _shsync_completion shsync" in bash.stdout
    assert "compdef _shsync_completion shsync" in run("completion", "zsh").stdout
    assert "complete --no-files --command shsync" in run("completion", "fish").stdout
    assert run("completion", "tcsh").returncode == 64  # a usage error


def test_completion_completes_commands_and_options(run):
    env = {"_SHSYNC_COMPLETE": "bash_complete", "COMP_WORDS": "shsync gr", "COMP_CWORD": "1"}
    assert run(env=env).stdout == "plain,graph\n"
    env.update(COMP_WORDS="shsync graph --for", COMP_CWORD="2")
    assert run(env=env).stdout == "plain,--format\n"
    env.update(COMP_WORDS="shsync graph --format ", COMP_CWORD="3")
    assert run(env=env).stdout == "plain,mermaid\nplain,dot\n"

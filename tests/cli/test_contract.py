"""The output contract scripts rely on: exit codes, colour, JSON envelopes, stdin, help examples."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from shsync.cli import COMMANDS, EXIT_USAGE
from tests.cli import helppaths as helppages
from tests.cli.conftest import ROOT
from tests.conftest import NOW, run_cli

ORG = str(ROOT / "examples" / "org.yaml")
SNAPSHOT = str(ROOT / "examples" / "practice-snapshot.yaml")
BROKEN = "version: 1\nmembers:\n  - email: sam@p.example\n    first_name: Sam\n"


@pytest.fixture
def seeded(run):
    assert run("seed", SNAPSHOT).returncode == 0
    return run


# --- exit codes -------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["--backnd", "x"],
    ["plan", "--bogus", ORG],
    ["plan"],
    ["plan", ORG, "--format", "yaml"],
    ["no-such-command"],
])
def test_a_usage_error_exits_64_never_2_which_means_drift(args):
    result = run_cli(*args)
    assert result.exit_code == EXIT_USAGE == 64, result.output
    assert "Usage:" in result.output and "Traceback" not in result.output


def test_help_and_version_exit_0():
    assert run_cli("--help").exit_code == 0
    assert run_cli("--version").exit_code == 0
    assert run_cli("plan", "--help").exit_code == 0


def test_exit_2_only_with_detailed_exitcode(seeded):
    assert seeded("plan", ORG).returncode == 0
    assert seeded("plan", ORG, "--detailed-exitcode").returncode == 2


# --- colour -----------------------------------------------------------------------------------

def _on_a_terminal(args, env):
    """Run shsync with stdout on a pseudo-terminal; return what it wrote there."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "shsync", *args], stdout=follower,
                            stderr=subprocess.DEVNULL, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode()


@pytest.fixture
def terminal_env(tmp_path, seeded):
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "SHSYNC_ACTOR")}
    return {**env, "SHSYNC_BACKEND": f"sqlite:///{tmp_path}/practice.db", "SHSYNC_NOW": NOW}


def test_a_terminal_gets_colour(terminal_env):
    assert "\x1b[" in _on_a_terminal(["plan", ORG], terminal_env)


def test_no_color_environment_variable_turns_colour_off(terminal_env):
    out = _on_a_terminal(["plan", ORG], {**terminal_env, "NO_COLOR": "1"})
    assert "Plan for practice" in out and "\x1b[" not in out


def test_no_color_flag_turns_colour_off(terminal_env):
    out = _on_a_terminal(["--no-color", "plan", ORG], terminal_env)
    assert "Plan for practice" in out and "\x1b[" not in out


# --- JSON: one envelope for every outcome -----------------------------------------------------

def test_plan_of_an_invalid_file_prints_the_json_envelope(seeded, tmp_path):
    (tmp_path / "bad.yaml").write_text(BROKEN)
    result = seeded("plan", "bad.yaml", "--format", "json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["format_version"] == 1 and data["ok"] is False
    assert {e["code"] for e in data["errors"]} >= {"missing-key"}
    assert all(e["file"] == "bad.yaml" and e["line"] for e in data["errors"])


def test_a_store_error_is_json_too(run):
    result = run("history", "--format", "json", env={"SHSYNC_BACKEND": "mysql://nowhere"})
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["errors"][0]["code"]


def test_validation_warnings_are_part_of_the_plan_in_every_format(seeded, tmp_path):
    org = (ROOT / "examples" / "org.yaml").read_text()
    # drop one practitioner's NPI: a missing-npi warning from validation
    assert 'npi: "1881234563"' in org or "npi:" in org
    lines = org.splitlines(keepends=True)
    first_npi = next(i for i, line in enumerate(lines) if line.strip().startswith("npi:"))
    (tmp_path / "warned.yaml").write_text("".join(lines[:first_npi] + lines[first_npi + 1:]))
    data = json.loads(seeded("plan", "warned.yaml", "--format", "json").stdout)
    assert data["ok"] is True
    (warning,) = [w for w in data["warnings"] if w["code"] == "missing-npi"]
    assert warning["location"].startswith("warned.yaml:")
    assert "`missing-npi`" in seeded("plan", "warned.yaml", "--format", "markdown").stdout
    assert "[missing-npi]" in seeded("plan", "warned.yaml").stdout


def test_apply_json_reports_what_was_applied_and_the_audit_entry(seeded):
    assert seeded("plan", ORG, "-o", "plan.json").returncode == 0
    result = seeded("apply", "plan.json", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["errors"] == []
    entry = data["audit_entry"]
    history = json.loads(seeded("history", "--format", "json").stdout)
    assert history["format_version"] == 1
    assert entry["seq"] == history["entries"][-1]["seq"]
    assert entry["hash"] == history["entries"][-1]["entry_hash"]
    assert {c["action"] for c in data["applied"]} and data["summary"]["invite"] >= 1


def test_apply_json_of_a_stale_plan_is_an_error_envelope(seeded):
    assert seeded("plan", ORG, "-o", "plan.json").returncode == 0
    assert seeded("apply", "plan.json").returncode == 0
    result = seeded("apply", "plan.json", "--format", "json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["errors"][0]["code"] == "already-applied"


def test_apply_json_with_nothing_to_do(seeded):
    assert seeded("apply", ORG, "--auto-approve", "--assume-accepted").returncode == 0
    data = json.loads(seeded("apply", ORG, "--auto-approve", "--format", "json").stdout)
    assert data["ok"] is True and data["applied"] == [] and data["audit_entry"] is None


def test_access_and_history_verify_json(seeded):
    rows = json.loads(seeded("access", "--client", "C-1001", "--format", "json").stdout)
    assert rows["format_version"] == 1 and rows["ok"] and rows["rows"]
    check = json.loads(seeded("history", "--verify", "--format", "json").stdout)
    assert check["ok"] and check["verified"] and check["head"].startswith("sha256:")


# --- validate: stdin, snapshots, CI annotations -----------------------------------------------

def test_validate_reads_standard_input(run):
    ok = run("validate", "-", input=Path(ORG).read_text())
    assert ok.returncode == 0 and ok.stderr == "<stdin>: valid (15 members, 7 clients)\n"
    bad = run("validate", "-", input=BROKEN)
    assert bad.returncode == 1
    assert bad.stdout.startswith("<stdin>:3:5: error[missing-key]:")


def test_validate_checks_a_snapshot(run, tmp_path):
    ok = run("validate", "--snapshot", SNAPSHOT)
    assert ok.returncode == 0 and "valid (13 members" in ok.stderr
    (tmp_path / "snap.yaml").write_text("version: 1\nmembers: 3\n")
    assert run("validate", "--snapshot", "snap.yaml").returncode == 1


def test_validate_github_format(run, tmp_path):
    (tmp_path / "bad.yaml").write_text(BROKEN)
    result = run("validate", "--format", "github", "bad.yaml")
    assert result.returncode == 1
    assert result.stdout.startswith("::error file=bad.yaml,line=3,col=5,title=missing-key::")


def test_validate_sarif_format(run, tmp_path):
    (tmp_path / "bad.yaml").write_text(BROKEN)
    result = run("validate", "--format", "sarif", "bad.yaml")
    assert result.returncode == 1
    (sarif_run,) = json.loads(result.stdout)["runs"]
    assert sarif_run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "bad.yaml"}


# --- help -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_shows_one_block_of_examples_in_its_help(name):
    result = run_cli(name, "--help", terminal_width=100)
    assert result.exit_code == 0
    assert result.output.count("Example") == 1 and "\n  Examples:\n" in result.output
    assert f"shsync {name}" in result.output.split("Examples:")[1]


@pytest.mark.parametrize("path", list(helppages.commands()), ids=" ".join)
def test_every_help_fits_an_80_column_terminal(path):
    # Examples are not rewrapped by click (`\b`): each must fit as written.
    output = helppages.render(path, 80)  # as click renders it in a terminal of 80 columns
    assert max(map(len, output.splitlines())) <= 80, output


def test_plan_help_shows_a_plan_and_apply_round_trip():
    out = run_cli("plan", "--help", terminal_width=100).output
    assert "shsync plan org/ -o plan.json" in out and "shsync apply plan.json" in out


def test_a_usage_error_with_format_json_is_the_json_envelope_and_exit_64():
    result = run_cli("plan", "x.yaml", "--format", "json", "--backnd", "x")
    assert result.exit_code == 64
    start = result.stdout.index("{")
    body = json.loads(result.stdout[start:])
    assert body["ok"] is False and body["format_version"] == 1
    assert body["errors"][0]["code"] == "usage" and "--backnd" in body["errors"][0]["message"]


# --- the docs' JSON examples are the JSON shsync writes ------------------------------------
# The plan's JSON form is shown in docs/plan-apply.md, the envelope's keys in
# docs/reference/output.md (both were in the README before the docs site, issue #24).

def test_the_docs_plan_json_example_has_the_real_version_and_keys(seeded):
    import re

    from shsync.cli.common import JSON_VERSION
    from shsync.core.plan import FORMAT_VERSION

    plan_page = (ROOT / "docs" / "plan-apply.md").read_text()
    output_page = (ROOT / "docs" / "reference" / "output.md").read_text()
    blocks = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", plan_page, re.S)]
    plans = [b for b in blocks if b.get("kind") == "shsync-plan"]
    assert plans, "docs/plan-apply.md shows no plan JSON"
    real = json.loads(seeded("plan", ORG, "--format", "json").stdout)
    for example in plans:
        assert example["format_version"] == real["format_version"] == FORMAT_VERSION
        assert set(example) <= set(real), set(example) - set(real)
    envelope = json.loads(seeded("history", "--format", "json").stdout)
    row = re.search(r"\| `format_version` \| the shape's version: `(\d+)` for this envelope; a "
                    r"plan's JSON is the plan format, `(\d+)` \|", output_page)
    assert row is not None
    assert (int(row[1]), int(row[2])) == (envelope["format_version"], FORMAT_VERSION)
    assert JSON_VERSION == envelope["format_version"]


def test_a_mistyped_command_is_exit_64_with_the_commands_it_may_have_meant():
    result = run_cli("plna", "org/")
    assert result.exit_code == EXIT_USAGE
    assert "Error: No such command 'plna'. (Did you mean one of: 'plan', 'plans'?)" in \
        result.output
    assert run_cli("aply").output.endswith(
        "Error: No such command 'aply'. Did you mean 'apply'?\n")
    assert "Did you mean" not in run_cli("zzzz").output


@pytest.mark.parametrize("args", [["plan", ""], ["apply", "", "--auto-approve"], ["seed", " "],
                                  ["validate", ""], ["access", "--file", "", "--client", "C-1"],
                                  ["refresh", ""], ["onboard", ""], ["graph", ""],
                                  ["plan", "org.yaml", "-o", ""]], ids=" ".join)
def test_an_empty_path_is_a_usage_error_not_this_directory(args, tmp_path, monkeypatch):
    # `shsync apply "$ORG"` with ORG unset read every YAML file where it ran.
    monkeypatch.chdir(tmp_path)
    result = run_cli(*args)
    assert result.exit_code == EXIT_USAGE, result.output
    assert "is empty: give a file or a directory (`.` for this one)" in result.output
    assert list(tmp_path.iterdir()) == []

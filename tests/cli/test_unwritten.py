"""A standard output that cannot be written, in the ways a real process meets it: a full disk
(`/dev/full`) and a pipe whose reader has gone (EPIPE, as `shsync apply plan.json | head -1`
gives). Never a traceback, never a silent exit; exit 1 when nothing was changed, 3 when
something was (an audit entry, a token, a stored plan, an approval), and stderr says which.

Real processes: CliRunner's standard output is a buffer that never fails."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.cli.conftest import ROOT
from tests.conftest import NOW

EXAMPLES = ROOT / "examples"
DANA, ELLEN = "dana.ortiz@riverbend.example", "ellen.wu@riverbend.example"
NOTHING = "error[output-failed]: could not write to standard output: {}; nothing was changed\n"
FULL, BROKEN = "No space left on device", "Broken pipe"


@pytest.fixture
def shsync(tmp_path):
    """`shsync(*args, stdout="full"|"broken"|None)`: the real CLI with a scratch store, its
    standard output on /dev/full, on a pipe nobody reads any more, or captured."""

    def shsync(*args: str, stdout: str | None = None):
        # (COLUMNS unset: a pipe is 80 columns, so --help is the page stored for it)
        env = {**{k: v for k, v in os.environ.items() if k not in ("SHSYNC_ACTOR", "COLUMNS")},
               "SHSYNC_BACKEND": f"sqlite:///{tmp_path}/practice.db", "SHSYNC_NOW": NOW}
        command = [sys.executable, "-m", "shsync", *args]
        if stdout is None:
            return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True,
                                  text=True, timeout=120)
        if stdout == "full":
            with open("/dev/full", "w") as out:
                return subprocess.run(command, cwd=tmp_path, env=env, stdout=out,
                                      stderr=subprocess.PIPE, text=True, timeout=120)
        read, write = os.pipe()
        os.close(read)  # the reader has gone: the first write is EPIPE
        try:
            return subprocess.run(command, cwd=tmp_path, env=env, stdout=write,
                                  stderr=subprocess.PIPE, text=True, timeout=120)
        finally:
            os.close(write)

    return shsync


@pytest.fixture
def seeded(shsync):
    assert shsync("seed", str(EXAMPLES / "practice-snapshot.yaml")).returncode == 0
    return shsync


def entries(shsync) -> int:
    return len(json.loads(shsync("history", "--format", "json").stdout)["entries"])


def test_an_apply_piped_to_a_reader_that_has_gone_says_it_was_applied_and_exits_3(seeded):
    # Click ends an EPIPE with a silent exit 1, which read "nothing was changed" after a commit.
    assert seeded("plan", str(EXAMPLES / "org.yaml"), "-o", "plan.json").returncode == 0
    result = seeded("apply", "plan.json", stdout="broken")
    assert result.returncode == 3, result.stderr
    assert re.fullmatch(r"error\[output-failed\]: the change WAS applied and committed, as audit "
                        r"entry #2 \(head sha256:[0-9a-f]{64}\), but its report could not be "
                        r"written to standard output: Broken pipe\n", result.stderr)
    assert entries(seeded) == 2


def test_a_report_to_a_reader_that_has_gone_is_output_failed_not_a_silent_exit(seeded):
    for args in (["history"], ["plan", str(EXAMPLES / "org.yaml")], ["--help"],
                 ["plan", "--help"], ["schema"]):
        result = seeded(*args, stdout="broken")
        assert (result.returncode, result.stderr) == (1, NOTHING.format(BROKEN)), args
    assert entries(seeded) == 1


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["token", "create", "-h"]])
@pytest.mark.parametrize("stdout, why", [("full", FULL), ("broken", BROKEN)])
def test_the_version_and_help_are_output_failed_too(shsync, args, stdout, why):
    # Both are answered before click is imported (shsync/entry.py): `--version` was a traceback.
    result = shsync(*args, stdout=stdout)
    assert (result.returncode, result.stderr) == (1, NOTHING.format(why))


@pytest.mark.parametrize("stdout, why", [("full", FULL), ("broken", BROKEN)])
def test_a_usage_error_whose_json_cannot_be_written_still_exits_64(shsync, stdout, why):
    result = shsync("plan", str(EXAMPLES / "org.yaml"), "--format", "json", "--backnd", "x",
                    stdout=stdout)
    assert result.returncode == 64, result.stderr
    assert result.stderr == ("Usage: shsync plan [OPTIONS] [PATH]\n"
                             "Try 'shsync plan --help' for help.\n\n"
                             "Error: No such option '--backnd'. Did you mean '--backend'?\n"
                             + NOTHING.format(why))


def test_a_token_whose_secret_cannot_be_printed_was_still_created_and_says_so(seeded):
    result = seeded("token", "create", "--actor", DANA, stdout="full")
    assert result.returncode == 3, result.stderr
    (made,) = json.loads(seeded("token", "list", "--format", "json").stdout)["tokens"]
    token = made["id"]
    assert result.stderr == (
        f"error[output-failed]: the change WAS made (token {token} created), but its report "
        f"could not be written to standard output: {FULL}. Its secret was never shown: revoke "
        f"it (`shsync token revoke {token}`) and create another\n")
    revoked = seeded("token", "revoke", token, stdout="broken")
    assert (revoked.returncode, revoked.stderr) == (
        3, f"error[output-failed]: the change WAS made (token {token} revoked), but its report "
           f"could not be written to standard output: {BROKEN}\n")
    (made,) = json.loads(seeded("token", "list", "--format", "json").stdout)["tokens"]
    assert made["revoked_at"] is not None


def test_a_stored_plan_and_an_approval_whose_report_is_lost_were_still_made(seeded):
    saved = seeded("plan", str(EXAMPLES / "org.yaml"), "--save", "--actor", DANA, stdout="full")
    assert saved.returncode == 3, saved.stderr
    (stored,) = json.loads(seeded("plans", "--format", "json").stdout)["plans"]
    assert saved.stderr == (f"error[output-failed]: the change WAS made (plan stored as "
                            f"{stored['plan_id']}), but its report could not be written to "
                            f"standard output: {FULL}\n")
    approved = seeded("approve", stored["plan_id"], "--actor", ELLEN, stdout="full")
    assert (approved.returncode, approved.stderr) == (
        3, f"error[output-failed]: the change WAS made (plan {stored['plan_id']} approved by "
           f"{ELLEN}), but its report could not be written to standard output: {FULL}\n")
    (stored,) = json.loads(seeded("plans", "--format", "json").stdout)["plans"]
    assert [a["by"] for a in stored["approvals"]] == [ELLEN]


def test_an_error_after_a_change_is_exit_3_and_says_what_was_made():
    # Exit 1 says nothing was changed: a later failure (here, a stored plan's -o file) must not.
    import click
    from click.testing import CliRunner

    from shsync.cli.common import changed, handled
    from shsync.errors import ShsyncError

    @click.command()
    @click.option("--format", "fmt", default="text")
    @handled
    def partly(fmt: str) -> None:
        changed("plan stored as p-0123456789ab")
        raise ShsyncError("cannot write /x/p.json", "output-failed")

    text = CliRunner().invoke(partly, [])
    assert text.exit_code == 3
    assert text.stderr == (
        "error[output-failed]: cannot write /x/p.json\n"
        "error[partly-applied]: before that error, the change WAS made (plan stored as "
        "p-0123456789ab); what came after it was not\n")
    as_json = CliRunner().invoke(partly, ["--format", "json"])
    assert as_json.exit_code == 3
    assert [e["code"] for e in json.loads(as_json.stdout)["errors"]] == [
        "output-failed", "partly-applied"]


def test_a_batch_that_fails_after_others_committed_names_the_last_entry():
    # `apply --batch-size`: batch 1 commits, batch 2 fails (here, its store refuses it).
    import click
    from click.testing import CliRunner

    from shsync.cli.common import MADE, handled
    from shsync.errors import BackendError

    class Made:
        written = [type("Entry", (), {"seq": 2, "entry_hash": "sha256:" + "ab" * 32})()]

    @click.command()
    @handled
    def batches() -> None:
        MADE.append(Made())
        raise BackendError("another apply has held the lock for 2 s; nothing was changed")

    result = CliRunner().invoke(batches, [])
    assert result.exit_code == 3
    assert result.stderr.splitlines()[1] == (
        "error[partly-applied]: before that error, the change WAS applied and committed, as "
        "audit entry #2 (head sha256:" + "ab" * 32 + "); what came after it was not")


def test_a_stored_plan_whose_file_cannot_be_written_is_exit_3_and_one_json_document(seeded):
    org = str(EXAMPLES / "org.yaml")
    text = seeded("plan", org, "--save", "-o", "no/such/dir/p.json")
    assert text.returncode == 3, text.stderr
    assert "error[partly-applied]: before that error, the change WAS made (plan stored as p-" \
        in text.stderr
    as_json = seeded("plan", org, "--save", "-o", "no/such/dir/p.json", "--format", "json")
    assert as_json.returncode == 3
    assert [e["code"] for e in json.loads(as_json.stdout)["errors"]] == [
        "output-failed", "partly-applied"]
    plain = seeded("plan", org, "-o", "no/such/dir/p.json", "--format", "json")
    assert plain.returncode == 1
    assert [e["code"] for e in json.loads(plain.stdout)["errors"]] == ["output-failed"]

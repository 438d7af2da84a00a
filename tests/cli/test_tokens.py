"""`shsync token`: made by the operator with the store's credentials, printed once, listed
without secrets, revoked at once."""

from __future__ import annotations

import json

from tests.cli.conftest import ROOT
from tests.conftest import run_cli

SNAPSHOT = str(ROOT / "examples" / "practice-snapshot.yaml")
DANA = "dana.ortiz@riverbend.example"  # an administrator there


def shsync(tmp_path, *args):
    return run_cli(*args, env={"SHSYNC_BACKEND": f"sqlite:///{tmp_path}/p.db"})


def seeded(tmp_path, *practices):
    for name in practices:
        assert shsync(tmp_path, "seed", SNAPSHOT, "--backend",
                      f"sqlite:///{tmp_path}/p.db?practice={name}").exit_code == 0


def test_a_token_is_printed_once_and_listed_without_its_secret(tmp_path):
    seeded(tmp_path, "rb")
    made = shsync(tmp_path, "token", "create", "--practice", "rb", "--actor", DANA.upper(),
                  "--scope", "apply", "--expires", "30d")
    assert made.exit_code == 0, made.output
    token = made.stdout.strip()
    assert token.startswith("shs_") and len(token.splitlines()) == 1
    assert "shown only now" in made.stderr and token not in made.stderr
    listed = shsync(tmp_path, "token", "list", "--practice", "rb", "--format", "json")
    (row,) = json.loads(listed.stdout)["tokens"]
    assert (row["actor"], row["scope"], row["status"], row["operator"]) == (
        DANA, "apply", "valid", False)
    assert token.split("_", 2)[2] not in listed.stdout and "sha256" not in listed.stdout
    assert row["id"] == token.split("_")[1]
    text = shsync(tmp_path, "token", "list", "--practice", "rb").stdout
    assert row["id"] in text and "valid" in text and token not in text


def test_a_revoked_token_is_listed_as_revoked(tmp_path):
    token = shsync(tmp_path, "token", "create", "--practice", "rb", "--operator",
                   "ci-deploy").stdout.strip()
    token_id = token.split("_")[1]
    assert shsync(tmp_path, "token", "revoke", token_id, "--practice", "rb").exit_code == 0
    listed = shsync(tmp_path, "token", "list", "--practice", "rb").stdout
    assert " revoked " in listed and ": revoked by operator:" in listed  # when, and by whom
    missing = shsync(tmp_path, "token", "revoke", "feedfeedfeedfeed", "--practice", "rb")
    assert missing.exit_code == 1 and "error[unknown-token]" in missing.stderr


def test_tokens_are_per_practice(tmp_path):
    seeded(tmp_path, "a", "b")
    assert shsync(tmp_path, "token", "create", "--practice", "a", "--actor", DANA).exit_code == 0
    assert shsync(tmp_path, "token", "list", "--practice", "a").stdout.count(DANA) == 1
    assert DANA not in shsync(tmp_path, "token", "list", "--practice", "b").stdout


def test_a_member_s_token_is_made_only_for_a_member_of_a_practice_a_server_answers_for(
        tmp_path):
    seeded(tmp_path, "rb")
    for actor in ("nobody@riverbend.example", "e\x1b[31m@riverbend.example"):
        refused = shsync(tmp_path, "token", "create", "--practice", "rb", "--actor", actor)
        assert refused.exit_code == 1 and "error[" in refused.stderr, refused.stderr
        assert "\x1b" not in refused.stderr
    bad_name = shsync(tmp_path, "token", "create", "--practice", "gh\x1bost", "--operator", "ci",
                      "--backend", f"sqlite:///{tmp_path}/new.db")
    assert bad_name.exit_code == 1 and "error[bad-practice]" in bad_name.stderr
    assert not (tmp_path / "new.db").exists()  # refused before any store is made
    elsewhere = shsync(tmp_path, "token", "create", "--practice", "new", "--actor", DANA)
    assert elsewhere.exit_code == 1 and "error[no-practice]" in elsewhere.stderr
    listed = shsync(tmp_path, "token", "list", "--practice", "rb", "--format", "json")
    assert json.loads(listed.stdout)["tokens"] == []


def test_mistakes_are_refused_clearly(tmp_path):
    seeded(tmp_path, "default")
    both = shsync(tmp_path, "token", "create", "--actor", "x@p.example", "--operator", "ci")
    assert both.exit_code == 1 and "exactly one of --actor EMAIL or --operator NAME" in both.stderr
    bad = shsync(tmp_path, "token", "create", "--actor", "not-an-email")
    assert bad.exit_code == 1 and "error[invalid-email]" in bad.stderr
    remote = run_cli("token", "list", "--backend", "https://shsync.example/practices/rb")
    assert remote.exit_code == 1 and "store's own credentials" in remote.stderr
    assert shsync(tmp_path, "token", "create", "--scope", "root", "--actor",
                  DANA).exit_code == 64
    for length in ("0d", "99999999d", "1s", "1000000000d", "99999999999h",
                   "9999999999999999d"):  # a mistake in the command line: exit 64
        wrong = shsync(tmp_path, "token", "create", "--actor", DANA, "--expires", length)
        assert wrong.exit_code == 64 and "--expires" in wrong.stderr, wrong.stderr

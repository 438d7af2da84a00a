"""Read-only commands never create a store or a practice; only seed and apply do."""

from __future__ import annotations

import json
import re
from pathlib import Path
import sqlite3

import psycopg
import pytest

from tests import pg
from tests.cli.conftest import ROOT

SNAPSHOT = str(ROOT / "examples" / "practice-snapshot.yaml")
ORG = str(ROOT / "examples" / "org.yaml")
READ_ONLY = [["history"], ["history", "--verify"], ["export"],
             ["access", "--client", "C-1001"], ["accepted", "x@riverbend.example"]]


@pytest.mark.parametrize("args", READ_ONLY, ids=lambda a: " ".join(a[:2]).replace(ORG, "org"))
def test_a_missing_sqlite_store_is_no_practice_and_nothing_is_created(run, tmp_path, args):
    url = "sqlite:///deep/er/practice.db"
    result = run(*args, env={"SHSYNC_BACKEND": url})
    assert result.returncode == 1
    assert result.stderr == (f"error[no-practice]: no practice at {url}: the file does not "
                             "exist (`shsync seed` or `shsync apply` creates it)\n")
    assert list(tmp_path.iterdir()) == []


def test_a_plan_without_a_store_reports_the_org_files_errors_with_it(run, tmp_path):
    # All problems at once: the file's errors used to come only after the store was made. A
    # store that does not exist yet is no problem for a plan (tests/cli/test_day_one.py).
    url = "sqlite:///practice.db"
    bad = tmp_path / "bad.yaml"
    bad.write_text(Path(ORG).read_text().replace('"1245319599"', '"1234567890"', 1))
    result = run("plan", "bad.yaml", env={"SHSYNC_BACKEND": url})
    assert result.returncode == 1
    assert result.stdout.splitlines() == [  # where a plan's file errors always go
        'bad.yaml:16:10: error[invalid-npi]: "1234567890" fails the NPI check digit (expected '
        '1234567893)']
    assert result.stderr == "error: 1 error(s) in the input; nothing was changed\n"
    unreachable = run("plan", "bad.yaml", "--format", "json",
                      env={"SHSYNC_BACKEND": "postgresql://x@127.0.0.1:1/x"})
    assert unreachable.returncode == 1
    errors = json.loads(unreachable.stdout)["errors"]
    assert [(e["code"], e["file"], e["line"]) for e in errors] == [
        ("invalid-npi", "bad.yaml", 16), ("backend", None, None)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]
    # a time that cannot be read is one more problem of the same run, from --at or SHSYNC_NOW
    at = run("plan", "bad.yaml", "--at", "garbage",
             env={"SHSYNC_BACKEND": "postgresql://x@127.0.0.1:1/x"})
    now = run("plan", "bad.yaml", env={"SHSYNC_BACKEND": "postgresql://x@127.0.0.1:1/x",
                                       "SHSYNC_NOW": "garbage"})
    for result in (at, now):
        assert result.returncode == 1
        assert re.findall(r"error\[([a-z-]+)\]", result.stdout) == [
            "invalid-npi", "invalid-time", "backend"]
        assert result.stderr == "error: 3 error(s) in the input; nothing was changed\n"
    good = run("plan", ORG, "--at", "garbage", env={"SHSYNC_BACKEND": url})
    assert good.returncode == 1
    assert re.findall(r"error\[([a-z-]+)\]", good.stdout + good.stderr) == ["invalid-time"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


def test_an_apply_of_a_file_with_errors_creates_no_store(run, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(Path(ORG).read_text().replace('"1245319599"', '"1234567890"', 1))
    result = run("apply", "bad.yaml", "--auto-approve",
                 env={"SHSYNC_BACKEND": "sqlite:///.shsync/practice.db"})
    assert result.returncode == 1 and "error[invalid-npi]" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


def test_a_seed_of_a_snapshot_with_errors_creates_no_store(run, tmp_path):
    result = run("seed", ORG, env={"SHSYNC_BACKEND": "sqlite:///.shsync/practice.db"})
    assert result.returncode == 1 and "error[unknown-key]" in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_only_errors_are_counted_as_errors(run, tmp_path):
    org = tmp_path / "org"
    org.mkdir()
    (org / "bad.yaml").write_text(Path(ORG).read_text().replace('"1245319599"', '"1234567890"'))
    (org / "notes.txt").write_text("not an org file\n")  # a skipped-file warning
    result = run("plan", "org", env={"SHSYNC_BACKEND": "sqlite:///practice.db"})
    assert "warning[skipped-file]" in result.stdout
    assert result.stderr == "error: 1 error(s) in the input; nothing was changed\n"


def test_the_practice_comes_from_the_sqlite_query_and_a_typo_is_refused(run, tmp_path):
    seeded = run("seed", SNAPSHOT, env={"SHSYNC_BACKEND": "sqlite:///q.db?practice=north"})
    assert seeded.returncode == 0, seeded.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q.db"]
    assert "Seeded practice 'north' at sqlite:///q.db?practice=north:" in seeded.stdout
    assert run("history", env={"SHSYNC_BACKEND": "sqlite:///q.db?practice=north"}).returncode == 0
    typo = run("export", env={"SHSYNC_BACKEND": "sqlite:///q.db?practice=nrth"})
    assert typo.returncode == 1 and typo.stdout == ""
    assert typo.stderr == ("error[no-practice]: no practice 'nrth' at sqlite:///q.db?practice="
                           "nrth (`shsync seed` or `shsync apply` creates one)\n")
    with sqlite3.connect(tmp_path / "q.db") as conn:
        assert conn.execute("SELECT practice FROM practices").fetchall() == [("north",)]


def test_sqlite_without_a_path_is_refused(run, tmp_path):
    result = run("seed", SNAPSHOT, env={"SHSYNC_BACKEND": "sqlite:///"})
    assert result.returncode == 1
    assert result.stderr.startswith("error[bad-backend-url]: the backend URL sqlite:/// names no "
                                    "file")
    assert list(tmp_path.iterdir()) == []


def test_apply_creates_the_store(run, tmp_path):
    result = run("apply", ORG, "--auto-approve", "--assume-accepted")
    assert result.returncode == 0, result.stderr
    assert run("plan", ORG).returncode == 0


def test_a_schema_version_that_is_not_a_number_is_a_clear_error(run, tmp_path):
    assert run("seed", SNAPSHOT).returncode == 0
    with sqlite3.connect(tmp_path / "practice.db") as conn:
        conn.execute("UPDATE shsync_meta SET value = 'two' WHERE key = 'schema_version'")
    result = run("history")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr == (f"error[bad-store]: sqlite:///{tmp_path}/practice.db: the store's "
                             "schema version 'two' is not a number; it was not written by "
                             "shsync\n")


def test_an_access_end_changed_outside_shsync_is_bad_store_and_nothing_is_written(run, tmp_path):
    # 'garbage' compared as text after every real time: the grant never expired, and `export`
    # wrote `until: garbage`, which `validate` then refused.
    assert run("seed", SNAPSHOT).returncode == 0
    with sqlite3.connect(tmp_path / "practice.db") as conn:
        conn.execute("UPDATE client_access SET ends_at = 'garbage', end_reason = 'cover' "
                     "WHERE client = 'C-1001' AND member = 'priya.shah@riverbend.example'")
    expected = (f"error[bad-store]: sqlite:///{tmp_path}/practice.db: the end of "
                "priya.shah@riverbend.example's access to client C-1001 is 'garbage', not a "
                "time shsync writes (like 2026-11-26T12:00:00Z); it was not written by shsync\n")
    for args in (["export", "-o", "org.yaml"], ["expire"], ["plan", ORG],
                 ["access", "--client", "C-1001"]):
        result = run(*args)
        assert (result.returncode, result.stderr) == (1, expected), args
    assert not (tmp_path / "org.yaml").exists()
    assert run("history").stdout.count("\n") == 1  # the seed, and nothing since


def test_a_mistyped_postgresql_practice_is_refused_and_nothing_is_created(run, tmp_path):
    pg.require()
    schema = pg.new_schema("typo")
    secret_url = re.sub(r"//([^:@/]+)@", r"//\1:hunter2@", pg.URL, count=1)
    url = f"{pg.fresh_url(schema, 'riverbend')}"
    assert run("seed", SNAPSHOT, env={"SHSYNC_BACKEND": url}).returncode == 0
    typo = pg.fresh_url(schema, "typo").replace(pg.URL, secret_url)
    assert "hunter2" in typo  # the server trusts the test user; the password is only shown
    result = run("export", env={"SHSYNC_BACKEND": typo, "PGPASSWORD": ""})
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("error[no-practice]: no practice 'typo' at postgresql://")
    assert "hunter2" not in result.stderr
    other = pg.new_schema("never")
    missing = run("history", env={"SHSYNC_BACKEND": pg.fresh_url(other, "x")})
    assert missing.returncode == 1 and "error[no-practice]" in missing.stderr
    with psycopg.connect(pg.URL, autocommit=True) as conn:
        assert conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s",
                            (other,)).fetchall() == []
        practices = conn.execute(f'SELECT practice FROM "{schema}".practices').fetchall()
    assert practices == [("riverbend",)]

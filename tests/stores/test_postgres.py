"""PostgreSQL under concurrency and faults, through the real CLI in separate processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import yaml

from shsync.stores.base import BackendError
from shsync.stores.postgres import PostgresBackend, lock_key
from shsync.stores.sql import SCHEMA_VERSION
from tests import pg
from tests.helpers import base_org, email, member

from tests.conftest import NOW


@pytest.fixture(autouse=True)
def _needs_pg():
    pg.require()


def shsync(*args: str, url: str, cwd: Path, env: dict[str, str] | None = None,
           background: bool = False):
    full = {**os.environ, "SHSYNC_NOW": NOW, "SHSYNC_BACKEND": url, **(env or {})}
    command = [sys.executable, "-m", "shsync", *args]
    if background:
        return subprocess.Popen(command, cwd=cwd, env=full, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    return subprocess.run(command, cwd=cwd, env=full, capture_output=True, text=True, timeout=300)


def write(path: Path, data) -> Path:
    path.write_text(yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False))
    return path


def seeded(tmp_path: Path, practice: str = "default", schema: str | None = None) -> str:
    url = pg.fresh_url(schema or pg.new_schema("cli"), practice)
    write(tmp_path / f"snapshot-{practice}.yaml", base_org())
    result = shsync("seed", f"snapshot-{practice}.yaml", url=url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return url


def large_org(clients: int) -> dict:
    org = base_org()
    org["members"] += [member(f"p{i}", "practitioner", billing_access=False) for i in range(50)]
    org["clients"] += [{"id": f"L-{i}", "practitioner": email(f"p{i % 50}"),
                        "access": [email("dana")]} for i in range(clients)]
    return org


def export(url: str, cwd: Path) -> str:
    result = shsync("export", url=url, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout


def history(url: str, cwd: Path) -> list:
    """The audit entries, from the JSON envelope of `history --format json`."""
    return json.loads(shsync("history", "--format", "json", url=url, cwd=cwd).stdout)["entries"]


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


def apply_writing(practice: str) -> int | None:
    """The server pid of the apply of this practice, once it is inside its transaction writing
    client rows: the holder of the practice's advisory lock. Any other apply on the server (of
    another test, or of another test run sharing it) holds another practice's lock."""
    key = lock_key(practice)
    with psycopg.connect(pg.URL, autocommit=True) as conn:
        row = conn.execute(
            "SELECT a.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.objid = %s "
            "AND l.objsubid = 1 AND a.query ILIKE 'INSERT INTO client%%'",
            ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF)).fetchone()
    return row[0] if row else None


def unique_practice() -> str:
    return f"p{uuid.uuid4().hex[:12]}"


def test_eight_concurrent_applies_from_one_fingerprint_exactly_one_wins(tmp_path):
    url = seeded(tmp_path)
    for i in range(8):
        org = base_org()
        org["members"].append(member(f"new{i}", "scheduler"))
        write(tmp_path / f"org{i}.yaml", org)
        assert shsync("plan", f"org{i}.yaml", "--out", f"plan{i}.json", url=url,
                      cwd=tmp_path).returncode == 0
    runs = [shsync("apply", f"plan{i}.json", url=url, cwd=tmp_path, background=True)
            for i in range(8)]
    outcomes = [(run.returncode, *run.communicate(timeout=120)) for run in runs]
    outcomes = [(run.returncode, out, err) for run, (_, out, err) in zip(runs, outcomes)]
    winners = [i for i, (code, _, _) in enumerate(outcomes) if code == 0]
    assert len(winners) == 1, outcomes
    for code, _, err in outcomes:
        if code != 0:
            assert code == 1 and ("changed since this plan was made" in err or "lock" in err), err
    live = yaml.safe_load(export(url, tmp_path))
    invited = {m["email"] for m in live["members"]} - {m["email"] for m in base_org()["members"]}
    assert invited == {email(f"new{winners[0]}")}  # the winner's plan, never a mixture
    assert [e["kind"] for e in history(url, tmp_path)] == ["seed", "apply"]


def test_a_killed_apply_leaves_the_practice_as_it_was(tmp_path):
    practice = unique_practice()
    url = seeded(tmp_path, practice)
    write(tmp_path / "large.yaml", large_org(40_000))
    assert shsync("plan", "large.yaml", "--out", "plan.json", "--assume-accepted", url=url,
                  cwd=tmp_path).returncode == 0
    before = export(url, tmp_path)
    run = shsync("apply", "plan.json", url=url, cwd=tmp_path, background=True)
    wait_for(lambda: apply_writing(practice) is not None or run.poll() is not None)
    assert run.poll() is None, "the apply finished before it could be killed"
    run.send_signal(signal.SIGKILL)
    run.communicate(timeout=60)
    assert export(url, tmp_path) == before and len(history(url, tmp_path)) == 1
    again = shsync("apply", "plan.json", url=url, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert [e["kind"] for e in history(url, tmp_path)] == ["seed", "apply"]


def test_a_connection_lost_mid_apply_is_a_clear_error_and_changes_nothing(tmp_path):
    practice = unique_practice()
    url = seeded(tmp_path, practice)
    write(tmp_path / "large.yaml", large_org(40_000))
    shsync("plan", "large.yaml", "--out", "plan.json", "--assume-accepted", url=url,
           cwd=tmp_path)
    before = export(url, tmp_path)
    run = shsync("apply", "plan.json", url=url, cwd=tmp_path, background=True)
    wait_for(lambda: apply_writing(practice) is not None or run.poll() is not None)
    pid = apply_writing(practice)
    assert pid is not None, "the apply finished before the connection could be cut"
    with psycopg.connect(pg.URL, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
    _, err = run.communicate(timeout=60)
    assert run.returncode == 1
    assert "connection failed or was lost" in err and "nothing was changed" in err
    assert "Traceback" not in err
    assert export(url, tmp_path) == before


def test_a_second_apply_waits_for_the_lock_then_names_the_holder(tmp_path):
    practice = unique_practice()  # the lock is per practice name: no other test takes this one
    url = seeded(tmp_path, practice)
    org = base_org()
    org["members"].append(member("new", "scheduler"))
    write(tmp_path / "org.yaml", org)
    shsync("plan", "org.yaml", "--out", "plan.json", url=url, cwd=tmp_path)
    with psycopg.connect(pg.URL, autocommit=True, application_name="ci job 42") as holder:
        with holder.transaction():
            holder.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(practice),))
            started = time.monotonic()
            result = shsync("apply", "plan.json", "--lock-timeout", "1", url=url, cwd=tmp_path)
            waited = time.monotonic() - started
    assert result.returncode == 1
    assert "held the lock for more than 1 s (held by ci job 42" in result.stderr
    assert waited >= 1.0
    assert shsync("apply", "plan.json", url=url, cwd=tmp_path).returncode == 0


def test_two_practices_in_one_database_apply_concurrently(tmp_path):
    schema = pg.new_schema("two")
    urls = {name: seeded(tmp_path, name, schema) for name in ("north", "south")}
    for name, url in urls.items():
        org = base_org()
        org["members"].append(member(f"{name}-hire", "scheduler"))
        write(tmp_path / f"{name}.yaml", org)
        shsync("plan", f"{name}.yaml", "--out", f"{name}.json", url=url, cwd=tmp_path)
    runs = {name: shsync("apply", f"{name}.json", url=url, cwd=tmp_path, background=True)
            for name, url in urls.items()}
    for run in runs.values():
        run.communicate(timeout=120)
    assert all(run.returncode == 0 for run in runs.values())
    for name, url in urls.items():
        emails = {m["email"] for m in yaml.safe_load(export(url, tmp_path))["members"]}
        other = "south" if name == "north" else "north"
        assert email(f"{name}-hire") in emails and email(f"{other}-hire") not in emails
        assert [e["kind"] for e in history(url, tmp_path)] == ["seed", "apply"]


def test_a_password_is_never_printed(tmp_path):
    url = "postgresql://postgres:hunter2secret@127.0.0.1:1/test"
    result = shsync("history", url=url, cwd=tmp_path)
    assert result.returncode == 1
    assert "hunter2secret" not in result.stderr + result.stdout
    assert "postgres:***@127.0.0.1:1" in result.stderr
    assert "Traceback" not in result.stderr


def test_libpq_environment_variables_work(tmp_path):
    target = psycopg.conninfo.conninfo_to_dict(pg.URL)
    env = {"PGHOST": str(target.get("host", "127.0.0.1")), "PGPORT": str(target.get("port", 5432)),
           "PGUSER": str(target.get("user", "postgres")),
           "PGDATABASE": str(target.get("dbname", "test"))}
    url = f"postgresql:///?schema={pg.new_schema('env')}"
    write(tmp_path / "snapshot.yaml", base_org())
    seeded = shsync("seed", "snapshot.yaml", url=url, cwd=tmp_path, env=env)
    assert seeded.returncode == 0, seeded.stderr
    result = shsync("history", url=url, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr


def test_a_newer_store_schema_is_refused(tmp_path):
    url = pg.fresh_url(pg.new_schema("newer"))
    PostgresBackend(url).close()
    schema = url.split("schema=")[1].split("&")[0]
    with psycopg.connect(pg.URL, autocommit=True) as conn:
        conn.execute(f'UPDATE "{schema}".shsync_meta SET value = %s WHERE key = %s',
                     ("99", "schema_version"))
    with pytest.raises(BackendError, match="newer than this shsync understands"):
        PostgresBackend(url)


def test_a_database_that_does_not_exist_is_a_clear_error(tmp_path):
    base = pg.URL.rsplit("/", 1)[0]
    result = shsync("history", url=f"{base}/no_such_database_here", cwd=tmp_path)
    assert result.returncode == 1
    assert "cannot connect to" in result.stderr and "no_such_database_here" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_password_in_the_query_or_percent_encoded_is_never_printed(tmp_path):
    url = "postgresql://postgres:hun%40ter2@127.0.0.1:1/test?password=s3cr%2Fet&sslpassword=k3y"
    result = shsync("export", url=url, cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    for form in ("hun%40ter2", "hun@ter2", "s3cr%2Fet", "s3cr/et", "k3y"):
        assert form not in result.stderr + result.stdout
    assert "postgres:***@127.0.0.1:1/test?password=***&sslpassword=***" in result.stderr


def test_a_store_of_schema_version_3_is_upgraded_for_stored_plans(tmp_path):
    from dataclasses import replace

    from shsync.core.authorize import Actor
    from tests.core.builders import ADMIN, live, m, want
    from shsync.core import planner

    url = pg.fresh_url(pg.new_schema("v3"))
    store = PostgresBackend(url)
    store.seed(live(ADMIN, m("ben", "biller", admin=True)))
    store.close()
    schema = url.split("schema=")[1].split("&")[0]
    with psycopg.connect(pg.URL, autocommit=True) as conn:  # as shsync wrote it before plans
        conn.execute(f'DROP TABLE "{schema}".stored_plans, "{schema}".plan_approvals, '
                     f'"{schema}".tokens')  # tokens came with version 5
        conn.execute(f'ALTER TABLE "{schema}".practices DROP COLUMN approvals')
        conn.execute(f'ALTER TABLE "{schema}".practices DROP COLUMN break_glass')
        conn.execute(f'ALTER TABLE "{schema}".practices DROP COLUMN head_seq, '
                     'DROP COLUMN head_hash, DROP COLUMN fingerprint, DROP COLUMN deadlines')
        conn.execute(f'DROP TABLE "{schema}".runbook_steps')  # version 10's
        conn.execute(f"UPDATE \"{schema}\".shsync_meta SET value = '3'")
    store = PostgresBackend(url)
    try:
        state = store.read()
        rule = replace(want(*state.members.values()), approval_policy=(("widens_access", 1),))
        plan = planner.plan(rule, state, practice="default", now=NOW)
        assert store.save_plan(plan, author=None, now=NOW).required == 0
        store.apply(plan, actor=Actor.operator("t"), now=NOW)
        assert store.read().approval_policy == (("widens_access", 1),)
    finally:
        store.close()
    with psycopg.connect(pg.URL, autocommit=True) as conn:
        assert conn.execute(f'SELECT value FROM "{schema}".shsync_meta').fetchone() == (str(SCHEMA_VERSION),)

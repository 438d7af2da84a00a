"""Hostile files, paths and outputs: each invocation exits 1 with one exact `error[CODE]` line,
no traceback, and changes nothing (neither the store nor any file)."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from shsync.jobs import outfile
from shsync.stores.sqlite import SqliteBackend
from tests.cli.conftest import ROOT
from tests.conftest import NOW, run_cli

EXAMPLES = ROOT / "examples"

ORG = str(ROOT / "examples" / "org.yaml")
SNAPSHOT = str(ROOT / "examples" / "practice-snapshot.yaml")


def tree(root: Path) -> dict[str, bytes | str]:
    """Every entry under root (the store aside): files by content, others by kind."""
    found: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            rel = str(path.relative_to(root))
            if rel.startswith("practice.db"):
                continue
            found[rel] = (path.read_bytes() if path.is_file() and not path.is_symlink()
                          else "link" if path.is_symlink() else "dir" if path.is_dir() else "other")
    return found


class Workspace:
    def __init__(self, root: Path):
        self.root = root
        self.db = root / "practice.db"

    def invoke(self, *args: str, env: dict[str, str | None] | None = None):
        return run_cli(*args, env={"SHSYNC_BACKEND": f"sqlite:///{self.db}", **(env or {})})

    def store(self):
        backend = SqliteBackend(str(self.db))
        try:
            return backend.read(), [e.entry_hash for e in backend.history()]
        finally:
            backend.close()

    def refused(self, *args: str, line: str, env: dict[str, str | None] | None = None):
        """Run a hostile invocation; check exit 1, the exact line, no traceback, no change."""
        store, files = self.store(), tree(self.root)
        result = self.invoke(*args, env=env)
        assert result.exit_code == 1, result.output
        assert isinstance(result.exception, SystemExit), result.exception
        assert "Traceback" not in result.output
        lines = result.output.splitlines()
        assert any(re.fullmatch(line, shown) for shown in lines), result.output
        assert self.store() == store
        assert tree(self.root) == files
        return result


@pytest.fixture
def ws(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    workspace = Workspace(tmp_path)
    seeded = workspace.invoke("seed", SNAPSHOT)
    assert seeded.exit_code == 0, seeded.output
    return workspace


def lit(text: str) -> str:
    return re.escape(text)


# --- reading: devices, FIFOs, directories, sizes ----------------------------------------------

def test_validate_dev_zero(ws):
    ws.refused("validate", "/dev/zero",
               line=lit("error[not-a-file]: /dev/zero: a character device, not a regular file"))


def test_validate_a_fifo_does_not_hang(ws):
    os.mkfifo("org.yaml")
    ws.refused("validate", "org.yaml",
               line=lit("error[not-a-file]: org.yaml: a FIFO (named pipe), not a regular file"))


def test_plan_a_fifo(ws):
    os.mkfifo("org.yaml")
    ws.refused("plan", "org.yaml",
               line=lit("error[not-a-file]: org.yaml: a FIFO (named pipe), not a regular file"))


def test_apply_a_fifo(ws):
    os.mkfifo("plan.json")
    ws.refused("apply", "plan.json",
               line=lit("plan.json: error[not-a-file]: a FIFO (named pipe), not a regular file"))


def test_apply_dev_zero(ws):
    ws.refused("apply", "/dev/zero",
               line=lit("/dev/zero: error[not-a-file]: a character device, not a regular file"))


def test_a_fifo_inside_an_org_directory(ws):
    Path("org").mkdir()
    Path("org/org.yaml").write_text(Path(ORG).read_text())
    os.mkfifo("org/later.yaml")
    ws.refused("plan", "org",
               line=lit("error[not-a-file]: org/later.yaml: a FIFO (named pipe), not a regular "
                        "file"))


def test_a_symlink_out_of_an_org_directory(ws):
    Path("org").mkdir()
    Path("org/org.yaml").write_text(Path(ORG).read_text())
    Path("org/more.yaml").symlink_to("/etc/hostname")
    ws.refused("plan", "org",
               line=lit("error[symlink-outside]: org/more.yaml: a symbolic link to "
                        "/etc/hostname, outside the org directory; shsync follows links only "
                        "within it (copy the file in instead)"))


def test_seed_dev_zero(ws):
    ws.refused("seed", "/dev/zero",
               line=lit("error[not-a-file]: /dev/zero: a character device, not a regular file"))


def test_refresh_from_a_fifo(ws):
    os.mkfifo("observed.yaml")
    ws.refused("refresh", "observed.yaml", "--auto-approve",
               line=lit("error[not-a-file]: observed.yaml: a FIFO (named pipe), not a regular "
                        "file"))


def test_access_from_a_fifo(ws):
    os.mkfifo("org.yaml")
    ws.refused("access", "--file", "org.yaml", "--client", "C-1001",
               line=lit("error[not-a-file]: org.yaml: a FIFO (named pipe), not a regular file"))


def test_onboard_a_fifo(ws):
    os.mkfifo("roster.csv")
    ws.refused("onboard", "roster.csv", "-o", "org",
               line=lit("error[not-a-file]: roster.csv: a FIFO (named pipe), not a regular "
                        "file"))


def test_onboard_a_directory(ws):
    Path("roster.csv").mkdir()
    ws.refused("onboard", "roster.csv", "-o", "org",
               line=lit("error[not-a-file]: roster.csv: a directory, not a regular file"))


def test_an_org_file_over_the_size_bound(ws):
    Path("org.yaml").write_text(Path(ORG).read_text())
    size = Path("org.yaml").stat().st_size
    ws.refused("plan", "org.yaml", env={"SHSYNC_MAX_FILE_BYTES": "1000"},
               line=lit(f"error[file-too-large]: org.yaml: the file is {size:,} bytes; the "
                        "limit is 1,000 (set SHSYNC_MAX_FILE_BYTES to raise it)"))


def test_a_saved_plan_over_the_size_bound(ws):
    assert ws.invoke("plan", ORG, "-o", "plan.json").exit_code == 0
    size = Path("plan.json").stat().st_size
    ws.refused("apply", "plan.json", env={"SHSYNC_MAX_FILE_BYTES": "100"},
               line=lit(f"plan.json: error[file-too-large]: the file is {size:,} bytes; the "
                        "limit is 100 (set SHSYNC_MAX_FILE_BYTES to raise it)"))


def test_a_malformed_size_bound_names_the_variable(ws):
    ws.refused("validate", ORG, env={"SHSYNC_MAX_FILE_BYTES": "lots"},
               line=lit("error[invalid-setting]: SHSYNC_MAX_FILE_BYTES='lots' is not a number "
                        "of bytes like 268435456"))


# --- outputs ------------------------------------------------------------------------------

def test_plan_out_to_dev_full(ws):
    ws.refused("plan", ORG, "--out", "/dev/full",
               line=lit("error[output-failed]: cannot write /dev/full: no space left on device"))


def test_plan_out_under_a_regular_file(ws):
    Path("afile").write_text("x")
    ws.refused("plan", ORG, "-o", "afile/plan.json",
               line=lit("error[output-failed]: cannot write afile/plan.json: not a directory"))


def test_plan_out_under_proc(ws):
    ws.refused("plan", ORG, "-o", "/proc/plan.json",
               line=r"error\[output-failed\]: cannot write /proc/plan\.json: "
                    r"(no such file or directory|permission denied)")


def test_plan_out_into_a_missing_directory(ws):
    ws.refused("plan", ORG, "-o", "plans/plan.json",
               line=lit("error[output-failed]: cannot write plans/plan.json: the directory "
                        "plans does not exist"))


def test_plan_out_onto_a_directory(ws):
    Path("plans").mkdir()
    ws.refused("plan", ORG, "-o", "plans",
               line=lit("error[output-failed]: cannot write plans: it is a directory"))


def enospc_after(monkeypatch, calls: int) -> None:
    """The disk fills up on write number `calls` + 1."""
    real = outfile._write_all
    count = {"n": 0}

    def write_all(fd: int, data: bytes) -> None:
        count["n"] += 1
        if count["n"] > calls:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd, data)

    monkeypatch.setattr(outfile, "_write_all", write_all)


def test_plan_out_on_a_full_disk_keeps_the_old_plan(ws, monkeypatch):
    Path("plan.json").write_text("the plan reviewed yesterday")
    enospc_after(monkeypatch, 0)
    ws.refused("plan", ORG, "-o", "plan.json",
               line=lit("error[output-failed]: cannot write plan.json: no space left on device"))


def test_onboard_out_under_a_regular_file(ws):
    Path("roster.csv").write_text("email,first_name,last_name,roles,admin\n"
                                  "ann@x.example,Ann,A,biller,yes\n")
    Path("afile").write_text("x")
    ws.refused("onboard", "roster.csv", "-o", "afile/org",
               line=lit("error[output-failed]: cannot write afile/org: not a directory"))


def test_graph_out_to_dev_full(ws):
    ws.refused("graph", ORG, "-o", "/dev/full",
               line=lit("error[output-failed]: cannot write /dev/full: no space left on device"))


def test_report_out_into_a_missing_directory(ws):
    ws.refused("report", "-o", "review/report.html",
               line=lit("error[output-failed]: cannot write review/report.html: the directory "
                        "review does not exist"))


def test_export_to_dev_full(ws):
    ws.refused("export", "-o", "/dev/full",
               line=lit("error[output-failed]: cannot write /dev/full: no space left on device"))


def test_export_does_not_overwrite_without_force(ws):
    Path("org.yaml").write_text("# hand-written, with comments and handoffs\n")
    ws.refused("export", "--out", "org.yaml",
               line=lit("error[output-exists]: org.yaml exists; pass --force to replace it"))


def test_export_split_into_an_existing_directory_without_force(ws):
    Path("org/members").mkdir(parents=True)
    Path("org/members/gone.yaml").write_text("version: 1\n")
    ws.refused("export", "-o", "org", "--split-by", "role",
               line=lit("error[output-exists]: org exists and is not empty; pass --force to "
                        "replace it whole"))


def test_export_split_force_never_replaces_a_directory_with_other_files(ws):
    Path("org").mkdir()
    Path("org/README.md").write_text("ours")
    ws.refused("export", "-o", "org", "--split-by", "role", "--force",
               line=lit("error[output-exists]: org holds org/README.md, which is not an org "
                        "file; refusing to replace the directory"))


def test_export_split_on_a_full_disk_keeps_the_old_directory(ws, monkeypatch):
    Path("org/members").mkdir(parents=True)
    Path("org/members/gone.yaml").write_text("version: 1\n")
    enospc_after(monkeypatch, 2)
    ws.refused("export", "-o", "org", "--split-by", "role", "--force",
               line=lit("error[output-failed]: cannot write org: no space left on device"))


def test_export_split_on_a_full_disk_creates_nothing(ws, monkeypatch):
    enospc_after(monkeypatch, 2)
    ws.refused("export", "-o", "org", "--split-by", "role",
               line=lit("error[output-failed]: cannot write org: no space left on device"))
    assert not Path("org").exists()


# --- numbers and times that crash ---------------------------------------------------------

def test_a_4400_digit_number(ws):
    Path("org.yaml").write_text("version: " + "9" * 4400 + "\n")
    ws.refused("validate", "org.yaml",
               line=lit("org.yaml:1:10: error[yaml-number-too-large]: a number of 4,400 digits "
                        "is too large to read; quote it if it is text"))


def test_shsync_now_past_the_end_of_time(ws):
    ws.refused("plan", ORG, env={"SHSYNC_NOW": "9999-12-31T23:00:00-05:00"},
               line=lit("error[time-out-of-range]: SHSYNC_NOW='9999-12-31T23:00:00-05:00' is "
                        "outside the years 1970 to 9998 (in UTC)"))


@pytest.mark.parametrize("now", ["9999-12-31T23:00:00Z", "1969-12-31T23:59:59Z",
                                 "0001-01-01T00:00:00+05:00"])
def test_break_glass_at_the_ends_of_the_calendar(ws, now):
    ws.refused("break-glass", "--actor", "omar.haddad@riverbend.example", "--client", "C-1001",
               "--reason", "test", "--for", "2h", env={"SHSYNC_NOW": now},
               line=lit(f"error[time-out-of-range]: SHSYNC_NOW={now!r} is outside the years "
                        "1970 to 9998 (in UTC)"))


@pytest.mark.parametrize("invited_at", ["0001-01-01T00:00:00Z", "1969-12-31T18:59:59-05:00"])
def test_a_snapshot_time_before_1970_is_refused(ws, invited_at):
    text = Path(SNAPSHOT).read_text()
    before = "    invited_at: 2026-11-20T09:00:00Z\n"
    Path("observed.yaml").write_text(text.replace(before, f"    invited_at: {invited_at}\n"))
    line = text[:text.index(before)].count("\n") + 1
    ws.refused("refresh", "observed.yaml", "--auto-approve",
               line=lit(f"observed.yaml:{line}:17: error[time-out-of-range]: "
                        f"{invited_at.replace('Z', '+00:00')} is outside the years 1970 to 9998 "
                        "(in UTC)"))


def test_a_malformed_shsync_now(ws):
    ws.refused("plan", ORG, env={"SHSYNC_NOW": "next tuesday"},
               line=lit("error[invalid-time]: SHSYNC_NOW='next tuesday' is not an ISO time like "
                        "2026-11-26T12:00:00Z"))


def test_invited_at_past_the_end_of_time(ws):
    text = Path(SNAPSHOT).read_text()
    before = "    invited_at: 2026-11-20T09:00:00Z\n"
    assert before in text
    Path("observed.yaml").write_text(
        text.replace(before, "    invited_at: 9999-12-31T23:00:00-05:00\n"))
    line = text[:text.index(before)].count("\n") + 1
    ws.refused("refresh", "observed.yaml", "--auto-approve",
               line=lit(f"observed.yaml:{line}:17: error[time-out-of-range]: "
                        "9999-12-31T23:00:00-05:00 is outside the years 1970 to 9998 (in UTC)"))


# --- what works: the same outputs, done right ---------------------------------------------

def test_export_force_replaces_a_file_and_dash_is_standard_output(ws):
    Path("org.yaml").write_text("# old\n")
    assert ws.invoke("export", "-o", "org.yaml", "--force").exit_code == 0
    stdout = ws.invoke("export", "-o", "-")
    assert stdout.exit_code == 0
    assert Path("org.yaml").read_text() == stdout.stdout
    assert ws.invoke("validate", "org.yaml").exit_code == 0


def test_export_split_force_replaces_the_directory_whole(ws):
    Path("org/members").mkdir(parents=True)
    Path("org/members/gone.yaml").write_text("version: 1\n")
    result = ws.invoke("export", "-o", "org", "--split-by", "role", "--force")
    assert result.exit_code == 0, result.output
    assert not Path("org/members/gone.yaml").exists()
    assert sorted(p.name for p in Path("org").iterdir()) == ["clients.yaml", "members",
                                                             "org.yaml"]
    assert [p.name for p in Path().iterdir() if p.name.startswith(".")] == []
    assert ws.invoke("validate", "org").exit_code == 0


def test_plan_out_replaces_a_plan_whole_with_ordinary_permissions(ws):
    Path("plan.json").write_text("old")
    os.chmod("plan.json", 0o640)
    assert ws.invoke("plan", ORG, "-o", "plan.json").exit_code == 0
    assert Path("plan.json").read_text().startswith("{")
    assert Path("plan.json").stat().st_mode & 0o777 == 0o640
    assert sorted(os.listdir()) == ["plan.json", "practice.db"]


def test_a_device_named_as_the_output_is_written_directly(run):
    assert run("seed", SNAPSHOT).returncode == 0
    exported = run("export", "-o", "/dev/stdout")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == run("export").stdout
    assert exported.stdout.startswith("# Exported by shsync")


@pytest.mark.parametrize("how", ["option", "environment"])
def test_an_empty_actor_is_refused_never_the_operator(run, how):
    snapshot = str(Path(__file__).resolve().parents[2] / "examples" / "practice-snapshot.yaml")
    assert run("seed", snapshot).returncode == 0
    victor = "victor.okafor@riverbend.example"
    args, env = (["--actor", " "], None) if how == "option" else ([], {"SHSYNC_ACTOR": ""})
    result = run("accepted", victor, *args, env=env)
    if how == "option":  # a mistake in the command line itself
        assert result.returncode == 64
        assert "Invalid value for '--actor': is empty" in result.stderr
    else:
        assert result.returncode == 1
        assert result.stderr.startswith("error[empty-actor]: the actor is empty")
    history = run("history").stdout
    assert "accepted" not in history  # nothing was recorded


# --- a standard output that cannot be written -------------------------------------------------

def _to(target, run_args, tmp_path, **extra):
    """Run the CLI with its standard output sent to `target` (a path, or None: closed)."""
    env = {**{k: v for k, v in os.environ.items() if k != "SHSYNC_ACTOR"},
           "SHSYNC_BACKEND": f"sqlite:///{tmp_path}/practice.db", "SHSYNC_NOW": NOW}
    with contextlib.ExitStack() as opened:
        out = opened.enter_context(open(target, "w")) if target else subprocess.DEVNULL
        return subprocess.run([sys.executable, "-m", "shsync", *run_args], cwd=tmp_path, env=env,
                              stdout=out, stderr=subprocess.PIPE, text=True, timeout=120,
                              **extra)


def test_an_apply_whose_report_cannot_be_written_says_it_was_applied_and_exits_3(run, tmp_path):
    assert run("seed", str(EXAMPLES / "practice-snapshot.yaml")).returncode == 0
    assert run("plan", str(EXAMPLES / "org.yaml"), "-o", "plan.json").returncode == 0
    result = _to("/dev/full", ["apply", "plan.json"], tmp_path)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert re.fullmatch(r"error\[output-failed\]: the change WAS applied and committed, as audit "
                        r"entry #2 \(head sha256:[0-9a-f]{64}\), but its report could not be "
                        r"written to standard output: No space left on device\n", result.stderr)
    again = run("apply", "plan.json")
    assert "already applied, as audit entry #2" in again.stderr


@pytest.mark.parametrize("args", [["history"], ["access", "--client", "C-1001", "--format",
                                                  "csv"], ["export", "-o", "-"],
                                  ["plan", str(EXAMPLES / "org.yaml")]])
def test_a_report_that_cannot_be_written_is_output_failed_and_nothing_changed(run, tmp_path,
                                                                              args):
    assert run("seed", str(EXAMPLES / "practice-snapshot.yaml")).returncode == 0
    result = _to("/dev/full", args, tmp_path)
    assert (result.returncode, result.stderr) == (
        1, "error[output-failed]: could not write to standard output: No space left on device; "
           "nothing was changed\n")
    assert len(json.loads(run("history", "--format", "json").stdout)["entries"]) == 1


def _closed(command: str, tmp_path, redirect: str = ">&-"):
    """Run `shsync COMMAND` with standard output (or, with `<&-`, input) closed."""
    return subprocess.run(
        ["bash", "-c", f'exec "{sys.executable}" -m shsync {command} {redirect}'],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**{k: v for k, v in os.environ.items() if k != "SHSYNC_ACTOR"},
             "SHSYNC_BACKEND": f"sqlite:///{tmp_path}/practice.db", "SHSYNC_NOW": NOW})


def test_a_closed_standard_output_is_output_failed_and_nothing_changed(run, tmp_path):
    assert run("seed", str(EXAMPLES / "practice-snapshot.yaml")).returncode == 0
    for command in (f'plan "{EXAMPLES}/org.yaml"', "history", "export -o -", "--help",
                    "plan -h", "--version"):
        result = _closed(command, tmp_path)
        assert (result.returncode, result.stderr) == (
            1, "error[output-failed]: could not write to standard output: Bad file descriptor; "
               "nothing was changed\n"), command
    assert len(json.loads(run("history", "--format", "json").stdout)["entries"]) == 1


def test_an_apply_to_a_closed_standard_output_says_it_was_applied_and_exits_3(run, tmp_path):
    assert run("seed", str(EXAMPLES / "practice-snapshot.yaml")).returncode == 0
    assert run("plan", str(EXAMPLES / "org.yaml"), "-o", "plan.json").returncode == 0
    result = _closed("apply plan.json", tmp_path)
    assert result.returncode == 3, result.stderr
    assert re.fullmatch(r"error\[output-failed\]: the change WAS applied and committed, as audit "
                        r"entry #2 \(head sha256:[0-9a-f]{64}\), but its report could not be "
                        r"written to standard output: Bad file descriptor\n", result.stderr)


def test_a_closed_standard_input_is_not_a_terminal(run, tmp_path):
    assert run("seed", str(EXAMPLES / "practice-snapshot.yaml")).returncode == 0
    result = _closed(f'apply "{EXAMPLES}/org.yaml"', tmp_path, "<&- >/dev/null")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "error[not-confirmed]: not on a terminal" in result.stderr
    result = _closed("validate -", tmp_path, "<&-")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr


def test_an_empty_saved_plan_is_checked_like_any_other(run, tmp_path):
    assert run("seed", str(EXAMPLES / "practice-snapshot.yaml")).returncode == 0
    assert run("export", "-o", "live.yaml").returncode == 0
    assert run("plan", "live.yaml", "-o", "empty.json").returncode == 0
    assert json.loads((tmp_path / "empty.json").read_text())["changes"] == []
    assert run("apply", "empty.json").stdout == "No changes to apply.\n"
    other = run("apply", "empty.json", env={
        "SHSYNC_BACKEND": f"sqlite:///{tmp_path}/practice.db?practice=other"})
    assert other.returncode == 1 and "error[no-practice]" in other.stderr
    nobody = run("apply", "empty.json", env={"SHSYNC_ACTOR": "nobody@x.example"})
    assert nobody.returncode == 1 and "error[forbidden]" in nobody.stderr
    data = json.loads((tmp_path / "empty.json").read_text())
    data["fingerprint"] = "sha256:" + "0" * 64
    data.pop("plan_hash")
    from shsync.core.plan import canonical
    import hashlib
    data["plan_hash"] = "sha256:" + hashlib.sha256(canonical(data).encode()).hexdigest()
    (tmp_path / "stale.json").write_text(json.dumps(data))
    stale = run("apply", "stale.json")
    assert stale.returncode == 1 and "error[stale-plan]" in stale.stderr
    missing = run("apply", "empty.json",
                  env={"SHSYNC_BACKEND": f"sqlite:///{tmp_path}/new/x.db"})
    assert missing.returncode == 1 and "error[no-practice]" in missing.stderr
    assert not (tmp_path / "new").exists()


def test_export_refuses_names_no_org_file_may_hold_and_writes_nothing(run, tmp_path):
    import sqlite3

    assert run("seed", str(EXAMPLES / "practice-snapshot.yaml")).returncode == 0
    with sqlite3.connect(tmp_path / "practice.db") as conn:  # changed outside shsync
        conn.execute("UPDATE members SET first_name = 'Dana\x1b[2K' WHERE email = "
                     "'dana.ortiz@riverbend.example'")
    result = run("export", "-o", "org.yaml")
    assert result.returncode == 1 and not (tmp_path / "org.yaml").exists()
    assert result.stderr.startswith("error[control-character]: the live practice holds ")
    assert "dana.ortiz@riverbend.example's first_name holds \\u001b" in result.stderr
    assert "\x1b" not in result.stderr


@pytest.mark.parametrize("change, named", [
    ("UPDATE members SET last_name = 'Ortiz' || char(8238) WHERE email = "
     "'dana.ortiz@riverbend.example'", "dana.ortiz@riverbend.example's last_name holds \\u202e"),
    ("UPDATE members SET first_name = 'Dana' || char(10) || 'x' WHERE email = "
     "'dana.ortiz@riverbend.example'", "dana.ortiz@riverbend.example's first_name holds \\u000a"),
    ("UPDATE members SET taxonomy = '101YM0800X' || char(27) WHERE email = "
     "'dana.ortiz@riverbend.example'", "dana.ortiz@riverbend.example's taxonomy holds \\u001b"),
    ("UPDATE members SET email = 'grace' || char(27) || '@riverbend.example' WHERE email = "
     "'grace.kim@riverbend.example'", "grace\\x1b@riverbend.example's email holds \\u001b"),
    ("UPDATE clients SET id = 'C-1008' || char(10) WHERE id = 'C-1008'",
     "client C-1008\\x0a's id holds \\u000a"),
])
def test_export_refuses_any_text_no_org_file_may_hold(run, tmp_path, change, named):
    import sqlite3

    assert run("seed", str(EXAMPLES / "practice-snapshot.yaml")).returncode == 0
    with sqlite3.connect(tmp_path / "practice.db") as conn:  # changed outside shsync
        conn.execute(change)
    for args in (["-o", "org.yaml"], ["-o", "org", "--split-by", "role"]):
        result = run("export", *args)
        assert result.returncode == 1 and not (tmp_path / args[1]).exists(), result.stderr
        assert result.stderr.startswith("error[control-character]: the live practice holds ")
        assert named in result.stderr
        assert not any(c in result.stderr for c in "\x1b\u202e") and result.stderr.count(
            "\n") == 1


LONG = "a" * 5000  # over PATH_MAX: the system answers ENAMETOOLONG, not "no such file"


@pytest.mark.parametrize("args, store", [
    (["plan", f"{LONG}.yaml"], "default"), (["plan", f"{LONG}.yaml"], "long"),
    (["validate", f"{LONG}.yaml"], "default"), (["apply", f"{LONG}.yaml"], "default"),
    (["apply", f"{LONG}.yaml"], "long"), (["history"], "long"), (["export"], "long"),
    (["access", "--file", f"{LONG}.yaml", "--client", "C-1"], "default"),
], ids=lambda a: a[0] if isinstance(a, list) else a)
def test_a_name_too_long_is_a_clear_error_about_that_name(run, tmp_path, args, store):
    # It was `error[output-failed]: could not write to standard output: File name too long`.
    env = {"SHSYNC_BACKEND": f"sqlite:///{LONG}"} if store == "long" else {}
    result = run(*args, env=env)
    assert result.returncode == 1
    assert "output-failed" not in result.stderr and "Traceback" not in result.stderr
    assert re.search(r"error\[(unreadable|backend)\]: (sqlite:///)?a{20}", result.stdout +
                     result.stderr) or re.search(r"cannot open sqlite:///a{20}", result.stderr)
    assert list(tmp_path.iterdir()) == []


def test_a_file_the_system_refuses_deep_in_a_command_is_an_error_naming_it():
    # The net under every command: an OSError naming a file that no check caught first.
    import click

    from shsync.cli.common import handled

    @click.command()
    @click.option("--format", "fmt", default="text")
    @handled
    def refused(fmt: str) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", "org/\x1b[2Jsecret.yaml")

    text = CliRunner().invoke(refused, [])
    assert text.exit_code == 1
    assert text.stderr == ("error[os-error]: org/\\x1b[2Jsecret.yaml: Permission denied; "
                           "nothing was changed\n")
    as_json = CliRunner().invoke(refused, ["--format", "json"])
    assert json.loads(as_json.stdout)["errors"][0]["code"] == "os-error"

    @click.command()
    @handled
    def unwritten() -> None:  # no file name: a write to standard output, for the outer handler
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    assert unwritten.callback is not None
    with pytest.raises(BrokenPipeError):
        unwritten.callback()

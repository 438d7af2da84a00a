"""`shsync runbook`, `shsync done` and `shsync show` (issue #25), as a user runs them: the steps
an apply leaves for Sessions Health, tracked until someone records them carried out."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from shsync.model.clock import iso
from tests.cli.test_access import SNAPSHOT

ORG = "examples/org.yaml"
JO = "jo.former@riverbend.example"


@pytest.fixture
def applied(run, tmp_path):
    """The example practice seeded, and the example org file applied from a saved plan."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    assert run("seed", SNAPSHOT).returncode == 0
    saved = run("plan", str(root / ORG), "-o", "plan.json")
    assert saved.returncode == 0, saved.stderr
    done = run("apply", "plan.json")
    assert done.returncode == 0, done.stderr
    return run, done


def later(days: int) -> str:
    """A planning clock some days after the real one: a preview of what will be overdue, the
    one way SHSYNC_NOW moves a deadline (it never hides one)."""
    return iso(datetime.now(UTC) + timedelta(days=days))


def test_apply_says_what_it_left_for_sessions_health(applied):
    _, done = applied
    last = done.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"Recorded in shsync's store only: Sessions Health changes when people "
                        r"carry out 17 new runbook step\(s\), R-1 to R-17, the first due "
                        r"\S+Z\. Print them with `shsync runbook --entry 2`; record each with "
                        r"`shsync done R-N`\.", last), last


def test_the_runbook_lists_the_steps_oldest_first_until_each_is_done(applied):
    run, _ = applied
    listed = json.loads(run("runbook", "--format", "json").stdout)
    ids = [s["id"] for s in listed["steps"]]
    assert ids == [f"R-{i}" for i in range(1, 18)] and listed["pending"] == 17
    removal = [s for s in listed["steps"] if "Permanently Remove" in s["step"]]
    assert len(removal) == 1 and removal[0]["member"] == JO  # one step, not two
    assert run("runbook", "--detailed-exitcode").returncode == 2
    # R-5 waits for victor to accept; everything else is done in two goes
    waiting = [s["id"] for s in listed["steps"] if s["waits_for"]]
    rest = [i for i in ids if i not in waiting]
    first = run("done", *rest[:2], "--note", "done at the front desk")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"Recorded {rest[0]}, {rest[1]} as carried out in Sessions "
                                   "Health. Audit entry #3")
    assert run("done", *rest[2:]).returncode == 0
    refused = run("done", waiting[0])
    assert refused.returncode == 1 and "error[step-refused]" in refused.stderr
    assert "waits for" in refused.stderr and "shsync accepted" in refused.stderr
    for who in sorted({s["waits_for"] for s in listed["steps"] if s["waits_for"]}):
        assert run("accepted", who).returncode == 0
    assert run("done", *waiting).returncode == 0
    assert run("runbook", "--detailed-exitcode").returncode == 0
    empty = run("runbook")
    assert empty.stdout.startswith("Runbook for practice 'default': Nothing outstanding")
    everything = json.loads(run("runbook", "--all", "--format", "json").stdout)["steps"]
    assert {s["state"] for s in everything} == {"done"}
    kinds = [e["kind"] for e in json.loads(run("history", "--format", "json").stdout)["entries"]]
    assert kinds.count("done") == 3
    assert run("history", "--verify").returncode == 0


def test_an_overdue_step_turns_the_detailed_exitcode_to_4(applied):
    run, _ = applied
    assert run("runbook", "--detailed-exitcode").returncode == 2
    ahead = {"SHSYNC_NOW": later(2)}  # narrowing steps are due within the hour
    overdue = run("runbook", "--overdue", "--detailed-exitcode", env=ahead)
    assert overdue.returncode == 4
    assert "OVERDUE" in overdue.stdout and "narrows access" in overdue.stdout
    assert "R-1 " not in overdue.stdout  # an invitation is due in seven days
    # an earlier planning clock never hides it
    assert run("runbook", "--detailed-exitcode", env={"SHSYNC_NOW": later(-400)}).returncode == 2


def test_filters_and_formats(applied):
    run, _ = applied
    about_jo = json.loads(run("runbook", "--member", JO, "--format", "json").stdout)["steps"]
    assert about_jo and all(s["member"] == JO or any(a["member"] == JO for a in s["access"])
                            for s in about_jo)
    client = json.loads(run("runbook", "--client", "C-1001", "--format", "json").stdout)
    assert {s["id"] for s in client["steps"]} >= {"R-14"}
    assert json.loads(run("runbook", "--entry", "1", "--format", "json").stdout)["steps"] == []
    markdown = run("runbook", "--format", "markdown").stdout
    assert markdown.startswith("### Runbook for `default`: 17 step(s) outstanding")
    assert "- [ ] **R-17**" in markdown


def test_the_checklist_page_is_self_contained_and_escaped(applied, tmp_path):
    run, _ = applied
    assert run("runbook", "--format", "html", "-o", "runbook.html").returncode == 0
    page = (tmp_path / "runbook.html").read_text()
    assert "default-src 'none'" in page and "<script" not in page and "http" not in page.split(
        "<body>")[1]
    assert page.count('class="step') == 17


def test_a_removal_not_carried_out_keeps_the_member_visible_in_access(applied):
    run, _ = applied
    table = run("access", "--client", "C-1001").stdout
    assert "STILL in Sessions Health for C-1001" in table
    assert re.search(rf"  {re.escape(JO)}  record, notes, .* on C-1001  \(granted; R-14, due ",
                     table)
    rows = json.loads(run("access", "--client", "C-1001", "--format", "json").stdout)["rows"]
    still = [r for r in rows if r["member"] == JO]
    assert still and all(r["in_shsync"] is False and r["in_sessions_health"] == "pending"
                         and r["pending"] == "R-14" for r in still)
    given = [r for r in json.loads(run("access", "--client", "C-1003", "--format",
                                       "json").stdout)["rows"] if r["pending"] == "R-13"]
    # grace's grant on C-1003: recorded in shsync, not yet in Sessions Health
    assert given and all(r["member"] == "grace.kim@riverbend.example" and r["in_shsync"]
                         and r["in_sessions_health"] is False for r in given)
    # either step ends it in Sessions Health: Manage Access untick, or the removal
    assert run("done", "R-17").returncode == 0
    after = json.loads(run("access", "--client", "C-1001", "--format", "json").stdout)["rows"]
    assert [r for r in after if r["member"] == JO] == []
    assert "no client records" in run("access", "--member", JO).stdout


def test_the_access_review_says_what_is_not_yet_in_sessions_health(applied, tmp_path):
    run, _ = applied
    assert run("report", "-o", "review.html").returncode == 0
    page = (tmp_path / "review.html").read_text()
    assert page.count('<tr data-step="') == 17
    assert re.search(rf'<tr data-member="{re.escape(JO)}"><td>{re.escape(JO)}</td><td>R-17</td>'
                     r"<td>#2</td><td>[^<]+</td><td>not yet</td><td>pending</td>", page)
    assert run("done", "R-17", "--note", "removed").returncode == 0
    assert run("report", "-o", "review.html").returncode == 0
    page = (tmp_path / "review.html").read_text()
    assert page.count('<tr data-step="') == 16
    assert re.search(r"<td>R-17</td><td>#2</td><td>[^<]+</td><td>[0-9T:-]+Z</td><td>done</td>"
                     r"<td>\d+ min</td><td>[^<]+</td><td><span class=\"ok\">yes</span>", page)


def test_show_renders_a_saved_plan_in_every_format_without_a_store(applied, tmp_path):
    run, _ = applied
    book = run("show", "plan.json", "--format", "runbook",
               env={"SHSYNC_BACKEND": "sqlite:///nowhere/none.db"})  # no store is opened
    assert book.returncode == 0 and book.stdout.startswith("Runbook for practice 'default'")
    for fmt in ("text", "markdown", "json"):
        shown = run("show", "plan.json", "--format", fmt)
        assert shown.returncode == 0 and shown.stdout, fmt
    (tmp_path / "forged.json").write_text(
        (tmp_path / "plan.json").read_text().replace('"invite"', '"invitE"', 1))
    forged = run("show", "forged.json")
    assert forged.returncode == 1 and "error[" in forged.stderr
    assert "Traceback" not in forged.stderr


def test_done_refuses_clearly_and_records_nothing(applied):
    run, _ = applied
    before = run("history", "--format", "json").stdout
    for args, code in ((["R-999"], "no-such-step"), (["x", "R-1"], "no-such-step"),
                       (["R-1", "--note", "a\x1bb"], "step-refused"),
                       (["R-1", "R-1"], "step-refused")):
        result = run("done", *args)
        assert result.returncode == 1, args
        assert f"error[{code}]" in result.stderr and "nothing was recorded" in result.stderr
        assert "Traceback" not in result.stderr and "\x1b" not in result.stderr
    assert run("history", "--format", "json").stdout == before

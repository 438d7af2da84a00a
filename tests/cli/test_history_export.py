"""The audit log for a SIEM or an auditor (`shsync history --since/--until/--member/--client/
--kind`, `--format jsonl|csv`): each line carries what its hash covers, and a consumer checks
the hash and the chain with nothing but JSON and SHA-256."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from typing import Any

import pytest

from tests.cli.conftest import ROOT
from tests.conftest import run_cli

ORG = ROOT / "examples" / "org.yaml"
SNAPSHOT = ROOT / "examples" / "practice-snapshot.yaml"
VICTOR = "victor.okafor@riverbend.example"


@pytest.fixture
def logged(tmp_path):
    """A store with four entries: seed, apply, accepted, apply."""
    backend = ["--backend", f"sqlite:///{tmp_path}/practice.db"]

    def shsync(*args: object) -> Any:
        return run_cli(*args, *backend)

    assert shsync("seed", SNAPSHOT).exit_code == 0
    assert shsync("apply", ORG, "--auto-approve").exit_code == 0
    assert shsync("accepted", VICTOR).exit_code == 0
    assert shsync("apply", ORG, "--auto-approve").exit_code == 0
    return shsync


def test_json_lines_are_checked_by_a_consumer_with_json_and_sha256_alone(logged):
    out = logged("history", "--format", "jsonl")
    assert out.exit_code == 0, out.output
    lines = out.stdout.splitlines()
    assert len(lines) == 4
    previous = "sha256:" + "0" * 64
    for line in lines:
        entry = json.loads(line)
        body = {k: v for k, v in entry.items() if k != "entry_hash"}
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        assert entry["entry_hash"] == "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
        assert entry["prev_hash"] == previous
        previous = entry["entry_hash"]
    # One byte changed is found by the same check.
    forged = json.loads(lines[1])
    forged["actor"] = "someone.else@riverbend.example"
    body = {k: v for k, v in forged.items() if k != "entry_hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert forged["entry_hash"] != "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def test_a_siem_pulls_the_lines_after_the_last_it_has(logged):
    first = logged("history", "--format", "jsonl", "--until", "2").stdout.splitlines()
    rest = logged("history", "--format", "jsonl", "--since", "3").stdout.splitlines()
    whole = logged("history", "--format", "jsonl").stdout.splitlines()
    assert first + rest == whole and [json.loads(x)["seq"] for x in rest] == [3, 4]


def test_filters_by_kind_member_and_client_in_csv(logged):
    table = list(csv.DictReader(io.StringIO(
        logged("history", "--format", "csv", "--kind", "accepted").stdout)))
    assert [(r["seq"], r["kind"]) for r in table] == [("3", "accepted")]
    assert set(table[0]) >= {"entry_hash", "prev_hash", "written_at", "actor"}
    # Victor: seeded (1), changed by the apply (2), his acceptance (3); the last apply (4) was
    # about others.
    about = logged("history", "--member", VICTOR, "--format", "json")
    seqs = [e["seq"] for e in json.loads(about.stdout)["entries"]]
    assert seqs[:3] == [1, 2, 3]
    client = logged("history", "--client", "C-1001", "--format", "jsonl").stdout.splitlines()
    assert client and all("C-1001" in line for line in client)
    none = logged("history", "--client", "C-9999")
    assert none.exit_code == 0 and none.stdout == "No entry matches.\n"


@pytest.mark.parametrize("args, said", [
    (["--since", "tomorrow"], "--since='tomorrow' is not an ISO time"),
    (["--since", "3", "--until", "2"], "--since 3 is after --until 2"),
    (["--kind", "deploy"], "--kind 'deploy': an entry is one of"),
    (["--since", "2", "--verify"], "--verify and --break-glass read the whole log"),
    (["--format", "csv", "--verify"], "--format csv lists entries"),
    (["--since", ""], "is empty"),
])
def test_a_selection_shsync_cannot_read_is_a_usage_error(logged, args, said):
    refused = logged("history", *args)
    assert refused.exit_code == 64 and said in refused.stderr, refused.output


def test_a_csv_cell_that_looks_like_a_formula_is_defused():
    from shsync.core.entry import AuditEntry
    from shsync.render.history import history_csv

    hostile = AuditEntry(1, "2027-01-01T00:00:00Z", "=HYPERLINK(\"http://x\")", "", "", {}, [],
                         "", "sha256:x", kind="apply", written_at="2027-01-01T00:00:00Z")
    row = list(csv.reader(io.StringIO(history_csv([hostile]))))[1]
    assert row[4].startswith("'=")

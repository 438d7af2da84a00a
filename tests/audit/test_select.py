"""Which entries an audit export shows (shsync/audit/select.py): bounds by seq and by time,
inclusive; a member by what they did or what was done to them; a client by id; kinds."""

from __future__ import annotations

from shsync.audit.select import Selection, selected
from shsync.core.entry import AuditEntry

ANA, BEN = "ana@x.example", "ben@x.example"


def entry(seq: int, at: str, kind: str = "apply", actor: str = "operator:root",
          operations=(), details=None) -> AuditEntry:
    return AuditEntry(seq, at, actor, "", "", {}, list(operations), "", f"h{seq}", kind=kind,
                      written_at=at, details=details or {})


LOG = [
    entry(1, "2027-03-01T09:00:00Z", "seed", details={"state": {"members": [{"email": ANA}]}}),
    entry(2, "2027-03-02T09:00:00Z", operations=[{"action": "invite_member", "target": BEN}]),
    entry(3, "2027-03-03T09:00:00Z", "break_glass", actor=BEN,
          operations=[{"action": "break_glass", "target": "C-1001", "member": BEN}]),
    entry(4, "2027-03-04T09:00:00Z", "review", actor=ANA, details={"entry": 3}),
]


def seqs(selection: Selection) -> list[int]:
    return [e.seq for e in selected(LOG, selection)]


def test_nothing_asked_is_everything():
    assert Selection().everything and seqs(Selection()) == [1, 2, 3, 4]


def test_bounds_are_inclusive_by_seq_and_by_time():
    assert seqs(Selection(since_seq=2, until_seq=3)) == [2, 3]
    assert seqs(Selection(since_time="2027-03-02T09:00:00Z")) == [2, 3, 4]
    assert seqs(Selection(until_time="2027-03-02T08:59:59Z")) == [1]
    assert seqs(Selection(since_time="2027-03-03T04:00:00-05:00")) == [3, 4]  # offsets read


def test_a_member_by_what_they_did_and_what_was_done_to_them():
    assert seqs(Selection(member=BEN)) == [2, 3]
    assert seqs(Selection(member="ANA@x.example")) == [1, 4]  # emails without case


def test_a_client_by_id_exactly_and_kinds():
    assert seqs(Selection(client="C-1001")) == [3]
    assert seqs(Selection(client="C-100")) == []
    assert seqs(Selection(kinds=("seed", "review"))) == [1, 4]
    assert seqs(Selection(member=BEN, kinds=("break_glass",), since_seq=3)) == [3]

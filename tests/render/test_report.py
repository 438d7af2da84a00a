"""The access review page: its tables, the widenings since a date, escaping, and that it needs
nothing outside itself."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from typing import cast

from shsync.core.entry import GENESIS, seal
from shsync.core.operations import op, to_dict
from shsync.render import report
from shsync.jobs.review import review
from shsync.stores.base import Backend
from tests.render.html_tables import tables
from tests.render.test_graph import HOSTILE, small


class Store:
    """Just enough of a backend for `review`: a state, an audit log and runbook steps."""

    practice = "default"
    display_url = "sqlite:///practice.db"

    def __init__(self, state, entries=(), steps=()):
        self.state, self.entries, self.steps = state, list(entries), list(steps)

    def read(self):
        return self.state

    def history(self):
        return self.entries

    def runbook_steps(self, *, pending_only=False):
        return [s for s in self.steps if s.state == "pending" or not pending_only]


def review_backend(state, entries=()) -> Backend:
    """A `Store` typed as the backend `review` takes: it reads no more than a Store has."""
    return cast(Backend, Store(state, entries))


def log(*entries):
    """Sealed, chained entries from (at, kind, operations)."""
    out, prev = [], GENESIS
    for seq, (at, kind, operations) in enumerate(entries, 1):
        e = seal(seq=seq, at=at, actor="operator:ana", plan_hash="sha256:" + "a" * 64,
                 fingerprint="sha256:" + "b" * 64, summary={"change": len(operations)},
                 operations=[to_dict(o) for o in operations], prev_hash=prev, kind=kind,
                 written_at=at, result="sha256:" + "c" * 64, details={})
        out.append(e)
        prev = e.entry_hash
    return out


ENTRIES = log(
    ("2026-01-05T09:00:00Z", "seed", []),
    ("2026-05-01T09:00:00Z", "apply", [op("grant_role", "rosa@x.example", role="biller")]),
    ("2026-10-02T09:00:00Z", "apply", [op("grant_access", "C-1", member="vic@x.example"),
                                       op("revoke_role", "rosa@x.example", role="biller")]),
    ("2026-11-20T09:00:00Z", "refresh", [op("set_admin", "rosa@x.example", admin=True)]),
)


def page(state=None, entries=ENTRIES, since="2026-09-01T00:00:00Z", zone=None):
    data = review(review_backend(state or small(), entries), since=since,
                  now="2026-11-26T12:00:00Z")
    return report.render(data, zone)


def test_the_access_table_lists_each_members_access_and_reason():
    assert tables(page())["access-table"] == [
        ["Member", "Capabilities", "Where", "Reason"],
        ["dana@x.example", "custom forms, billing settings, invoices", "the practice itself",
         "admin"],
        ["dana@x.example", "limited info, manage access", "all 1 client", "admin"],
        ["dana@x.example", "notes, treatment plans, sign notes", "1 client: C-1", "supervisor"],
        ["rosa@x.example", "schedule", "all 1 client", "scheduler"],
        ["sam@x.example", "record, notes, diagnoses, treatment plans, schedule, billing, "
         "manage access", "1 client: C-1", "assigned"],
        ["vic@x.example", "record, notes, diagnoses, treatment plans, billing", "1 client: C-1",
         "granted"],
    ]


def test_widenings_since_the_date_come_from_the_audit_log():
    assert tables(page())["widenings-table"] == [
        ["Entry", "At", "By", "Kind", "On", "Step"],
        ["#3", "2026-10-02T09:00:00Z", "operator:ana (the operator)", "apply", "C-1",
         "grant access to vic@x.example"],
        ["#4", "2026-11-20T09:00:00Z", "operator:ana (the operator)", "refresh", "rosa@x.example",
         "make administrator"],
    ]
    earlier = tables(page(since="2026-01-01T00:00:00Z"))["widenings-table"]
    assert [row[0] for row in earlier[1:]] == ["#2", "#3", "#4"]  # never the seed entry


def test_no_widening_says_so():
    rows = tables(page(since="2026-11-21T00:00:00Z"))["widenings-table"]
    assert rows[1:] == [["No step widened anyone's access since then."]]


def test_seats_count_members_by_role_and_status():
    rows = tables(page())["seats-table"]
    assert rows[0] == ["Seat", "Active", "Invited", "Members"]
    assert ["administrator", "1", "0", "dana@x.example"] in rows
    assert ["practitioner", "2", "1", "dana@x.example, sam@x.example, vic@x.example"] in rows
    assert ["biller", "0", "0", "—"] in rows
    assert rows[-1] == ["all members", "3", "1", ""]


def test_recent_audit_entries_newest_first_and_the_chain_checked():
    text = page()
    rows = tables(text)["audit-table"]
    assert [r[:2] for r in rows[1:]] == [["#4", "refresh"], ["#3", "apply"], ["#2", "apply"],
                                        ["#1", "seed"]]
    assert "The hash chain of all 4 entries is intact." in text
    forged = ENTRIES[:2] + [ENTRIES[3]]
    assert "The audit log is not intact: entry #3 is missing" in page(entries=forged)


def test_the_org_chart_nests_supervisees_under_their_supervisor():
    text = page()
    dana = text.index("dana@x.example</span>")
    sam = text.index("sam@x.example</span>")
    between = text[dana:sam]
    assert between.count("<ul>") == 1 and "</ul>" not in between


def test_the_page_needs_nothing_outside_itself():
    text = page()
    assert "default-src 'none'" in text
    for needle in ("<script", "src=", "<link", "@import", "url(", "http://", "https://"):
        assert needle not in text.lower()


def test_hostile_names_are_escaped_everywhere():
    for name in HOSTILE:
        text = page(small(dana_first=name, sam_last=name))
        assert "<script" not in text
        for ch in text:
            assert ch in "\n" or unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"), \
                repr(ch)
        assert len(tables(text)["access-table"]) == 7  # no row was broken or invented
    text = page(small(dana_first="<b>x</b> & \"q\""))
    assert "&lt;b&gt;x&lt;/b&gt; &amp; &quot;q&quot;" in text


def test_access_that_ends_by_itself_is_listed_soonest_first_with_its_end_and_reason():
    from dataclasses import replace

    from shsync.core.state import ClientState, End, PracticeState

    base = small()
    members = dict(base.members)
    members["sam@x.example"] = replace(members["sam@x.example"], full_clinical_access=True,
                                       clinical_until="2027-01-31T23:59:59Z",
                                       clinical_reason="audit")
    clients = {
        "C-1": replace(base.clients["C-1"], ends=(End("vic@x.example", "2026-12-01T00:00:00Z",
                                                      "leave cover"),)),
        "C-2": ClientState("C-2", "sam@x.example", ("dana@x.example",),
                           ends=(End("dana@x.example", "2026-11-26T02:14:00Z", "crisis",
                                     break_glass=True),)),
    }
    rows = tables(page(PracticeState(members, clients, name=base.name)))["ending-table"]
    assert rows == [
        ["Member", "What", "Client", "Until (UTC)", "Reason", "State"],
        ["dana@x.example", "break-glass", "C-2", "2026-11-26T02:14:00Z", "crisis", "ended"],
        ["vic@x.example", "grant", "C-1", "2026-12-01T00:00:00Z", "leave cover", "active"],
        ["sam@x.example", "full clinical access", "every client", "2027-01-31T23:59:59Z",
         "audit", "active"],
    ]


def test_without_time_bound_access_the_ending_table_says_so():
    assert tables(page())["ending-table"][1:] == [["No time-bound or emergency access."]]


def test_no_clause_counts_nothing():
    """An entry that changed no member names no zero count (`0 invited, 0 changed`)."""
    entries = log(("2026-01-05T09:00:00Z", "seed", []),
                  ("2026-05-01T09:00:00Z", "apply", [op("grant_role", "rosa@x.example",
                                                        role="biller")]),
                  ("2026-05-02T09:00:00Z", "review", []))
    rows = tables(page(entries=entries))["audit-table"]
    assert [r[4] for r in rows[1:]] == ["no member or client changed", "1 changed",
                                        "seeded the practice"]


def test_times_show_the_practices_own_clock_beside_utc():
    text = page(zone="America/Chicago")
    rows = tables(text)["widenings-table"]
    assert rows[1][1] == "2026-10-02 09:00 UTC (04:00 America/Chicago)"  # daylight time
    assert rows[2][1] == "2026-11-20 09:00 UTC (03:00 America/Chicago)"  # standard time
    audit = tables(text)["audit-table"]
    assert audit[0][2] == "At (UTC, and America/Chicago)"
    assert audit[-1][2] == "2026-01-05 09:00 UTC (03:00 America/Chicago)"
    assert "generated 2026-11-26 12:00 UTC (06:00 America/Chicago)" in text
    # The other side of midnight: the practice's date too.
    late = page(entries=log(("2026-01-05T03:30:15Z", "seed", [])), zone="America/Chicago")
    assert (tables(late)["audit-table"][1][2]
            == "2026-01-05 03:30:15 UTC (2026-01-04 21:30:15 America/Chicago)")
    # Without a known zone (none given, UTC, or a name that is none): UTC as stored.
    for zone in (None, "UTC", "Mars/Olympus"):
        assert tables(page(zone=zone))["widenings-table"][1][1] == "2026-10-02T09:00:00Z"


def test_an_operator_actor_says_how_to_name_who_acted():
    text = page()
    assert tables(text)["audit-table"][1][3] == "operator:ana (the operator)"
    assert text.count('id="operators"') == 1
    note = text[text.index('id="operators"'):].split("</p>")[0]
    assert "<code>--actor EMAIL</code> (or <code>SHSYNC_ACTOR</code>)" in note
    assert "<code>shsync token create --operator NAME</code>" in note
    # A log that names a member (its hash chain aside) has nothing to explain.
    members = [replace(e, actor="dana@x.example") for e in log(("2026-01-05T09:00:00Z", "seed",
                                                                []))]
    named = page(entries=members)
    assert 'id="operators"' not in named and "(the operator)" not in named

"""The quarterly access review as one self-contained HTML page.

A pure function from a `Review` to a string. The page needs nothing else: its CSS is inline, it
has no script, and its Content-Security-Policy (`default-src 'none'`) forbids any request, so it
can be mailed, archived or opened offline and shows the same thing. Every value from the
practice goes through `_e` (control characters made visible, then `html.escape`).
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from shsync.model.org import ROLES
from shsync.core.state import MemberState, PracticeState
from shsync.model.clock import valid_zone
from shsync.render.graph import visible
from shsync.render.notices import OPERATOR_NOTE, counts, is_operator
from shsync.render.plan import describe
from shsync.core.review import AccessLine, Review
from shsync.core.runbook import Step

CSP = "default-src 'none'; style-src 'unsafe-inline'"

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1f23;
       margin: 2rem auto; max-width: 70rem; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { border-bottom: 2px solid #d0d7de;
     padding-bottom: .2rem; margin-top: 2rem; }
.meta { color: #57606a; } nav a { margin-right: 1rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { border: 1px solid #d0d7de; padding: .3rem .5rem; text-align: left;
         vertical-align: top; }
th { background: #f6f8fa; } tr:nth-child(even) td { background: #fbfcfd; }
.tag { display: inline-block; border-radius: .6rem; padding: 0 .45rem; margin-right: .2rem;
       font-size: 12px; background: #ddf4ff; color: #0550ae; }
.tag.admin { background: #fff1e5; color: #953800; } .tag.owner { background: #ffebe9;
  color: #a40e26; } .tag.invited { background: #eaeef2; color: #57606a; }
.ok { color: #1a7f37; font-weight: 600; } .bad { color: #cf222e; font-weight: 600; }
.tree, .tree ul { list-style: none; margin: 0; padding-left: 1.4rem; }
.tree > li { padding-left: 0; } .tree li { position: relative; margin: .3rem 0; }
.tree ul li::before { content: ""; position: absolute; left: -1rem; top: -.3rem;
  width: .8rem; height: 1.1rem; border-left: 1px solid #8c959f;
  border-bottom: 1px solid #8c959f; }
.card { display: inline-block; border: 1px solid #8c959f; border-radius: .3rem;
        padding: .15rem .5rem; background: #fff; }
.card.admin { border-width: 3px; } .card.invited { border-style: dashed; }
.email { color: #57606a; font-size: 12px; }
code { font-size: 12px; }
"""


def _e(value: object) -> str:
    return html.escape(visible(str(value)), quote=True)


class _Clock:
    """Times as the store keeps them (UTC), with the practice's own clock beside them when the
    practice's time zone is known: `2026-11-26 15:00 UTC (09:00 America/Chicago)`."""

    def __init__(self, zone: str | None):
        self.zone = zone if zone and zone != "UTC" and valid_zone(zone) else None

    @property
    def label(self) -> str:
        return "UTC" if self.zone is None else f"UTC, and {self.zone}"

    def __call__(self, at: str | None) -> str:
        if not at or self.zone is None:
            return _e(at or "")
        try:
            moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError:
            return _e(at)
        if moment.tzinfo is None:
            return _e(at)
        utc, there = moment.astimezone(UTC), moment.astimezone(ZoneInfo(self.zone))
        clock = "%H:%M:%S" if utc.second else "%H:%M"
        day = "%Y-%m-%d " if there.date() != utc.date() else ""
        return _e(f"{utc.strftime('%Y-%m-%d ' + clock)} UTC "
                  f"({there.strftime(day + clock)} {self.zone})")


def _actor(actor: str) -> str:
    """An actor as recorded; the operator is marked, and explained below the audit log."""
    if is_operator(actor):
        return f'{_e(actor)} <a class="email" href="#operators">(the operator)</a>'
    return _e(actor)


def render(r: Review, zone: str | None = None) -> str:
    """The page; `zone`, the practice's time zone (the org's `timezone`), shows each time in
    it beside UTC."""
    when = _Clock(zone)
    title = f"Access review: {r.name or r.practice}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">Practice <code>{_e(r.practice)}</code> at <code>{_e(r.source)}</code>'
        f" &middot; generated {when(r.generated_at)} &middot; {len(r.state.members)} members,"
        f" {len(r.state.clients)} clients &middot; {r.entries} audit entries</p>",
        '<nav><a href="#org">Org chart</a><a href="#seats">Seats</a>'
        '<a href="#access">Access</a><a href="#ending">Ending</a>'
        '<a href="#widenings">Widenings</a><a href="#runbook">Not yet in Sessions Health</a>'
        '<a href="#terminations">Terminations</a>'
        '<a href="#audit">Audit log</a></nav>',
        '<p class="meta">This review shows the practice as shsync\'s store records it. '
        "Sessions Health has no API: a change reaches it only when a person carries out its "
        "runbook step, so the section <a href=\"#runbook\">Not yet in Sessions Health</a> "
        "lists what the store holds that Sessions Health does not yet (including access ended "
        "here that members still have there).</p>",
        *_org_chart(r.state),
        *_seats(r.state),
        *_access(r.access),
        *_endings(r, when),
        *_widenings(r, when),
        *_runbook(r, when),
        *_terminations(r, when),
        *_audit(r, when),
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


# --- org chart -----------------------------------------------------------------------------------

def _tags(m: MemberState) -> str:
    marks = [("owner", m.owner), ("admin", m.admin), ("invited", m.status == "invited")]
    tags = [f'<span class="tag {name}">{name}</span>' for name, on in marks if on]
    tags += [f'<span class="tag">{_e(role)}</span>' for role in m.roles]
    return "".join(tags)


def _card(m: MemberState) -> str:
    classes = " ".join(["card"] + [c for c, on in (("admin", m.admin),
                                                  ("invited", m.status == "invited")) if on])
    return (f'<span class="{classes}">{_e(m.first_name)} {_e(m.last_name)} '
            f'<span class="email">{_e(m.email)}</span> {_tags(m)}</span>')


def _org_chart(state: PracticeState) -> list[str]:
    children: dict[str, list[str]] = defaultdict(list)
    roots = []
    for email, m in sorted(state.members.items()):
        if m.supervisor and m.supervisor in state.members and m.supervisor != email:
            children[m.supervisor].append(email)
        else:
            roots.append(email)
    seen: set[str] = set()

    def branch(emails: Iterable[str]) -> list[str]:
        out = []
        for email in emails:
            if email in seen:
                continue
            seen.add(email)
            below = branch(children.get(email, ()))
            sub = ["<ul>", *below, "</ul>"] if below else []
            out += [f"<li>{_card(state.members[email])}", *sub, "</li>"]
        return out

    items = branch(roots)
    items += branch(sorted(set(state.members) - seen))  # a supervision cycle: never lost
    body = ['<ul class="tree">', *items, "</ul>"] if items else ["<p>No members.</p>"]
    return ['<section id="org">', "<h2>Org chart</h2>",
            "<p>Who supervises whom. A thick border marks an administrator; a dashed one, an "
            "invitation not yet accepted.</p>", *body, "</section>"]


# --- seats ---------------------------------------------------------------------------------------

def _seats(state: PracticeState) -> list[str]:
    members = sorted(state.members.values(), key=lambda m: m.email)
    seats: list[tuple[str, list[MemberState]]] = [
        ("administrator", [m for m in members if m.admin]),
        *[(role, [m for m in members if m.has(role)]) for role in ROLES],
        ("basic member (no role, not admin)", [m for m in members
                                               if not m.admin and not m.roles]),
    ]
    rows = []
    for seat, holders in seats:
        active = sum(m.status == "active" for m in holders)
        names = ", ".join(_e(m.email) for m in holders) or "&mdash;"
        rows.append(f"<tr><td>{_e(seat)}</td><td>{active}</td>"
                    f"<td>{len(holders) - active}</td><td>{names}</td></tr>")
    active_total = sum(m.status == "active" for m in members)
    rows.append(f"<tr><th>all members</th><th>{active_total}</th>"
                f"<th>{len(members) - active_total}</th><th></th></tr>")
    return ['<section id="seats">', "<h2>Seats</h2>",
            '<table id="seats-table"><thead><tr><th>Seat</th><th>Active</th><th>Invited</th>'
            "<th>Members</th></tr></thead><tbody>", *rows, "</tbody></table>", "</section>"]


# --- access --------------------------------------------------------------------------------------

def _where(a: AccessLine) -> str:
    if a.scope == "practice":
        return "the practice itself"
    if a.scope == "all":
        return f"all {a.client_count} client{'s' if a.client_count != 1 else ''}"
    more = a.client_count - len(a.clients)
    listed = ", ".join(_e(c) for c in a.clients) + (f" and {more} more" if more > 0 else "")
    return f"{a.client_count} client{'s' if a.client_count != 1 else ''}: {listed}"


def _access(lines: Sequence[AccessLine]) -> list[str]:
    rows = [f'<tr data-member="{_e(a.member)}"><td>{_e(a.member)}</td>'
            f"<td>{_e(', '.join(c.replace('_', ' ') for c in a.capabilities))}</td>"
            f"<td>{_where(a)}</td><td>{_e(a.reason)}</td></tr>" for a in lines]
    if not rows:
        rows = ['<tr><td colspan="4">Nobody holds any access.</td></tr>']
    return ['<section id="access">', "<h2>Access</h2>",
            "<p>Each member's access and the reason for it: <em>assigned</em> (their own "
            "clients), <em>granted</em> (Manage Access), <em>supervisor</em>, or a role or "
            "setting that reaches every client.</p>",
            '<table id="access-table"><thead><tr><th>Member</th><th>Capabilities</th>'
            "<th>Where</th><th>Reason</th></tr></thead><tbody>", *rows, "</tbody></table>",
            "</section>"]


# --- access that ends by itself ------------------------------------------------------------------

def _endings(r: Review, when: _Clock) -> list[str]:
    rows = []
    for x in r.endings:
        state = '<span class="bad">ended</span>' if x.passed else "active"
        rows.append(f'<tr data-member="{_e(x.member)}"><td>{_e(x.member)}</td>'
                    f"<td>{_e(x.what)}</td><td>{_e(x.client) if x.client else 'every client'}"
                    f"</td><td>{when(x.until)}</td><td>{_e(x.reason or '')}</td>"
                    f"<td>{state}</td></tr>")
    if not rows:
        rows = ['<tr><td colspan="6">No time-bound or emergency access.</td></tr>']
    return ['<section id="ending">', "<h2>Access that ends by itself</h2>",
            "<p>Time-bound grants, full clinical access with an end, and emergency "
            f"(break-glass) access, soonest end first, in {when.label}. An ended one is revoked "
            "by the "
            "next plan or <code>shsync expire</code>.</p>",
            '<table id="ending-table"><thead><tr><th>Member</th><th>What</th><th>Client</th>'
            f"<th>Until ({when.label})</th><th>Reason</th><th>State</th></tr></thead><tbody>",
            *rows, "</tbody></table>", "</section>"]


# --- what Sessions Health does not have yet ------------------------------------------------------

def _lost(step: Step) -> str:
    clients = sorted({c for change, _, c, _, _ in step.access if change == "lose" and c})
    if not clients:
        return ""
    shown = ["every client" if c == "*" else c for c in clients[:10]]
    more = f" and {len(clients) - 10} more" if len(clients) > 10 else ""
    return "still sees " + ", ".join(shown) + more


def _runbook(r: Review, when: _Clock) -> list[str]:
    now = r.judged_at or r.generated_at
    rows = []
    for s in r.pending:
        late = s.overdue(now)
        state = '<span class="bad">OVERDUE</span>' if late else "pending"
        rows.append(f'<tr data-step="{_e(s.label)}"><td>{_e(s.label)}</td><td>#{s.entry}</td>'
                    f"<td>{_e(s.member or '')}</td><td>{_e(s.client or '')}</td>"
                    f"<td>{_e(s.effect)}</td><td>{_e(s.text)}</td><td>{_e(_lost(s))}</td>"
                    f"<td>{when(s.due)}</td><td>{state}</td></tr>")
    overdue = sum(s.overdue(now) for s in r.pending)
    if not rows:
        rows = ['<tr><td colspan="9">Every runbook step has been carried out.</td></tr>']
    return ['<section id="runbook">', "<h2>Not yet in Sessions Health</h2>",
            f"<p>{len(r.pending)} runbook step(s) recorded in shsync and not yet carried out "
            f"in Sessions Health, {overdue} of them overdue. Until a step is carried out, "
            "Sessions Health still has what it takes away and lacks what it gives.</p>",
            '<table id="runbook-table"><thead><tr><th>Step</th><th>Entry</th><th>Member</th>'
            "<th>Client</th><th>Effect</th><th>To do in Sessions Health</th>"
            f"<th>Until then</th><th>Due ({when.label})</th><th>State</th></tr></thead><tbody>",
            *rows, "</tbody></table>", "</section>"]


def _terminations(r: Review, when: _Clock) -> list[str]:
    rows = []
    for t in r.terminations:
        met = ('<span class="ok">yes</span>' if t.met else '<span class="bad">no</span>'
               if t.met is False else "not yet due")
        took = "" if t.minutes is None else f"{t.minutes} min"
        rows.append(f'<tr data-member="{_e(t.member)}"><td>{_e(t.member)}</td>'
                    f"<td>{_e(t.step)}</td><td>#{t.entry}</td><td>{when(t.recorded_at)}</td>"
                    f"<td>{when(t.carried_out) if t.carried_out else 'not yet'}</td>"
                    f"<td>{_e(t.how)}</td><td>{_e(took)}</td><td>{when(t.due)}</td>"
                    f"<td>{met}</td></tr>")
    if not rows:
        rows = ['<tr><td colspan="9">No member was removed.</td></tr>']
    return ['<section id="terminations">', "<h2>Terminations</h2>",
            "<p>Each removal: when shsync recorded it, when it was carried out in Sessions "
            "Health (confirmed with <code>shsync done</code>, or observed by a refresh), the "
            "time between, and whether that met the practice's deadline.</p>",
            '<table id="terminations-table"><thead><tr><th>Member</th><th>Step</th>'
            f"<th>Entry</th><th>Recorded ({when.label})</th><th>Carried out ({when.label})</th>"
            f"<th>How</th><th>Took</th><th>Due ({when.label})</th><th>Met the deadline</th>"
            "</tr></thead><tbody>",
            *rows, "</tbody></table>", "</section>"]


# --- widenings and the audit log -----------------------------------------------------------------

def _widenings(r: Review, when: _Clock) -> list[str]:
    rows = []
    for w in r.widenings:
        _, text = describe(w.operation)
        rows.append(f"<tr><td>#{w.seq}</td><td>{when(w.at)}</td><td>{_actor(w.actor)}</td>"
                    f"<td>{_e(w.kind)}</td><td>{_e(w.operation.target)}</td>"
                    f"<td>{_e(text)}</td></tr>")
    if not rows:
        rows = ['<tr><td colspan="6">No step widened anyone\'s access since then.</td></tr>']
    out = ['<section id="widenings">', f"<h2>Widenings since {_e(r.since)}</h2>",
           "<p>Every step recorded in the audit log since that date that gave someone more "
           "access (seeding excluded). Refreshes are changes seen in Sessions Health, made "
           "outside shsync.</p>",
           '<table id="widenings-table"><thead><tr><th>Entry</th><th>At</th><th>By</th>'
           "<th>Kind</th><th>On</th><th>Step</th></tr></thead><tbody>", *rows, "</tbody></table>"]
    if r.unreadable:
        listed = ", ".join(f"#{seq}" for seq in r.unreadable)
        out.append(f'<p class="bad">The operations of entries {listed} could not be read; '
                   "check them with <code>shsync history --format json</code>.</p>")
    return out + ["</section>"]


def _audit(r: Review, when: _Clock) -> list[str]:
    if r.chain_problem is None:
        status = (f'<p class="ok">The hash chain of all {r.entries} entries is intact.</p>'
                  if r.entries else "<p>The audit log is empty.</p>")
    else:
        status = f'<p class="bad">The audit log is not intact: {_e(r.chain_problem)}</p>'
    rows = []
    for e in r.recent:
        what = ("seeded the practice" if e.kind == "seed" else
                counts(e.summary) or "no member or client changed")
        rows.append(f"<tr><td>#{e.seq}</td><td>{_e(e.kind or 'apply')}</td><td>{when(e.at)}</td>"
                    f"<td>{_actor(e.actor)}</td><td>{_e(what)}</td><td>{len(e.operations)}</td>"
                    f"<td><code>{_e(e.entry_hash[:19])}</code></td></tr>")
    if not rows:
        rows = ['<tr><td colspan="7">No entries.</td></tr>']
    out = ['<section id="audit">', f"<h2>Recent audit entries (last {len(r.recent)})</h2>",
           status,
           '<table id="audit-table"><thead><tr><th>Entry</th><th>Kind</th>'
           f"<th>At ({when.label})</th><th>By</th><th>What</th><th>Steps</th><th>Hash</th>"
           "</tr></thead><tbody>", *rows, "</tbody></table>"]
    named = [*(e.actor for e in r.recent), *(w.actor for w in r.widenings)]
    if any(is_operator(a) for a in named):
        out.append(f'<p class="meta" id="operators">{_operator_note()}</p>')
    return out + ["</section>"]


def _operator_note() -> str:
    """OPERATOR_NOTE with its commands as code."""
    parts = html.escape(OPERATOR_NOTE).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))

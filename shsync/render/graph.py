"""Pictures of a practice: the supervision tree, and who can see one client, as Mermaid or DOT.

Pure functions from a `PracticeState` to text. Mermaid is what GitHub renders inside a
```` ```mermaid ```` block (a pull-request comment, a README); DOT is for Graphviz (`dot -Tsvg`).

Nodes get generated ids (`m1`, `m2`, `c`), so names and emails only ever appear inside quoted
labels, and every label is escaped for its syntax: in Mermaid, anything but plain letters,
digits and a few safe marks becomes an entity code (`#34;`), which neither closes the quote
nor opens HTML; in DOT, quotes and backslashes are escaped. Control characters, bidi
overrides and line separators in names are shown as visible `\\u....` text in both, so a name
can never start a new statement or reorder what is shown.
"""

from __future__ import annotations

import string
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Sequence

from shsync.core.runbook import Seen
from shsync.core.access import CAPABILITIES, Row
from shsync.core.state import MemberState, PracticeState

FORMATS = ("mermaid", "dot")
_MERMAID_SAFE = frozenset(string.ascii_letters + string.digits + " .,@_-+:/()'")
_INVISIBLE = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


def visible(text: str) -> str:
    """Control, format and separator characters as `\\uXXXX` text; everything else kept."""
    return "".join(f"\\u{ord(ch):04x}" if unicodedata.category(ch) in _INVISIBLE else ch
                   for ch in text)


def mermaid_text(text: str) -> str:
    """A label fragment safe inside a Mermaid `"..."` label: entity codes for the rest."""
    return "".join(ch if ch in _MERMAID_SAFE or (ord(ch) > 127 and ch.isprintable())
                   else f"#{ord(ch)};" for ch in visible(text))


def dot_text(text: str) -> str:
    """A fragment safe inside a DOT double-quoted string (where `\\n` starts a new line)."""
    return visible(text).replace("\\", "\\\\").replace('"', '\\"')


# --- what is drawn ------------------------------------------------------------------------------

def _member_lines(m: MemberState) -> list[str]:
    marks = [mark for mark, on in (("owner", m.owner), ("admin", m.admin),
                                   ("invited", m.status == "invited")) if on]
    lines = [f"{m.first_name} {m.last_name}", m.email]
    lines.append(", ".join(m.roles) if m.roles else "no roles")
    if marks:
        lines.append(", ".join(marks))
    return lines


def _ids(state: PracticeState) -> dict[str, str]:
    return {email: f"m{i}" for i, email in enumerate(sorted(state.members), 1)}


def _edges(state: PracticeState) -> list[tuple[str, str]]:
    """(supervisor, supervisee), for supervisors who are members."""
    return [(m.supervisor, m.email) for _, m in sorted(state.members.items())
            if m.supervisor and m.supervisor in state.members]


def _caps(caps: set[str]) -> str:
    return ", ".join(c.replace("_", " ") for c in sorted(caps, key=CAPABILITIES.index))


def _holdings(rows: Sequence[Row], seen: Sequence[Seen] = ()
              ) -> list[tuple[str, str, str, str]]:
    """(member, reason, capabilities, what Sessions Health has) for one client's rows, sorted;
    with `seen` (core/runbook.two_truths), the rows a pending runbook step gives are marked not
    yet there, and the rows it takes away are drawn as still there."""
    tags = {(s.row.member, s.row.capability, s.row.reason): _tag(s) for s in seen}
    held: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for r in rows:
        held[(r.member, r.reason, tags.get((r.member, r.capability, r.reason), ""))].add(
            r.capability)
    for s in seen:
        if not s.in_shsync:
            held[(s.row.member, s.row.reason, _tag(s))].add(s.row.capability)
    return [(member, reason, _caps(caps), tag)
            for (member, reason, tag), caps in sorted(held.items())]


def _tag(s: Seen) -> str:
    if s.step is None:
        return ""
    if s.in_shsync:
        return f"not yet in Sessions Health: {s.step.label}"
    return f"ended in shsync, STILL in Sessions Health until {s.step.label}"


def _node_lines(state: PracticeState, member: str) -> list[str]:
    m = state.members.get(member)
    return _member_lines(m) if m is not None else [member, "(removed in shsync)"]


# --- Mermaid ------------------------------------------------------------------------------------

def _mermaid_label(lines: Sequence[str]) -> str:
    return '"' + "<br/>".join(mermaid_text(line) for line in lines) + '"'


def mermaid_supervision(state: PracticeState) -> str:
    ids = _ids(state)
    out = ["flowchart TD"]
    for email, m in sorted(state.members.items()):
        out.append(f"  {ids[email]}[{_mermaid_label(_member_lines(m))}]")
    for sup, supervisee in _edges(state):
        out.append(f"  {ids[sup]} -->|supervises| {ids[supervisee]}")
    out += _mermaid_classes(state, ids)
    return "\n".join(out) + "\n"


def _mermaid_classes(state: PracticeState, ids: dict[str, str]) -> list[str]:
    members = sorted(state.members.items())
    out = []
    for name, style, chosen in (
            ("admin", "stroke-width:3px", [ids[e] for e, m in members if m.admin]),
            ("invited", "stroke-dasharray:5 5",
             [ids[e] for e, m in members if m.status == "invited"])):
        if chosen:
            out += [f"  classDef {name} {style}", f"  class {','.join(chosen)} {name}"]
    return out


def _client_ids(state: PracticeState, holdings: Sequence[tuple[str, str, str, str]]
                ) -> dict[str, str]:
    ids = _ids(state)
    for member, *_ in holdings:  # a member removed in shsync whose removal is pending
        ids.setdefault(member, f"x{len(ids)}")
    return ids


def mermaid_client(state: PracticeState, client: str, rows: Sequence[Row],
                   seen: Sequence[Seen] = ()) -> str:
    held = _holdings(rows, seen)
    ids = _client_ids(state, held)
    out = ["flowchart LR", f"  c([{_mermaid_label(['client ' + client])}])"]
    drawn: set[str] = set()
    edges = []
    for member, reason, caps, tag in held:
        if member not in drawn:
            drawn.add(member)
            out.append(f"  {ids[member]}[{_mermaid_label(_node_lines(state, member))}]")
        label = _mermaid_label([f"{reason}: {caps}", *([tag] if tag else [])])
        arrow = "-.->" if tag else "-->"
        edges.append(f"  {ids[member]} {arrow}|{label}| c")
    return "\n".join(out + edges) + "\n"


# --- DOT ----------------------------------------------------------------------------------------

def _dot_label(lines: Sequence[str]) -> str:
    return '"' + "\\n".join(dot_text(line) for line in lines) + '"'


def _dot_node(node: str, m: MemberState) -> str:
    attrs = [f"label={_dot_label(_member_lines(m))}"]
    if m.admin:
        attrs.append("penwidth=3")
    if m.status == "invited":
        attrs.append("style=dashed")
    return f"  {node} [{', '.join(attrs)}];"


def dot_supervision(state: PracticeState) -> str:
    ids = _ids(state)
    out = ["digraph supervision {", "  rankdir=TB;", "  node [shape=box];"]
    out += [_dot_node(ids[e], m) for e, m in sorted(state.members.items())]
    out += [f'  {ids[s]} -> {ids[t]} [label="supervises"];' for s, t in _edges(state)]
    return "\n".join(out + ["}"]) + "\n"


def dot_client(state: PracticeState, client: str, rows: Sequence[Row],
               seen: Sequence[Seen] = ()) -> str:
    held = _holdings(rows, seen)
    ids = _client_ids(state, held)
    out = ["digraph access {", "  rankdir=LR;", "  node [shape=box];",
           f"  c [label={_dot_label(['client ' + client])}, shape=ellipse];"]
    drawn: set[str] = set()
    edges = []
    for member, reason, caps, tag in held:
        if member not in drawn:
            drawn.add(member)
            m = state.members.get(member)
            out.append(_dot_node(ids[member], m) if m is not None else
                       f"  {ids[member]} [label={_dot_label(_node_lines(state, member))}, "
                       "style=dotted];")
        label = _dot_label([f"{reason}: {caps}", *([tag] if tag else [])])
        style = ", style=dashed" if tag else ""
        edges.append(f"  {ids[member]} -> c [label={label}{style}];")
    return "\n".join(out + edges + ["}"]) + "\n"


SUPERVISION: dict[str, Callable[[PracticeState], str]] = {
    "mermaid": mermaid_supervision, "dot": dot_supervision}
CLIENT: dict[str, Callable[[PracticeState, str, Sequence[Row], Sequence[Seen]], str]] = {
    "mermaid": mermaid_client, "dot": dot_client}

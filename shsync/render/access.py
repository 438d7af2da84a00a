"""Effective access as a table for people, or flat rows (json, csv) for auditors.

Every value is escaped for its format (`render.escape`): tables show control characters
visibly, CSV cells that look like formulas are prefixed with `'`, JSON escapes non-ASCII."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Sequence

from shsync.core.access import CAPABILITIES, EVERY_CLIENT, Holding, Lookup, Row
from shsync.core.runbook import Seen, Step
from shsync.render.escape import csv_cell, visible

FIELDS = ("member", "client", "capability", "reason", "until")
# Beside what shsync holds, what Sessions Health has until the runbook is carried out
# (core/runbook.two_truths): in_sessions_health true | false (not yet) | "pending" (still there).
SEEN_FIELDS = (*FIELDS, "in_shsync", "in_sessions_health", "pending", "due", "overdue")


def seen_dicts(seen: Sequence[Seen], now: str) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for s in seen:
        row: dict[str, object] = {f: getattr(s.row, f) for f in FIELDS}
        row.update(in_shsync=s.in_shsync, in_sessions_health=s.in_sessions_health,
                   pending=s.step.label if s.step else None,
                   due=s.step.due if s.step else None,
                   overdue=bool(s.step and s.step.overdue(now)))
        out.append(row)
    return out


def seen_csv(seen: Sequence[Seen], now: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SEEN_FIELDS)
    for d in seen_dicts(seen, now):
        writer.writerow(tuple(csv_cell("" if d[f] is None else str(d[f]).lower()
                                       if isinstance(d[f], bool) else str(d[f]))
                              for f in SEEN_FIELDS))
    return out.getvalue()


def seen_lines(seen: Sequence[Seen], now: str, *, subject: str) -> list[str]:
    """What a table adds below what shsync holds: access given in shsync and not yet carried
    out, and access ended in shsync that Sessions Health still has, a line per member, place,
    reason and step."""
    lines: list[str] = []
    waiting = _grouped([s for s in seen if s.in_shsync and s.step is not None])
    still = _grouped([s for s in seen if not s.in_shsync])
    if waiting:
        lines += ["", "Recorded in shsync, NOT YET in Sessions Health (a runbook step is "
                      "pending):"]
        lines += [f"  {member}  {_any_caps(caps)} on {_where(where)}  ({why}; "
                  f"{_pending(step, now)})" for (member, where, why, step), caps in waiting]
    if still:
        lines += ["", f"STILL in Sessions Health for {subject}, though ended in shsync, until "
                      "the runbook step is carried out:"]
        lines += [f"  {member}  {_any_caps(caps)} on {_where(where)}  ({why}; "
                  f"{_pending(step, now)})" for (member, where, why, step), caps in still]
    if waiting or still:
        lines += ["", "`shsync runbook` lists the steps; `shsync done R-N` records each."]
    return [visible(line) for line in lines]


def _grouped(seen: Sequence[Seen]) -> list[tuple[tuple[str, str | None, str, Step], set[str]]]:
    groups: dict[tuple[str, str | None, str, int], set[str]] = defaultdict(set)
    steps: dict[int, Step] = {}
    for s in seen:
        assert s.step is not None
        steps[s.step.id] = s.step
        groups[(s.row.member, s.row.client, s.row.reason, s.step.id)].add(s.row.capability)
    return [((m, where, why, steps[i]), caps) for (m, where, why, i), caps in
            sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "", kv[0][2], kv[0][3]))]


def _any_caps(caps: set[str]) -> str:
    """Client capabilities in their order, then practice-wide ones by name."""
    order = {c: i for i, c in enumerate(CAPABILITIES)}
    return ", ".join(c.replace("_", " ") for c in sorted(
        caps, key=lambda c: (order.get(c, len(order)), c)))


def _pending(step: Step, now: str) -> str:
    late = ", OVERDUE" if step.overdue(now) else ""
    return f"{step.label}, due {step.due}{late}"


def _where(client: str | None) -> str:
    if client is None:
        return "the practice"
    return "every client" if client == EVERY_CLIENT else client


def as_dicts(rows: Sequence[Row]) -> list[dict[str, str | None]]:
    return [{f: getattr(r, f) for f in FIELDS} for r in rows]


def as_json(rows: Sequence[Row]) -> str:
    return json.dumps(as_dicts(rows), indent=2) + "\n"


# A row whose access Sessions Health has too: no runbook step about it is pending.
CARRIED_OUT: dict[str, object] = {"in_shsync": True, "in_sessions_health": True,
                                  "pending": None, "due": None, "overdue": False}
_CARRIED_OUT = json.dumps(CARRIED_OUT, separators=(",", ":"))[1:-1]


def rows_document(rows: Sequence[Row]) -> bytes:
    """`{"rows": [...]}` as compact JSON: the API's answer (`GET .../access`) while no runbook
    step of the practice is pending (`seen_document` otherwise)."""
    return json.dumps({"rows": [{**d, **CARRIED_OUT} for d in as_dicts(rows)]},
                      separators=(",", ":")).encode()


def seen_document(seen: Sequence[Seen], now: str) -> bytes:
    """The same answer with the two truths (core/runbook.two_truths) of a pending runbook."""
    return json.dumps({"rows": seen_dicts(seen, now)}, separators=(",", ":")).encode()


class ClientRows:
    """`rows_document(lookup.client(client))` for any client of one practice, fast enough to
    answer each access query of a server (kept per audit head beside its `Lookup`).

    The members who hold something on every client appear in every answer with the same rows,
    the client's id aside: their text is encoded once, in pieces split where the id goes, and an
    answer joins the pieces around the id's own JSON. Only the members the client names are
    encoded per answer. Nothing is searched and replaced, so no value can forge another."""

    def __init__(self, lookup: Lookup):
        self.lookup = lookup
        self._wide = {email: (held, _pieces(email, held)) for email, held in lookup.wide}

    def document(self, client: str) -> bytes:
        quoted = json.dumps(client)
        parts = []
        for email, held in self.lookup.holdings(client):
            known = self._wide.get(email)
            pieces = known[1] if known is not None and known[0] is held else _pieces(email, held)
            parts.append(quoted.join(pieces))
        return ('{"rows":[' + ",".join(parts) + "]}").encode()


def _pieces(email: str, held: Sequence[Holding]) -> list[str]:
    """One member's rows as JSON text, split where the client's id goes."""
    member = '{"member":' + json.dumps(email) + ',"client":'
    pieces = [member]
    for cap, reason, until in held:
        pieces.append(',"capability":' + json.dumps(cap) + ',"reason":' + json.dumps(reason)
                      + ',"until":' + json.dumps(until) + "," + _CARRIED_OUT + "}," + member)
    pieces[-1] = pieces[-1][: -len(member) - 1]  # no row follows the last
    return pieces


def as_csv(rows: Sequence[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    writer.writerows(tuple(csv_cell(v) for v in (r.member, r.client or "", r.capability, r.reason,
                                               r.until or ""))
                     for r in rows)
    return out.getvalue()


def _caps(caps: set[str]) -> str:
    return ", ".join(c.replace("_", " ") for c in sorted(caps, key=CAPABILITIES.index))


def _why(reason: str, until: str | None) -> str:
    return f"{reason}, until {until}" if until else reason


def table_for_client(client: str, rows: Sequence[Row]) -> str:
    held: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in rows:
        held[(r.member, _why(r.reason, r.until))].add(r.capability)
    lines = [f"Who can see client {client}, and why:", ""]
    if not held:
        lines.append("  nobody")
    width = max((len(m) for m, _ in held), default=0)
    for (member, reason), caps in sorted(held.items()):
        lines.append(f"  {member:<{width}}  {_caps(caps)}  ({reason})")
    return "\n".join(visible(line) for line in lines) + "\n"


def table_for_member(member: str, rows: Sequence[Row], total_clients: int) -> str:
    by_grant: dict[tuple[str, frozenset[str]], list[str]] = defaultdict(list)
    per_client: dict[tuple[str, str], set[str]] = defaultdict(set)
    practice: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        if r.client is None:
            practice[r.reason].append(r.capability.replace("_", " "))
        else:
            per_client[(r.client, _why(r.reason, r.until))].add(r.capability)
    for (client, reason), caps in per_client.items():
        by_grant[(reason, frozenset(caps))].append(client)
    lines = [f"What {member} can see, and why:", ""]
    if not by_grant:
        lines.append("  no client records")
    for (reason, granted), clients in sorted(by_grant.items(), key=lambda kv: kv[0][0]):
        if len(clients) == total_clients and total_clients > 1:
            where = f"all {total_clients} clients"
        else:
            shown = sorted(clients)
            where = ", ".join(shown[:10]) + (f" and {len(shown) - 10} more" if len(shown) > 10
                                             else "")
        lines.append(f"  {_caps(set(granted))} on {where}  ({reason})")
    if practice:
        lines += ["", "Practice-wide (not on any one client):"]
        lines += [f"  {', '.join(caps)}  ({reason})" for reason, caps in sorted(practice.items())]
    return "\n".join(visible(line) for line in lines) + "\n"

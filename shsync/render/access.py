"""Effective access as a table for people, or flat rows (json, csv) for auditors.

Every value is escaped for its format (`render.escape`): tables show control characters
visibly, CSV cells that look like formulas are prefixed with `'`, JSON escapes non-ASCII."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Sequence

from shsync.reconcile.access import CAPABILITIES, Row
from shsync.render.escape import csv_cell, visible

FIELDS = ("member", "client", "capability", "reason", "until")


def as_dicts(rows: Sequence[Row]) -> list[dict[str, str | None]]:
    return [{f: getattr(r, f) for f in FIELDS} for r in rows]


def as_json(rows: Sequence[Row]) -> str:
    return json.dumps(as_dicts(rows), indent=2) + "\n"


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

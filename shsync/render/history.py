"""The audit log as lines, for a SIEM or a spreadsheet: JSON Lines with every field its hash
covers, or CSV (`shsync history --format jsonl|csv`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def history_jsonl(entries: Sequence[Any]) -> str:
    """One JSON object per entry, every field its hash covers and the hash itself: a consumer
    checks each line (sha256 of the canonical JSON of the line without `entry_hash`: keys
    sorted, no spaces, ASCII) and the chain (`prev_hash` is the line before's `entry_hash`)."""
    import json

    return "".join(json.dumps(e.to_dict(with_details=True), sort_keys=True,
                              separators=(",", ":"), ensure_ascii=True) + "\n" for e in entries)


HISTORY_COLUMNS = ("seq", "kind", "at", "written_at", "actor", "invite", "change", "remove",
                   "clients", "operations", "plan_hash", "prev_hash", "entry_hash")


def history_csv(entries: Sequence[Any]) -> str:
    """One row per entry: what a spreadsheet shows of it, with both hashes (JSON Lines holds
    every field)."""
    import csv
    import io

    from shsync.render.escape import csv_cell

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HISTORY_COLUMNS)
    for e in entries:
        s = e.summary if isinstance(e.summary, Mapping) else {}
        writer.writerow([e.seq, csv_cell(e.kind or "apply"), csv_cell(e.at),
                         csv_cell(e.written_at or ""), csv_cell(e.actor),
                         *(s.get(k, 0) for k in ("invite", "change", "remove", "clients")),
                         len(e.operations), csv_cell(e.plan_hash), csv_cell(e.prev_hash),
                         csv_cell(e.entry_hash)])
    return out.getvalue()

"""`shsync onboard`: an HR roster merged into an org directory, all rows good or nothing written.

New members go to `DIR/members/<roster name>.yaml`. Members already declared are never touched:
a row with the same data is skipped, a row with different data is refused (`roster-conflict`)
unless `--update`, which rewrites that member where it is declared. A new directory gets an
`org.yaml` with `prune: false`, so applying a roster alone never removes anyone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from shsync.diagnostics import Diagnostic, Location, Severity, sort_key
from shsync.model import Member
from shsync.schema import structure
from shsync.schema.load import load_org, org_files
from shsync.schema.roster import Roster, check, read_roster
from shsync.schema.yamlload import LoadError, load_file

HEADER = "# Onboarded by shsync from {name}. Members only; clients appear by id elsewhere.\n"


@dataclass
class Outcome:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped_rows: list[int] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.diagnostics)


class OnboardRefused(Exception):
    def __init__(self, outcome: Outcome):
        super().__init__("the roster has problems; nothing was written")
        self.outcome = outcome


def _member_data(m: Member) -> dict[str, Any]:
    return m.model_dump(by_alias=True, exclude_defaults=True, exclude_none=True)


def _subset(roster: Roster, keep: list[int]) -> Roster:
    return replace(roster, members=tuple(roster.members[i] for i in keep),
                   rows=tuple(roster.rows[i] for i in keep))


def onboard(roster_path: Path, out: Path, mapping: Mapping[str, str], *,
            skip_invalid: bool = False, update: bool = False) -> Outcome:
    outcome = Outcome()
    existing: list[Member] = []
    if out.exists() and org_files(out):
        loaded = load_org(out)
        if loaded.model is None:
            outcome.diagnostics.extend(loaded.diagnostics)
            raise OnboardRefused(outcome)
        existing = list(loaded.model.members)
    roster = read_roster(roster_path, mapping)
    outcome.diagnostics.extend(roster.diagnostics)
    if outcome.failed:
        raise OnboardRefused(outcome)
    by_email = {m.email: m for m in existing}
    candidates, replaced = _sort_rows(roster, by_email, update, outcome)
    kept_existing = [m for m in existing if m.email not in replaced]
    while True:
        problems = check(_subset(roster, candidates), kept_existing)
        outcome.diagnostics.extend(d for found in problems.values() for d in found)
        bad = {candidates[i] for i in problems if i is not None
               and any(d.severity is Severity.ERROR for d in problems[i])}
        if not (skip_invalid and bad):
            break
        # Dropping a row can break another that refers to it: check again until none fails.
        candidates = [i for i in candidates if i not in bad]
    if skip_invalid:
        good = {roster.rows[i] for i in candidates}
        outcome.skipped_rows = sorted({d.location.line for d in outcome.diagnostics
                                       if d.location and d.location.line not in good
                                       and d.location.line != 1
                                       and d.severity is Severity.ERROR})
    refusing = [d for d in outcome.diagnostics if d.severity is Severity.ERROR
                and not (skip_invalid and d.location and d.location.line in outcome.skipped_rows)]
    outcome.diagnostics.sort(key=sort_key)
    if refusing:
        raise OnboardRefused(outcome)
    _write(out, roster, candidates, by_email, replaced, outcome)
    return outcome


def _sort_rows(roster: Roster, by_email: Mapping[str, Member], update: bool,
               outcome: Outcome) -> tuple[list[int], set[str]]:
    """Rows to add or update, and the emails an update replaces; reports conflicts."""
    candidates: list[int] = []
    replaced: set[str] = set()
    for i, data in enumerate(roster.members):
        email = str(data.get("email", "")).lower()
        if email not in by_email:
            candidates.append(i)
            continue
        try:
            if structure.check({"version": 1, "members": [data]}):
                raise ValueError
            member = Member.model_validate(data)
        except (ValueError, ValidationError):
            candidates.append(i)  # let the checks report the row's own problems
            continue
        if _member_data(member) == _member_data(by_email[email]):
            outcome.unchanged.append(email)
        elif update:
            candidates.append(i)
            replaced.add(email)
        else:
            outcome.diagnostics.append(Diagnostic(
                Severity.ERROR, "roster-conflict",
                f"{email} is already declared with different data; pass --update to replace it",
                Location(roster.name, roster.rows[i], None)))
    return candidates, replaced


def _dump(path: Path, doc: dict[str, Any], header: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100),
                    "utf-8")


def _write(out: Path, roster: Roster, rows: list[int], by_email: Mapping[str, Member],
           replaced: set[str], outcome: Outcome) -> None:
    members = {str(roster.members[i]["email"]).lower(): _member_data(
        Member.model_validate(roster.members[i])) for i in rows}
    replaced = {e for e in replaced if e in members}  # an update whose row was skipped is not
    if not (out.exists() and org_files(out)):
        _dump(out / "org.yaml", {"version": 1, "prune": False},
              "# prune: false until these files declare every member of the practice.\n")
        outcome.written.append(out / "org.yaml")
    for path in (org_files(out) if replaced else []):
        try:
            doc = load_file(path)
        except LoadError:
            continue
        listed = doc.data.get("members", [])
        if any(str(m.get("email", "")).lower() in replaced for m in listed):
            doc.data["members"] = [members.pop(str(m["email"]).lower(), m)
                                   if str(m.get("email", "")).lower() in replaced else m
                                   for m in listed]
            _dump(path, doc.data)
            outcome.written.append(path)
    outcome.updated.extend(sorted(replaced))
    new = [m for e, m in members.items() if e not in by_email]
    if new:
        target = out / "members" / f"{roster_path_stem(roster.name)}.yaml"
        if target.exists():
            merged = load_file(target).data
            merged.setdefault("members", []).extend(new)
        else:
            merged = {"version": 1, "members": new}
        _dump(target, merged, HEADER.format(name=Path(roster.name).name))
        outcome.written.append(target)
        outcome.added.extend(m["email"] for m in new)


def roster_path_stem(name: str) -> str:
    return Path(name).stem.replace(" ", "-").lower() or "roster"

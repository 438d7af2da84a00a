"""`shsync onboard`: an HR roster merged into an org directory, all rows good or nothing written.

New members go to `DIR/members/<roster name>.yaml` (a safe name: no hidden file, no path
separator). A row for a member already declared is laid over what is declared: only the cells it
has change anything, so a roster of names and roles keeps NPIs, taxonomy and supervisors. A row
that changes nothing is skipped; one that changes something is refused (`roster-conflict`, with a
field-level diff) unless `--update`, which rewrites that member where it is declared. A new
directory gets an `org.yaml` with `prune: false`, so applying a roster alone never removes anyone.
The rules run on the whole org (the directory and the roster together); an org with no
administrator yet is a warning here, since `validate` and `plan` refuse it until one is named.
With `--update` the roster is taken as the whole staff: each member declared in the directory
and absent from it is a `not-in-roster` warning where they are declared, and with
`--remove-missing` they are removed from their files (the next plan removes them from the
practice, asking for handoffs as any removal does), unless something else in the directory
still names them (`still-referenced`: then nothing is written).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Set
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from shsync.jobs import outfile
from shsync.model.diagnostics import Diagnostic, Location, Severity, sort_key
from shsync.model.org import Member
from shsync.format import structure
from shsync.format.load import load_org, org_files
from shsync.format.roster import Roster, check, read_roster
from shsync.format.yamlload import load_file
from shsync.errors import LoadError, OnboardRefused, UserError

HEADER = "# Onboarded by shsync from {name}. Members only; clients appear by id elsewhere.\n"


@dataclass
class Outcome:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped_rows: list[int] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # declared, not in the roster (--update)
    removed: list[str] = field(default_factory=list)  # ... and removed (--remove-missing)
    prune: bool = False  # does the directory say `prune: true` (a plan removes the undeclared)?

    @property
    def failed(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.diagnostics)


def _member_data(m: Member) -> dict[str, Any]:
    return m.model_dump(by_alias=True, exclude_defaults=True, exclude_none=True)


def _shown(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


def field_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """`npi: 1204567899 -> 1999999999`, one per field that differs, in the format's order."""
    order = list(Member.model_fields)
    keys = sorted(set(before) | set(after), key=lambda k: (order.index(k) if k in order
                                                           else len(order), k))
    return [f"{k}: {_shown(before.get(k))} -> {_shown(after.get(k))}" for k in keys
            if before.get(k) != after.get(k)]


def _subset(roster: Roster, keep: list[int]) -> Roster:
    return replace(roster, members=tuple(roster.members[i] for i in keep),
                   rows=tuple(roster.rows[i] for i in keep))


def onboard(roster_path: Path, out: Path, mapping: Mapping[str, str], *,
            skip_invalid: bool = False, update: bool = False,
            remove_missing: bool = False) -> Outcome:
    outcome = Outcome()
    existing: list[Member] = []
    if remove_missing and not update:
        raise UserError("--remove-missing needs --update: only a roster of the whole staff says "
                        "who has left", "usage")
    if out.exists() and org_files(out):
        # The directory may be an earlier roster of new hires, with no administrator yet: the
        # admin rule is judged below, on the directory and this roster together.
        loaded = load_org(out, lenient=frozenset({"no-admin"}))
        if loaded.value is None:
            outcome.diagnostics.extend(loaded.diagnostics)
            raise OnboardRefused(outcome)
        existing = list(loaded.value.model().members)
        outcome.prune = loaded.value.data.get("prune") is True
    roster = read_roster(roster_path, mapping)
    outcome.diagnostics.extend(roster.diagnostics)
    if outcome.failed:
        raise OnboardRefused(outcome)
    by_email = {m.email: m for m in existing}
    candidates, replaced, merged = _sort_rows(roster, by_email, update, outcome)
    roster = replace(roster, members=tuple(merged.get(i, data)
                                           for i, data in enumerate(roster.members)))
    removed: set[str] = set()
    if update:
        listed = {str(data.get("email", "")).lower() for data in roster.members}
        outcome.missing = [m.email for m in existing if m.email not in listed]
        if remove_missing:
            removed = set(outcome.missing)
        outcome.diagnostics.extend(_missing(out, roster, outcome.missing, removed, replaced))
    kept_existing = [m for m in existing if m.email not in replaced and m.email not in removed]
    # A directory with an administrator keeps the rule; a new one (or one of new hires so far)
    # is told, not refused.
    lenient = () if any(m.admin for m in existing) else ("no-admin",)
    while True:
        problems = check(_subset(roster, candidates), kept_existing, lenient=lenient)
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
                                       if d.location and d.location.file == roster.name
                                       and d.location.line not in good
                                       and d.location.line != 1
                                       and d.severity is Severity.ERROR})
    refusing = [d for d in outcome.diagnostics if d.severity is Severity.ERROR
                and not (skip_invalid and d.location and d.location.file == roster.name
                         and d.location.line in outcome.skipped_rows)]
    outcome.diagnostics = sorted(dict.fromkeys(outcome.diagnostics), key=sort_key)
    if refusing:
        raise OnboardRefused(outcome)
    _write(out, roster, candidates, by_email, replaced, outcome, removed)
    return outcome


def _missing(out: Path, roster: Roster, missing: list[str], removed: set[str],
             replaced: set[str]) -> list[Diagnostic]:
    """A `not-in-roster` warning where each missing member is declared; for members to be
    removed, a `still-referenced` error wherever the directory still names them, so that
    removing them leaves no file that fails `validate`. (Roster rows, and the members they
    rewrite, are checked with the rules: a supervisor removed is `unknown-supervisor` there.)"""
    if not missing:
        return []
    found: list[Diagnostic] = []
    named = set(missing)
    for path in org_files(out):
        try:
            doc = load_file(path)
        except LoadError:
            continue
        wanted: list[tuple[tuple[Any, ...], Severity, str, str]] = []
        for i, m in enumerate(_items(doc.data, "members")):
            email = str(m.get("email", "")).lower()
            if email in named:
                wanted.append((("members", i), Severity.WARNING, "not-in-roster",
                               f"{email} is declared here but is not in the roster "
                               f"{roster.name}: " + ("removed from this file "
                                                     "(--remove-missing)" if removed else
                                                     "kept (--remove-missing removes them)")))
                continue
            boss = str(m.get("supervised_by") or "").lower()
            if boss in removed and email not in replaced:
                wanted.append((("members", i, "supervised_by"), Severity.ERROR,
                               "still-referenced", f"{boss} is not in the roster, but {email} "
                               "is supervised by them: name another supervisor (here or in "
                               "the roster) before removing them"))
        for i, c in enumerate(_items(doc.data, "clients")):
            for key in ("practitioner", "supervisor"):
                who = str(c.get(key) or "").lower()
                if who in removed:
                    wanted.append((("clients", i, key), Severity.ERROR, "still-referenced",
                                   f"{who} is not in the roster, but is client "
                                   f"{c.get('id')}'s {key}: reassign the client before "
                                   "removing them"))
            for j, g in enumerate(c.get("access") or ()):
                who = str(g.get("member", "") if isinstance(g, dict) else g).lower()
                if who in removed:
                    wanted.append((("clients", i, "access", j), Severity.ERROR,
                                   "still-referenced", f"{who} is not in the roster, but "
                                   f"client {c.get('id')} grants them access: take the grant "
                                   "out before removing them"))
        for i, h in enumerate(_items(doc.data, "handoffs")):
            for key in ("clients", "notes", "signatures"):
                who = str(h.get(key) or "").lower()
                if who in removed:
                    wanted.append((("handoffs", i, key), Severity.ERROR, "still-referenced",
                                   f"{who} is not in the roster, but a handoff gives them "
                                   f"{h.get('from')}'s {key}: name someone else before "
                                   "removing them"))
        where = doc.locate([p for p, *_ in wanted])
        found += [Diagnostic(severity, code, message, where[p])
                  for p, severity, code, message in wanted]
    return found


def _items(data: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    items = data.get(key)
    return [x for x in items if isinstance(x, dict)] if isinstance(items, list) else []


def _sort_rows(roster: Roster, by_email: Mapping[str, Member], update: bool,
               outcome: Outcome) -> tuple[list[int], set[str], dict[int, dict[str, Any]]]:
    """Rows to add or update, the emails an update replaces, and each declared member's row
    laid over what is declared (a cell the roster lacks keeps its value); reports conflicts."""
    candidates: list[int] = []
    replaced: set[str] = set()
    merged: dict[int, dict[str, Any]] = {}
    for i, data in enumerate(roster.members):
        email = str(data.get("email", "")).lower()
        if email not in by_email:
            candidates.append(i)
            continue
        declared = _member_data(by_email[email])
        merged[i] = {**declared, **data}
        try:
            if structure.check({"version": 1, "members": [merged[i]]}):
                raise ValueError
            member = _member_data(Member.model_validate(merged[i]))
        except (ValueError, ValidationError):
            candidates.append(i)  # let the checks report the row's own problems
            continue
        if member == declared:
            outcome.unchanged.append(email)
        elif update:
            candidates.append(i)
            replaced.add(email)
        else:
            outcome.diagnostics.append(Diagnostic(
                Severity.ERROR, "roster-conflict",
                f"{email} is already declared with different data "
                f"({'; '.join(field_diff(declared, member))}); pass --update to change it",
                Location(roster.name, roster.rows[i], None)))
    return candidates, replaced, merged


def _dump(path: Path, doc: dict[str, Any], header: str = "") -> None:
    outfile.write_text(path, header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True,
                                                     width=100), parents=True)


def _write(out: Path, roster: Roster, rows: list[int], by_email: Mapping[str, Member],
           replaced: set[str], outcome: Outcome, removed: Set[str] = frozenset()) -> None:
    members = {str(roster.members[i]["email"]).lower(): _member_data(
        Member.model_validate(roster.members[i])) for i in rows}
    replaced = {e for e in replaced if e in members}  # an update whose row was skipped is not
    if not (out.exists() and org_files(out)):
        _dump(out / "org.yaml", {"version": 1, "prune": False},
              "# prune: false until these files declare every member of the practice.\n")
        outcome.written.append(out / "org.yaml")
    for path in (org_files(out) if replaced or removed else []):
        try:
            doc = load_file(path)
        except LoadError:
            continue
        listed = doc.data.get("members", [])
        if any(str(m.get("email", "")).lower() in replaced | removed for m in listed):
            doc.data["members"] = [members.pop(str(m["email"]).lower(), m)
                                   if str(m.get("email", "")).lower() in replaced else m
                                   for m in listed
                                   if str(m.get("email", "")).lower() not in removed]
            _dump(path, doc.data)
            outcome.written.append(path)
    outcome.updated.extend(sorted(replaced))
    outcome.removed.extend(sorted(removed))
    new = [m for e, m in members.items() if e not in by_email]
    if new:
        target = out / "members" / f"{roster_path_stem(roster.name)}.yaml"
        if target.exists():
            merged = load_file(target).data
            merged.setdefault("members", []).extend(new)
        else:
            merged = {"version": 1, "members": new}
        _dump(target, merged, HEADER.format(name=_one_line(Path(roster.name).name)))
        outcome.written.append(target)
        outcome.added.extend(m["email"] for m in new)


def _one_line(text: str) -> str:
    """A file name as it may appear in a YAML comment: no line break or control character."""
    return "".join(c if c.isprintable() else "?" for c in text)


def roster_path_stem(name: str) -> str:
    """A safe file name from a roster's name: `HR Export.csv` -> `hr-export`. Never hidden
    (`.hr.csv` -> `hr`), never a path (separators of any system become dashes)."""
    return re.sub(r"[^\w-]+", "-", Path(name).stem.lower()).strip("-_") or "roster"

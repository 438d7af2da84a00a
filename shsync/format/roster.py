"""HR rosters (CSV) as org members, checked with the same schema and rules as `shsync validate`.

Columns map by header (email, first_name, last_name, roles, admin, npi, taxonomy,
billing_access, supervised_by; case and spaces do not matter), or by `--map "Work Email=email"`.
Roles are separated by `;` or `|`. Every problem is reported against its row:
`roster.csv:7: error[invalid-npi]: ...`.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from shsync.format import fileio
from shsync.model.diagnostics import Diagnostic, Finding, Location, Severity
from shsync.model.org import Member, Org
from shsync.model.vocabulary import ROLES
from shsync.format import rules, structure
from shsync.format.load import NEEDS, salvage

FIELDS = ("email", "first_name", "last_name", "roles", "admin", "npi", "taxonomy",
          "billing_access", "supervised_by")
_BOOLEAN_FIELDS = ("admin", "billing_access")
_TRUE = {"true", "yes", "y", "1", "x"}
_FALSE = {"false", "no", "n", "0", ""}


def _key(header: str) -> str:
    return re.sub(r"[\s\-]+", "_", header.strip().lower())


@dataclass(frozen=True)
class Roster:
    """The rows of a roster as member data, with the CSV row number of each."""

    name: str
    members: tuple[dict[str, Any], ...]
    rows: tuple[int, ...]
    diagnostics: tuple[Diagnostic, ...]  # problems with the file itself or its header


def _at(name: str, row: int) -> Location:
    return Location(name, row, None)


def read_roster(path: Path, mapping: Mapping[str, str], name: str | None = None) -> Roster:
    shown = name or str(path)
    try:
        text = fileio.read_bytes(path, shown).decode("utf-8-sig")
    except fileio.FileProblem as exc:
        return Roster(shown, (), (), (exc.diagnostic(),))
    except UnicodeDecodeError:
        return Roster(shown, (), (), (Diagnostic(Severity.ERROR, "encoding",
                                                 "the roster is not UTF-8 text", _at(shown, 1)),))
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        return Roster(shown, (), (), (Diagnostic(Severity.ERROR, "empty-file",
                                                 "the roster is empty", _at(shown, 1)),))
    columns, problems = _columns(header, mapping, shown)
    if any(d.severity is Severity.ERROR for d in problems):
        return Roster(shown, (), (), tuple(problems))
    members, rows = [], []
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        members.append(_member(cells, columns))
        rows.append(number)
    return Roster(shown, tuple(members), tuple(rows), tuple(problems))


def _columns(header: Sequence[str], mapping: Mapping[str, str],
             name: str) -> tuple[dict[int, str], list[Diagnostic]]:
    wanted = {_key(k): v for k, v in mapping.items()}
    columns: dict[int, str] = {}
    problems = []
    for i, title in enumerate(header):
        mapped = wanted.get(_key(title))
        field = _key(mapped if mapped is not None else title)
        if field in FIELDS:
            if field in columns.values():
                problems.append(Diagnostic(Severity.ERROR, "duplicate-column",
                                           f"two columns map to {field}", _at(name, 1)))
            columns[i] = field
        elif mapped is not None:
            problems.append(Diagnostic(Severity.ERROR, "unknown-field",
                                       f"--map '{title}={mapped}': {mapped!r} is not a field"
                                       f"{_did_you_mean(field)}", _at(name, 1)))
        else:
            guess = difflib.get_close_matches(field, FIELDS, n=1, cutoff=0.6)
            hint = (f"did you mean --map '{title}={guess[0]}'?" if guess
                    else f"map it with --map '{title}=FIELD'; fields: {', '.join(FIELDS)}")
            problems.append(Diagnostic(Severity.WARNING, "unknown-column",
                                       f"column {title!r} is ignored ({hint})", _at(name, 1)))
    for field in ("email", "first_name", "last_name"):
        if field not in columns.values():
            problems.append(Diagnostic(Severity.ERROR, "missing-column",
                                       f"no column for {field}", _at(name, 1)))
    return columns, problems


def _did_you_mean(field: str) -> str:
    guess = difflib.get_close_matches(field, FIELDS, n=1, cutoff=0.6)
    return f"; did you mean {guess[0]!r}?" if guess else f"; fields: {', '.join(FIELDS)}"


def _member(cells: Sequence[str], columns: Mapping[int, str]) -> dict[str, Any]:
    member: dict[str, Any] = {}
    for i, field in columns.items():
        raw = cells[i].strip() if i < len(cells) else ""
        if field == "roles":
            # Case does not matter; a role that is none keeps the user's spelling for the error.
            member["roles"] = [r.strip().lower() if r.strip().lower() in ROLES else r.strip()
                               for r in re.split(r"[;|]", raw) if r.strip()]
        elif field in _BOOLEAN_FIELDS:
            if raw.lower() in _TRUE:
                member[field] = True
            elif raw.lower() in _FALSE:
                if raw:
                    member[field] = False
            else:
                member[field] = raw  # the schema check reports it against its row
        elif raw:
            member[field] = raw.lower() if field in ("email", "supervised_by") else raw
    return member


def check(roster: Roster, existing: Sequence[Member],
          lenient: Collection[str] = ()) -> dict[int | None, list[Diagnostic]]:
    """Problems per roster row (by index; None: the roster as a whole), using the schema and
    the rules of `validate`.

    `existing` are members already declared in the org the roster merges into; rules run over
    them and the roster together, so a roster row may name an existing supervisor. Rules named
    in `lenient` are reported as warnings.
    """
    problems: dict[int | None, list[Diagnostic]] = {}

    def report(finding: Finding, index: int | None) -> None:
        row = 1 if index is None else roster.rows[index]
        severity = Severity.WARNING if finding.code in lenient else finding.severity
        problems.setdefault(index, []).append(
            Diagnostic(severity, finding.code, finding.message, _at(roster.name, row)))

    valid: list[tuple[int, Member]] = []
    dropped: dict[int, frozenset[str]] = {}
    for index, data in enumerate(roster.members):
        found = structure.check({"version": 1, "members": [data]})
        for f in found:
            report(f, index)
        # A malformed cell leaves the rest of the row to the rules (see load.salvage).
        saved = salvage(data, "members", 0, found) if found else (data, frozenset())
        if saved is not None:
            try:
                valid.append((index, Member.model_validate(saved[0])))
                dropped[index] = saved[1]
            except ValidationError as exc:  # safety net; the schema should have caught it
                report(Finding(Severity.ERROR, "invalid-value", str(exc.errors()[0]["msg"])),
                       index)
    org = Org(version=1, members=[*existing, *(m for _, m in valid)])
    offset = len(existing)
    for finding in rules.check_org(org.model_dump(by_alias=True), frozenset(
            str(d.get("email", "")).lower() for i, d in enumerate(roster.members)
            if i in problems)):
        indexes = {p[1] - offset for p in finding.paths
                   if len(p) >= 2 and p[0] == "members" and isinstance(p[1], int)
                   and p[1] >= offset}
        for i in sorted(indexes):
            if not NEEDS.get(finding.code, frozenset()) & dropped[valid[i][0]]:
                report(finding, valid[i][0])
        if finding.paths == (("members",),):
            report(finding, None)  # about the org as a whole (no-admin): shown on the header
    return problems

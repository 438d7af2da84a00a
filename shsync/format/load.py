"""Reading an org (one file or a directory of files) into checked values.

files -> documents (safe YAML) -> structure (JSON Schema, per file) -> merge -> value -> rules ->
diagnostics placed back in the files. An org's value is its plain data (`OrgValues`, see
shsync/model/plain.py): the compiled schema already decided it is well formed, so no pydantic
model is built. A snapshot's value is still a pydantic model (its timestamps are parsed there).
Nothing here raises for a user's mistake: problems come back as diagnostics, all of them at once.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path as FsPath
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from shsync.model.clock import FIRST_YEAR, LAST_YEAR, end_instant, valid_zone
from shsync.model.diagnostics import Diagnostic, Finding, KeyOf, Location, Path, Severity, sort_key
from shsync.gcpause import paused
from shsync.format import rules, structure
from shsync.model.plain import OrgValues
from shsync.format.yamlload import Document, LoadError, load_file

if TYPE_CHECKING:  # pydantic is imported only for snapshots
    from pydantic import ValidationError

    from shsync.model.org import Snapshot

V = TypeVar("V")

LIST_KEYS = ("members", "clients", "handoffs", "appointments", "notes")
SETTING_KEYS = ("version", "practice", "prune", "timezone", "policy")
YAML_SUFFIXES = (".yaml", ".yml")
# What an org file (so `shsync export`) holds that no one observes in Sessions Health: shsync's
# own settings, the desired state. An observation (`refresh`) reads them, ignores them and says
# so, one `ignored-key` warning per key, so an export is an observation as it stands; a snapshot
# to seed a store from still refuses them (`unknown-key`): seeding is not a refresh.
DESIRED_ONLY = {
    "prune": "whether a plan removes undeclared members is the org file's business",
    "policy": "shsync's own policies change by a plan (`shsync plan` / `apply`) only",
}
# An org file's other setting: the time zone its `until`s are read in. A snapshot reads it too.
SNAPSHOT_SETTINGS = (*DESIRED_ONLY, "timezone")


@dataclass(frozen=True)
class Loaded(Generic[V]):
    """A loaded org or snapshot: its value when there are no errors, and every diagnostic."""

    value: V | None
    diagnostics: tuple[Diagnostic, ...]
    files: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.value is not None


def _display(path: FsPath) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


@dataclass(frozen=True)
class Scan:
    """The files of an org, and what was noticed finding them (skipped files, bad links)."""

    files: tuple[FsPath, ...]
    diagnostics: tuple[Diagnostic, ...] = ()


def org_files(root: FsPath) -> list[FsPath]:
    """The YAML files of an org: the file itself, or a directory's (see `scan`)."""
    return list(scan(root).files)


def scan(root: FsPath) -> Scan:
    """The YAML files of an org: the file itself, or every `*.yaml`/`*.yml` file (any case) below
    a directory, sorted by path. Hidden files and directories and other files are skipped with a
    `skipped-file` warning; symbolic links are followed only when they stay inside the directory
    (else `symlink-outside`); a file or directory reached twice is read once."""
    if not root.is_dir():
        return Scan((root,))
    walker = _Walker(FsPath(os.path.realpath(root)))
    walker.walk(root)
    return Scan(tuple(sorted(walker.files.values())), tuple(walker.diagnostics))


class _Walker:
    def __init__(self, real_root: FsPath):
        self.real_root = real_root
        self.files: dict[str, FsPath] = {}  # real path -> the first path that reached it
        self.dirs: dict[str, FsPath] = {str(real_root): real_root}
        self.diagnostics: list[Diagnostic] = []

    def skipped(self, path: FsPath, why: str) -> None:
        self.diagnostics.append(Diagnostic(Severity.WARNING, "skipped-file",
                                           f"{_display(path)}: skipped, {why}"))

    def walk(self, directory: FsPath) -> None:
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            self.diagnostics.append(Diagnostic(Severity.ERROR, "unreadable",
                                               f"{_display(directory)}: cannot list: "
                                               f"{(exc.strerror or str(exc)).lower()}"))
            return
        for entry in entries:
            self.visit(entry, directory / entry.name)

    def visit(self, entry: os.DirEntry[str], path: FsPath) -> None:
        if entry.name.startswith("."):
            self.skipped(path, "hidden" + (" directory" if entry.is_dir() else " file"))
            return
        real = os.path.realpath(path)
        if entry.is_symlink() and os.path.commonpath([real, self.real_root]) != str(
                self.real_root):
            self.diagnostics.append(Diagnostic(
                Severity.ERROR, "symlink-outside",
                f"{_display(path)}: a symbolic link to {real}, outside the org directory; "
                "shsync follows links only within it (copy the file in instead)"))
        elif entry.is_dir():
            if real in self.dirs:
                self.skipped(path, f"the same directory as {_display(self.dirs[real])}")
                return
            self.dirs[real] = path
            self.walk(path)
        elif not entry.name.lower().endswith(YAML_SUFFIXES):
            self.skipped(path, "not a .yaml or .yml file")
        elif real in self.files:
            self.skipped(path, f"the same file as {_display(self.files[real])}")
        else:
            self.files[real] = path


class _Merged:
    """One org from several documents, remembering where each list item and setting came from."""

    def __init__(self, documents: Sequence[Document],
                 skip: frozenset[tuple[int, str, int]] = frozenset()):
        self.documents = documents
        self.data: dict[str, Any] = {}
        self.origin: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.setting_origin: dict[str, list[int]] = defaultdict(list)
        for d, doc in enumerate(documents):
            for key, value in doc.data.items():
                if key in LIST_KEYS and isinstance(value, list):
                    kept = [i for i in range(len(value)) if (d, key, i) not in skip]
                    self.data.setdefault(key, []).extend(value[i] for i in kept)
                    self.origin[key].extend((d, i) for i in kept)
                else:
                    self.setting_origin[key].append(d)
                    self.data.setdefault(key, value)

    def conflicts(self) -> list[Finding]:
        findings = []
        for key in ("practice", "prune", "timezone", "policy"):
            docs = self.setting_origin.get(key, [])
            values = {repr(self.documents[d].data[key]) for d in docs}
            if len(values) > 1:
                findings.append(Finding(Severity.ERROR, "conflicting-setting",
                                        f"the files of this org disagree on {key}: "
                                        f"{', '.join(sorted(values))}",
                                        tuple((f"@{d}", key) for d in docs)))
        return findings

    def local(self, path: Path) -> tuple[int, Path]:
        """Which document a global path lives in, and the path within it."""
        if path and isinstance(path[0], str) and path[0].startswith("@"):
            return int(path[0][1:]), path[1:]
        if len(path) >= 2 and path[0] in self.origin and isinstance(path[1], int):
            d, i = self.origin[path[0]][path[1]]
            return d, (path[0], i, *path[2:])
        if path and path[0] in self.setting_origin:
            return self.setting_origin[path[0]][0], path
        if path and path[0] in self.origin and self.origin[path[0]]:
            return self.origin[path[0]][0][0], path
        return 0, path

    def place(self, findings: Sequence[Finding]) -> list[Diagnostic]:
        wanted: dict[int, list[Path]] = defaultdict(list)
        targets = []
        for f in findings:
            spots = [self.local(p) for p in f.paths] or [(0, ())]
            targets.append(spots)
            for d, p in spots:
                wanted[d].append(p)
        located = {d: self.documents[d].locate(paths) for d, paths in wanted.items()}
        return [Diagnostic(f.severity, f.code, f.message, located[d][p])
                for f, spots in zip(findings, targets, strict=True) for d, p in spots]


def _model_errors(exc: ValidationError, name: str) -> list[Diagnostic]:
    # The JSON Schema pass should have caught everything in a snapshot; this is the safety net
    # that keeps a model/schema disagreement from ever surfacing as a traceback.
    return [Diagnostic(Severity.ERROR, "invalid-value",
                       f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}", Location(name, 1, 1))
            for e in exc.errors()]


def _broken_items(doc: Document, d: int, found: Sequence[Finding]) -> set[tuple[int, str, int]]:
    """The list items (file, list key, index) that structural findings are about."""
    broken = set()
    for f in found:
        for p in f.paths:
            if len(p) >= 2 and p[0] in LIST_KEYS and isinstance(p[1], int):
                broken.add((d, p[0], p[1]))
    return broken


# Fields a list item cannot be judged without: a member's roles and admin (other members' rules
# lean on them), a snapshot member's status. Identities and required keys need no listing: an
# item without them fails the structure check and stays out of the rules.
_CORE_FIELDS = frozenset({"roles", "admin", "status"})
# Rules whose silence about a field means "absent": not to be run where it was malformed.
NEEDS = {"missing-npi": frozenset({"npi", "billing_access"}),
          "cosign-without-supervisor": frozenset({"supervised_by"})}


def salvage(item: Any, key: str, i: int, found: Sequence[Finding],
            kind: str = "org") -> tuple[dict[str, Any], frozenset[str]] | None:
    """A malformed list item (`key`[`i`]) without its malformed fields, and those fields, when
    what is left is well formed, so the rules still run on it (`billing_access: no` does not
    hide `not-a-supervisor`). None when the item cannot be judged without them."""
    if not isinstance(item, dict):
        return None
    dropped: set[str] = set()
    for f in found:
        for p in f.paths:
            if p[:2] != (key, i):
                continue
            if len(p) < 3:
                return None  # about the item as a whole: a missing key, not a mapping
            name = p[2].name if isinstance(p[2], KeyOf) else p[2]
            if not isinstance(name, str) or name in _CORE_FIELDS:
                return None
            dropped.add(name)
    rest = {k: v for k, v in item.items() if k not in dropped}
    if structure.check({"version": 1, key: [rest]}, kind):
        return None
    return rest, frozenset(dropped)


def _repair(doc: Document, d: int, found: Sequence[Finding], kind: str,
            items: set[tuple[int, str, int]],
            dropped: dict[tuple[int, str, int], frozenset[str]]) -> Document:
    """The document with each salvageable item repaired (and taken out of `items`)."""
    data = doc.data
    for _, key, i in sorted(items):
        saved = salvage(doc.data[key][i], key, i, found, kind)
        if saved is None:
            continue
        if data is doc.data:
            data = dict(doc.data)
        data[key] = list(data[key])
        data[key][i] = saved[0]
        items.discard((d, key, i))
        dropped[(d, key, i)] = saved[1]
    return doc if data is doc.data else replace(doc, data=data)


def _heard(findings: Sequence[Finding], merged: _Merged,
           dropped: dict[tuple[int, str, int], frozenset[str]]) -> list[Finding]:
    """Findings, less those a repaired item's missing field would make up."""
    kept = []
    for f in findings:
        needs = NEEDS.get(f.code)
        if needs and dropped and any(
                needs & dropped.get((d, p[0], p[1]), frozenset())
                for d, p in (merged.local(q) for q in f.paths) if len(p) >= 2):
            continue
        kept.append(f)
    return kept


def _identities(items: Iterable[tuple[str, Any]]) -> set[str]:
    """Emails and ids of malformed items, so rules neither confirm nor deny references to them."""
    found = set()
    for key, item in items:
        if isinstance(item, dict):
            ident = item.get("email") or item.get("id")
            if isinstance(ident, str):
                found.add(ident.lower() if key == "members" else ident)
    return found


def _all_items(data: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for key in LIST_KEYS:
        if isinstance(data.get(key), list):
            yield from ((key, item) for item in data[key])


def _times(value: Any, path: Path = ()) -> Iterator[tuple[Path, datetime]]:
    """Every timestamp in a model, with its path (by the keys the file uses)."""
    if isinstance(value, datetime):
        yield path, value
    elif hasattr(type(value), "model_fields"):  # a pydantic model
        for name, info in type(value).model_fields.items():
            yield from _times(getattr(value, name), (*path, info.alias or name))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _times(item, (*path, i))


def _out_of_range(value: Any) -> list[Finding]:
    """Timestamps that exist in their own offset but not in UTC (9999-12-31T23:00:00-05:00)."""
    findings = []
    for path, moment in _times(value):
        try:
            year: int | None = moment.astimezone(UTC).year
        except (OverflowError, ValueError):
            year = None
        if year is None or not FIRST_YEAR <= year <= LAST_YEAR:
            findings.append(Finding(Severity.ERROR, "time-out-of-range",
                                    f"{moment.isoformat()} is outside the years {FIRST_YEAR} to "
                                    f"{LAST_YEAR} (in UTC)", (path,)))
    return findings


# Turns the merged, structurally checked data into the loaded value (or says why it cannot).
Reader = Callable[[dict[str, Any], str], tuple[V | None, list[Diagnostic]]]




def _load(root: FsPath, kind: str, read: Reader[V],
          check: Callable[[V, frozenset[str]], list[Finding]],
          lenient: frozenset[str] = frozenset()) -> Loaded[V]:
    with paused():  # millions of small acyclic values: the cyclic GC would only rescan them
        return _load_paused(root, kind, read, check, lenient)


def _load_paused(root: FsPath, kind: str, read: Reader[V],
                 check: Callable[[V, frozenset[str]], list[Finding]],
                 lenient: frozenset[str]) -> Loaded[V]:
    try:
        root.stat()
    except (OSError, ValueError) as exc:  # a NUL byte is a ValueError; a name too long, EACCES
        missing = isinstance(exc, (FileNotFoundError, NotADirectoryError, ValueError))
        why = "no such file or directory" if missing else (
            getattr(exc, "strerror", None) or type(exc).__name__)
        return Loaded(None, (Diagnostic(Severity.ERROR, "unreadable",
                                        f"{_display(root)}: {why}"),), ())
    listing = scan(root)
    files = listing.files
    if not files:
        return Loaded(None, (*listing.diagnostics, Diagnostic(
            Severity.ERROR, "empty-directory", f"{_display(root)} holds no .yaml or .yml files")),
                      ())
    names = tuple(_display(f) for f in files)
    schema = "org" if kind == "org" else "snapshot"  # an observation is a snapshot, and more
    diagnostics: list[Diagnostic] = list(listing.diagnostics)
    documents: list[Document] = []
    broken: set[tuple[int, str, int]] = set()
    dropped: dict[tuple[int, str, int], frozenset[str]] = {}
    unchecked: set[str] = set()
    for path, name in zip(files, names, strict=True):
        try:
            doc = load_file(path, name)
        except LoadError as exc:
            diagnostics.extend(exc.diagnostics)
            continue
        found = structure.check(_observable(doc.data) if kind == "observation" else doc.data,
                                schema)
        if found:
            diagnostics.extend(_Merged([doc]).place(found))
        items = _broken_items(doc, len(documents), found)
        # A finding outside every list item (a missing version, members: not a list) leaves
        # nothing in the file that the rules could trust; what it declares stays unchecked.
        if all(len(p) >= 2 and p[0] in LIST_KEYS and isinstance(p[1], int)
               for f in found for p in f.paths):
            documents.append(_repair(doc, len(documents), found, schema, items, dropped))
            broken |= items
            unchecked |= _identities((key, doc.data[key][i]) for _, key, i in items)
        else:
            unchecked |= _identities(_all_items(doc.data))
    merged = _Merged(documents, frozenset(broken))
    if kind == "observation":
        diagnostics.extend(merged.place(_settings_findings(merged)))
    value = None
    if documents:
        value, problems = read(merged.data, names[0])
        diagnostics.extend(problems)
    if value is not None:
        findings = merged.conflicts() + _heard(check(value, frozenset(unchecked)), merged,
                                               dropped)
        diagnostics.extend(merged.place([replace(f, severity=Severity.WARNING)
                                         if f.code in lenient else f for f in findings]))
    ordered = tuple(sorted(diagnostics, key=sort_key))
    ok = value is not None and not any(d.severity is Severity.ERROR for d in ordered)
    return Loaded(value if ok else None, ordered, names)


def _org_values(data: dict[str, Any], name: str) -> tuple[OrgValues, list[Diagnostic]]:
    """An org needs no model: the compiled schema has accepted (or repaired) every part."""
    return OrgValues(data), []


def _observable(data: dict[str, Any]) -> dict[str, Any]:
    """A snapshot document without the org file's settings (checked apart: `_settings_findings`)."""
    if not any(key in data for key in SNAPSHOT_SETTINGS):
        return data
    return {k: v for k, v in data.items() if k not in SNAPSHOT_SETTINGS}


def _settings_findings(merged: _Merged) -> list[Finding]:
    """A snapshot's org-file settings: each desired-state key ignored, with a warning where it is
    written; a `timezone` that is no IANA zone refused, as in an org file."""
    findings = [Finding(Severity.WARNING, "ignored-key",
                        f"ignored {key!r}: it describes the desired state, not what is observed "
                        f"in Sessions Health ({why})", ((f"@{d}", KeyOf(key)),))
                for d, doc in enumerate(merged.documents)
                for key, why in DESIRED_ONLY.items() if key in doc.data]
    zone = merged.data.get("timezone")
    if "timezone" in merged.data and not (isinstance(zone, str) and valid_zone(zone)):
        findings.append(Finding(Severity.ERROR, "invalid-timezone",
                                f"timezone {zone!r} is not an IANA time zone name (like "
                                "America/Chicago or Europe/Paris)", (("timezone",),)))
    return findings


def _in_zone(data: dict[str, Any]) -> dict[str, Any]:
    """A snapshot's data without the org file's settings, each local `until` (a date, or a time
    without an offset) made an instant in its `timezone`, as an org file reads it."""
    zone = data.get("timezone")
    data = _observable(data)
    if not isinstance(zone, str) or not valid_zone(zone):
        return data

    def ended(grant: Any) -> Any:
        if not (isinstance(grant, dict) and isinstance(grant.get("until"), str)):
            return grant
        try:
            return {**grant, "until": end_instant(grant["until"], zone)}
        except ValueError:
            return grant  # not a real time: the model says so

    data = dict(data)
    if isinstance(data.get("members"), list):
        data["members"] = [{**m, "full_clinical_access": ended(m["full_clinical_access"])}
                           if isinstance(m, dict) and "full_clinical_access" in m else m
                           for m in data["members"]]
    if isinstance(data.get("clients"), list):
        data["clients"] = [{**c, "access": [ended(g) for g in c["access"]]}
                           if isinstance(c, dict) and isinstance(c.get("access"), list) else c
                           for c in data["clients"]]
    return data


def _snapshot_model(data: dict[str, Any], name: str) -> tuple[Snapshot | None, list[Diagnostic]]:
    from pydantic import ValidationError

    from shsync.model.org import Snapshot

    try:
        return Snapshot.model_validate(_in_zone(data)), []
    except ValidationError as exc:
        return None, _model_errors(exc, name)


def load_org(root: FsPath, now: str | None = None,
             lenient: frozenset[str] = frozenset()) -> Loaded[OrgValues]:
    """Load and check an org file or directory; `now` (an instant) finds access that has
    ended; rules named in `lenient` only warn (onboarding a directory that has no
    administrator yet)."""
    return _load(root, "org", _org_values,
                 lambda org, unchecked: rules.check_org(org.data, unchecked, now), lenient)


def load_snapshot(root: FsPath, observation: bool = False) -> Loaded[Snapshot]:
    """Load and check a practice snapshot (`shsync seed`): timestamps that exist in their own
    offset but not in UTC are refused too. An observation (`shsync refresh`, `observation`)
    reads all an org file may hold, so an export: `prune` and `policy`
    are ignored with an `ignored-key` warning each, and a `timezone` reads the `until`s as in
    an org file."""
    return _load(root, "observation" if observation else "snapshot", _snapshot_model,
                 lambda snapshot, unchecked: _out_of_range(snapshot) + rules.check_snapshot(
                     snapshot, unchecked))


def status_unstated(snapshot: Snapshot) -> frozenset[str]:
    """The members a snapshot lists without a `status` (as an export lists every member): a
    refresh keeps the store's status for them (`shsync.core.observe.observe`'s `unstated`)."""
    return frozenset(m.email for m in snapshot.members if "status" not in m.model_fields_set)

"""The jobs shsync does, as library calls: files -> model -> plan -> backend -> report.

The CLI is a thin layer over these; nothing here prints. User mistakes are raised as `UserError`
(or returned as diagnostics) with messages safe to show: no secrets, no client data beyond ids.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from shsync.backends.base import AuditEntry, Backend, Progress
from shsync.diagnostics import Diagnostic
from shsync.reconcile import access, planner
from shsync.reconcile.authorize import Actor
from shsync.reconcile.plan import InvalidPlan, Plan, from_file
from shsync.reconcile.state import (
    ClientState,
    Desired,
    MemberState,
    PracticeState,
    desired_from_org,
    iso,
    holds,
    state_from_snapshot,
)  # fmt: skip
from shsync.schema.load import load_org, load_snapshot


class UserError(Exception):
    """Something the user can fix; the message says what. Exit code 1, nothing changed."""

    code: str | None = None


class InvalidInput(UserError):
    def __init__(self, diagnostics: tuple[Diagnostic, ...]):
        super().__init__(f"{len(diagnostics)} problem(s) in the input")
        self.diagnostics = diagnostics


def now() -> str:
    """The current time, or SHSYNC_NOW (an ISO time) for tests and demos."""
    fixed = os.environ.get("SHSYNC_NOW")
    if not fixed:
        return iso(datetime.now(UTC))
    try:
        return iso(datetime.fromisoformat(fixed.replace("Z", "+00:00")))
    except ValueError:
        raise UserError(f"SHSYNC_NOW={fixed!r} is not an ISO time like 2026-11-26T12:00:00Z") \
            from None


def actor(email: str | None) -> Actor:
    """The member acting (--actor / SHSYNC_ACTOR), or else the operator holding the backend's
    credentials, with administrator rights."""
    if email:
        return Actor.member(email.strip())
    try:
        return Actor.operator(f"operator:{getpass.getuser()}")
    except (KeyError, OSError):
        return Actor.operator("operator")


@dataclass(frozen=True)
class Planned:
    plan: Plan
    diagnostics: tuple[Diagnostic, ...]  # warnings from the org file


def make_plan(path: Path, backend: Backend, *, at: str, who: Actor,
              options: planner.Options = planner.DEFAULTS) -> Planned:
    loaded = load_org(path)
    if loaded.model is None:
        raise InvalidInput(loaded.diagnostics)
    live = backend.read()
    result = planner.plan(desired_from_org(loaded.model), live, practice=backend.practice,
                          now=at, options=options, actor=who)
    return Planned(result, loaded.diagnostics)


@dataclass(frozen=True)
class Batch:
    number: int
    invited: int  # invitations so far, this run
    pending: int  # invitations still to come
    entry: AuditEntry | None
    final: bool  # the last pass: everything that is not an invitation wave


def apply_in_batches(path: Path, backend: Backend, *, who: Actor, at: str, size: int,
                     options: planner.Options = planner.DEFAULTS,
                     on_batch: Callable[[Batch], None] | None = None) -> list[Batch]:
    """Apply an onboarding as consecutive transactions of `size` invitations each.

    Each wave is planned afresh from the live practice and applied all or nothing, so running
    the same command again after an interruption continues where it stopped and never invites
    anyone twice. A wave invites its members and creates the clients that only need members
    already there; the last pass applies everything else (updates, removals, handoffs).
    """
    loaded = load_org(path)
    if loaded.model is None:
        raise InvalidInput(loaded.diagnostics)
    desired = desired_from_org(loaded.model)
    batches: list[Batch] = []
    invited = 0
    while True:
        live = backend.read()
        pending = [e for e in desired.members if e not in live.members]
        final = not pending
        wave = desired if final else _wave(desired, live, set(pending[:size]))
        result = planner.plan(wave, live, practice=backend.practice, now=at, options=options,
                              actor=who)
        if result.errors:
            raise PlanRefused(result)
        entry = backend.apply(result, actor=who, now=at) if result.operations else None
        invited += 0 if final else min(size, len(pending))
        batch = Batch(len(batches) + 1, invited, max(0, len(pending) - size), entry, final)
        batches.append(batch)
        if on_batch:
            on_batch(batch)
        if final:
            return batches


def _wave(desired: Desired, live: PracticeState, joining: set[str]) -> Desired:
    """The live practice plus one wave of new members and the new clients they make possible."""
    members: dict[str, MemberState] = dict(live.members)
    for email in joining:
        members[email] = desired.members[email]
    for email in joining:
        sup = members[email].supervisor
        if sup is not None and not holds(members, sup, "supervisor"):
            members[email] = replace(members[email], supervisor=None)  # set by a later wave

    clients = {}
    for cid, c in desired.clients.items():
        if cid in live.clients or not holds(members, c.practitioner, "practitioner"):
            continue  # existing clients change in the last pass
        supervisor = c.supervisor if holds(members, c.supervisor, "supervisor") else None
        clients[cid] = ClientState(cid, c.practitioner,
                                   tuple(a for a in c.access if a in members), supervisor)
    return Desired(members, clients, {}, prune=False)


class PlanRefused(UserError):
    def __init__(self, plan: Plan):
        super().__init__("; ".join(f"[{e.code}] {e.message}" for e in plan.errors))
        self.plan = plan


def read_plan_file(path: Path) -> Plan:
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read the plan: {exc}") from None
    try:
        return from_file(text)
    except InvalidPlan as exc:
        error = UserError(f"{path}: error[{exc.code}]: refusing this plan: {exc}")
        error.code = exc.code
        raise error from None


def is_plan_file(path: Path) -> bool:
    """A saved plan is a .json file, or JSON naming its kind; anything else is an org path."""
    if not path.is_file():
        return False
    if path.suffix.lower() == ".json":
        return True
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return head.lstrip().startswith(b"{") and b'"kind": "shsync-plan"' in head


def apply(plan: Plan, backend: Backend, *, who: Actor, at: str,
          progress: Progress | None = None) -> AuditEntry:
    if plan.errors:
        raise UserError("the plan has errors; fix them and make a new plan")
    return backend.apply(plan, actor=who, now=at, progress=progress)


def seed(path: Path, backend: Backend) -> PracticeState:
    loaded = load_snapshot(path)
    if loaded.model is None:
        raise InvalidInput(loaded.diagnostics)
    state = state_from_snapshot(loaded.model)
    backend.seed(state)
    return state


def desired_state(path: Path) -> PracticeState:
    """An org file as the practice it declares (for `shsync access --file`)."""
    loaded = load_org(path)
    if loaded.model is None:
        raise InvalidInput(loaded.diagnostics)
    desired = desired_from_org(loaded.model)
    return PracticeState(dict(desired.members), dict(desired.clients), name=loaded.model.practice)


def access_rows(state: PracticeState, *, client: str | None,
                member: str | None) -> list[access.Row]:
    if client is not None:
        if client not in state.clients:
            raise UserError(f"there is no client {client} in this practice")
        return access.rows_for_client(state, client)
    assert member is not None
    email = member.lower()
    if email not in state.members:
        raise UserError(f"{email} is not a member of this practice")
    return access.rows_for_member(state, email)


SPLIT_ORDER = ("supervisor", "practitioner", "scheduler", "biller")
HEADER = "# Exported by shsync from the live practice. Clients appear by id only.\n"


def export(state: PracticeState) -> str:
    """The live practice as an org file that validates and plans to no changes."""
    doc: dict[str, Any] = {"version": 1}
    if state.name:
        doc["practice"] = state.name
    doc.update(prune=True, members=_export_members(state.members.values()),
               clients=_export_clients(state))
    return HEADER + _yaml(doc)


def export_split(state: PracticeState, directory: Path) -> list[Path]:
    """The live practice as a directory a team can own in parts (CODEOWNERS-friendly):
    `org.yaml` (settings), `members/<role>.yaml` by each member's main role, `clients.yaml`."""
    groups: dict[str, list[MemberState]] = {}
    for m in state.members.values():
        role = next((r for r in SPLIT_ORDER if m.has(r)), "admins")
        groups.setdefault(role + "s" if role != "admins" else role, []).append(m)
    files: dict[Path, dict[str, Any]] = {
        directory / "org.yaml": {"version": 1, **({"practice": state.name} if state.name else {}),
                                 "prune": True}}
    for name, members in sorted(groups.items()):
        files[directory / "members" / f"{name}.yaml"] = {
            "version": 1, "members": _export_members(members)}
    files[directory / "clients.yaml"] = {"version": 1, "clients": _export_clients(state)}
    for path, doc in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(HEADER + _yaml(doc), "utf-8")
    return list(files)


def _yaml(doc: dict[str, Any]) -> str:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(doc, Dumper=dumper, sort_keys=False, allow_unicode=True, width=100)


def _export_members(members: Iterable[MemberState]) -> list[dict[str, Any]]:
    out = []
    for m in sorted(members, key=lambda m: (not m.owner, m.email)):
        item: dict[str, Any] = {"email": m.email, "first_name": m.first_name,
                                "last_name": m.last_name}
        if m.owner:
            item["owner"] = True
        if m.admin:
            item["admin"] = True
        item["roles"] = list(m.roles)
        if m.has("practitioner"):
            for name in ("npi", "taxonomy"):
                if getattr(m, name):
                    item[name] = getattr(m, name)
            if not m.billing_access:
                item["billing_access"] = False
            if m.full_clinical_access:
                item["full_clinical_access"] = True
            if m.supervisor:
                item["supervised_by"] = m.supervisor
        out.append(item)
    return out


def _export_clients(state: PracticeState) -> list[dict[str, Any]]:
    clients = []
    for c in sorted(state.clients.values(), key=lambda c: c.id):
        client: dict[str, Any] = {"id": c.id, "practitioner": c.practitioner}
        if c.access:
            client["access"] = list(c.access)
        if c.supervisor:
            client["supervisor"] = c.supervisor
        clients.append(client)
    return clients

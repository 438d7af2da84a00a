"""The jobs shsync does, as library calls: files -> model -> plan -> backend -> report.

The CLI is a thin layer over these; nothing here prints. User mistakes are raised as `UserError`
(or returned as diagnostics) with messages safe to show: no secrets, no client data beyond ids.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from shsync.backends.base import AuditEntry, Backend, Progress
from shsync.diagnostics import Diagnostic
from shsync.reconcile import access, planner
from shsync.reconcile.authorize import Actor
from shsync.reconcile.plan import InvalidPlan, Plan, from_file
from shsync.reconcile.state import PracticeState, desired_from_org, iso, state_from_snapshot
from shsync.schema.load import load_org, load_snapshot


class UserError(Exception):
    """Something the user can fix; the message says what. Exit code 1, nothing changed."""


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
              options: planner.Options = planner.Options()) -> Planned:
    loaded = load_org(path)
    if loaded.model is None:
        raise InvalidInput(loaded.diagnostics)
    live = backend.read()
    result = planner.plan(desired_from_org(loaded.model), live, practice=backend.practice,
                          now=at, options=options, actor=who)
    return Planned(result, loaded.diagnostics)


def read_plan_file(path: Path) -> Plan:
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read the plan: {exc}") from None
    try:
        return from_file(text)
    except InvalidPlan as exc:
        raise UserError(f"{path}: refusing this plan: {exc}") from None


def is_plan_file(path: Path) -> bool:
    """A saved plan is JSON naming its kind; anything else is taken for an org path."""
    if not path.is_file():
        return False
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


def export(state: PracticeState) -> str:
    """The live practice as an org file that validates and plans to no changes."""
    members = []
    for m in sorted(state.members.values(), key=lambda m: (not m.owner, m.email)):
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
        members.append(item)
    clients = []
    for c in sorted(state.clients.values(), key=lambda c: c.id):
        client: dict[str, Any] = {"id": c.id, "practitioner": c.practitioner}
        if c.access:
            client["access"] = list(c.access)
        if c.supervisor:
            client["supervisor"] = c.supervisor
        clients.append(client)
    doc: dict[str, Any] = {"version": 1}
    if state.name:
        doc["practice"] = state.name
    doc.update(prune=True, members=members, clients=clients)
    header = "# Exported by shsync from the live practice. Clients appear by id only.\n"
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)

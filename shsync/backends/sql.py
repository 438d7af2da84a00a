"""The SQL both backends share: the schema, reading a practice, and applying operations in bulk.

Statements are written once with `?` placeholders in SQL that SQLite and PostgreSQL both accept;
a backend supplies the connection, the transaction (and its lock), and its placeholder style.
Consecutive operations of one action are written with one executemany, so a plan of 200,000
new clients is a handful of round trips, not 200,000.
"""

from __future__ import annotations

import json
import os
import signal
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from itertools import groupby
from typing import Any

from shsync.backends.base import (
    GENESIS,
    AuditEntry,
    BackendError,
    Forbidden,
    NotEmpty,
    Progress,
    StalePlan,
    WrongPractice,
    entry_digest,
)  # fmt: skip
from shsync.reconcile.authorize import Actor, forbidden
from shsync.reconcile.operations import Operation
from shsync.reconcile.plan import Plan
from shsync.reconcile.simulate import simulate, violations
from shsync.reconcile.state import (
    Appointment,
    ClientState,
    MemberState,
    Note,
    PracticeState,
    fingerprint,
)  # fmt: skip

SCHEMA_VERSION = 1
# Test-only: kill this process (SIGKILL) right after the k-th operation of an apply. Nothing
# reads it unless it is set; the crash tests set it to prove an apply is all or nothing.
FAULT_HOOK = "SHSYNC_TEST_KILL_AFTER_OPS"


_ops_done = 0  # operations this process has applied, counted only while the hook is set


def _kill_after() -> int | None:
    value = os.environ.get(FAULT_HOOK)
    return int(value) if value else None


def _fault_point(kill_after: int, count: int) -> None:
    global _ops_done
    _ops_done += count
    if _ops_done >= kill_after:
        os.kill(os.getpid(), signal.SIGKILL)

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS shsync_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS practices (
        practice TEXT PRIMARY KEY, name TEXT)""",
    """CREATE TABLE IF NOT EXISTS members (
        practice TEXT NOT NULL, email TEXT NOT NULL, first_name TEXT NOT NULL,
        last_name TEXT NOT NULL, admin BOOLEAN NOT NULL, owner BOOLEAN NOT NULL, npi TEXT,
        taxonomy TEXT, billing_access BOOLEAN NOT NULL, full_clinical_access BOOLEAN NOT NULL,
        supervisor TEXT, status TEXT NOT NULL, invited_at TEXT, removed_at TEXT,
        PRIMARY KEY (practice, email))""",
    """CREATE TABLE IF NOT EXISTS member_roles (
        practice TEXT NOT NULL, email TEXT NOT NULL, role TEXT NOT NULL,
        PRIMARY KEY (practice, email, role))""",
    """CREATE TABLE IF NOT EXISTS clients (
        practice TEXT NOT NULL, id TEXT NOT NULL, practitioner TEXT NOT NULL, supervisor TEXT,
        PRIMARY KEY (practice, id))""",
    """CREATE TABLE IF NOT EXISTS client_access (
        practice TEXT NOT NULL, client TEXT NOT NULL, member TEXT NOT NULL,
        PRIMARY KEY (practice, client, member))""",
    """CREATE TABLE IF NOT EXISTS appointments (
        practice TEXT NOT NULL, id INTEGER NOT NULL, practitioner TEXT NOT NULL,
        client TEXT NOT NULL, starts_at TEXT NOT NULL, status TEXT NOT NULL,
        PRIMARY KEY (practice, id))""",
    """CREATE TABLE IF NOT EXISTS notes (
        practice TEXT NOT NULL, id INTEGER NOT NULL, author TEXT NOT NULL, client TEXT NOT NULL,
        status TEXT NOT NULL, signed_at TEXT, supervisor TEXT, PRIMARY KEY (practice, id))""",
    """CREATE TABLE IF NOT EXISTS audit (
        practice TEXT NOT NULL, seq INTEGER NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL,
        plan_hash TEXT NOT NULL, fingerprint TEXT NOT NULL, summary TEXT NOT NULL,
        operations TEXT NOT NULL, prev_hash TEXT NOT NULL, entry_hash TEXT NOT NULL,
        PRIMARY KEY (practice, seq))""",
]

_MEMBER_COLUMNS = ("email", "first_name", "last_name", "admin", "owner", "npi", "taxonomy",
                   "billing_access", "full_clinical_access", "supervisor", "status", "invited_at")
_SET_COLUMN = {"set_admin": "admin", "set_billing_access": "billing_access",
               "set_full_clinical_access": "full_clinical_access"}


class SqlBackend(ABC):
    """A practice store over a DB-API connection. Subclasses provide the connection."""

    practice: str
    display_url: str

    # --- what a subclass provides ---------------------------------------------------------
    @abstractmethod
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    @abstractmethod
    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    @abstractmethod
    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    @abstractmethod
    def _transaction(self) -> AbstractContextManager[None]:
        """One atomic unit, serialised against every other writer of this practice."""

    @abstractmethod
    def _snapshot(self) -> AbstractContextManager[None]:
        """A consistent read that does not wait for writers."""

    @abstractmethod
    def close(self) -> None: ...

    # --- schema -------------------------------------------------------------------------------
    def _ensure_schema(self) -> None:
        for statement in SCHEMA:
            self._execute(statement)
        rows = self._query("SELECT value FROM shsync_meta WHERE key = 'schema_version'")
        if not rows:
            self._execute("INSERT INTO shsync_meta (key, value) VALUES ('schema_version', ?)",
                          (str(SCHEMA_VERSION),))
        elif int(rows[0][0]) > SCHEMA_VERSION:
            raise BackendError(
                f"{self.display_url} uses store schema version {rows[0][0]}, newer than this "
                f"shsync understands ({SCHEMA_VERSION}); upgrade shsync rather than risk it")

    # --- reading ------------------------------------------------------------------------------
    def read(self) -> PracticeState:
        with self._snapshot():
            return self._read()

    def _read(self) -> PracticeState:
        p = (self.practice,)
        roles: dict[str, list[str]] = defaultdict(list)
        for email, role in self._query("SELECT email, role FROM member_roles WHERE practice = ?",
                                       p):
            roles[email].append(role)
        members = {}
        for row in self._query(f"SELECT {', '.join(_MEMBER_COLUMNS)} FROM members "
                               "WHERE practice = ? AND status <> 'removed'", p):
            (email, first, last, admin, owner, npi, taxonomy, billing, full, supervisor, status,
             invited_at) = row
            members[email] = MemberState(email, first, last, tuple(sorted(roles[email])),
                                         bool(admin), bool(owner), npi, taxonomy, bool(billing),
                                         bool(full), supervisor, status, invited_at)
        access: dict[str, list[str]] = defaultdict(list)
        for client, member in self._query(
                "SELECT client, member FROM client_access WHERE practice = ?", p):
            access[client].append(member)
        clients = {cid: ClientState(cid, practitioner, tuple(sorted(access[cid])), supervisor)
                   for cid, practitioner, supervisor in self._query(
                       "SELECT id, practitioner, supervisor FROM clients WHERE practice = ?", p)}
        appointments = tuple(Appointment(*row) for row in self._query(
            "SELECT id, practitioner, client, starts_at FROM appointments "
            "WHERE practice = ? AND status = 'scheduled' ORDER BY id", p))
        notes = tuple(Note(*row) for row in self._query(
            "SELECT id, author, client, status, signed_at, supervisor FROM notes "
            "WHERE practice = ? ORDER BY id", p))
        name = self._query("SELECT name FROM practices WHERE practice = ?", p)
        return PracticeState(members, clients, appointments, notes, name[0][0] if name else None)

    # --- seeding ------------------------------------------------------------------------------
    def seed(self, state: PracticeState) -> None:
        with self._transaction():
            held = self._query("SELECT COUNT(*) FROM members WHERE practice = ?",
                               (self.practice,))[0][0]
            held += self._query("SELECT COUNT(*) FROM clients WHERE practice = ?",
                                (self.practice,))[0][0]
            if held:
                raise NotEmpty(f"{self.display_url} already holds practice {self.practice!r}; "
                               "seed only loads an empty one")
            self._insert_state(state)

    def _insert_state(self, state: PracticeState) -> None:
        p = self.practice
        self._execute("INSERT INTO practices (practice, name) VALUES (?, ?) "
                      "ON CONFLICT (practice) DO UPDATE SET name = excluded.name", (p, state.name))
        members = state.members.values()
        self._executemany(
            f"INSERT INTO members (practice, {', '.join(_MEMBER_COLUMNS)}) "
            f"VALUES (?, {', '.join('?' * len(_MEMBER_COLUMNS))})",
            [(p, m.email, m.first_name, m.last_name, m.admin, m.owner, m.npi, m.taxonomy,
              m.billing_access, m.full_clinical_access, m.supervisor, m.status, m.invited_at)
             for m in members])
        self._executemany("INSERT INTO member_roles (practice, email, role) VALUES (?, ?, ?)",
                          [(p, m.email, r) for m in members for r in m.roles])
        clients = state.clients.values()
        self._executemany("INSERT INTO clients (practice, id, practitioner, supervisor) "
                          "VALUES (?, ?, ?, ?)",
                          [(p, c.id, c.practitioner, c.supervisor) for c in clients])
        self._executemany("INSERT INTO client_access (practice, client, member) VALUES (?, ?, ?)",
                          [(p, c.id, m) for c in clients for m in c.access])
        self._executemany("INSERT INTO appointments (practice, id, practitioner, client, "
                          "starts_at, status) VALUES (?, ?, ?, ?, ?, 'scheduled')",
                          [(p, a.id, a.practitioner, a.client, a.starts_at)
                           for a in state.appointments])
        self._executemany("INSERT INTO notes (practice, id, author, client, status, signed_at, "
                          "supervisor) VALUES (?, ?, ?, ?, ?, ?, ?)",
                          [(p, n.id, n.author, n.client, n.status, n.signed_at, n.supervisor)
                           for n in state.notes])

    # --- applying -----------------------------------------------------------------------------
    def apply(self, plan: Plan, *, actor: Actor, now: str,
              progress: Progress | None = None) -> AuditEntry:
        if plan.errors:
            raise BackendError("the plan has errors and cannot be applied")
        if plan.actor != actor.email:
            raise Forbidden(f"the plan was made for {plan.actor or 'the operator'}, not for "
                            f"{actor.email or 'the operator'}; make a new plan as yourself")
        kill_after = _kill_after()
        with self._transaction():
            self._check_current(plan, now, actor)
            done = 0
            for action, group in groupby(plan.operations, key=lambda o: o.action):
                batch = list(group)
                # With the fault hook set, one operation at a time, so it can stop after any.
                for part in ([[o] for o in batch] if kill_after is not None else [batch]):
                    _HANDLERS[action](self, part, now)
                    done += len(part)
                    if kill_after is not None:
                        _fault_point(kill_after, len(part))
                if progress:
                    progress(done)
            return self._audit(plan, actor.name, now)

    def _check_current(self, plan: Plan, now: str, actor: Actor) -> None:
        if plan.practice != self.practice:
            raise WrongPractice(f"the plan was made for practice {plan.practice!r}, not "
                                f"{self.practice!r} at {self.display_url}")
        live = self._read()
        if fingerprint(live) != plan.fingerprint:
            raise StalePlan("the live practice has changed since this plan was made (its "
                            "fingerprint differs); nothing was applied. Make a new plan.")
        # Never trust a plan file blindly: the actor must be allowed every step, and the steps
        # must keep the practice whole.
        refused = forbidden(plan.operations, live, actor)
        if refused:
            raise Forbidden(f"{actor.email} may not apply this plan; nothing was applied: "
                            + "; ".join(refused))
        problems = violations(simulate(live, plan.operations, now), now)
        if problems:
            raise BackendError("the plan would leave the practice broken, so nothing was "
                               f"applied: {problems[0]}")

    def _audit(self, plan: Plan, actor: str, now: str) -> AuditEntry:
        last = self._query("SELECT seq, entry_hash FROM audit WHERE practice = ? "
                           "ORDER BY seq DESC LIMIT 1", (self.practice,))
        seq, prev = (last[0][0] + 1, last[0][1]) if last else (1, GENESIS)
        operations = [o.to_dict() for o in plan.operations]
        summary = plan.summary.to_dict()
        body = {"seq": seq, "at": now, "actor": actor, "plan_hash": plan.digest(),
                "fingerprint": plan.fingerprint, "summary": summary, "operations": operations,
                "outcome": "applied", "prev_hash": prev}
        entry_hash = entry_digest(body)
        self._execute("INSERT INTO audit (practice, seq, at, actor, plan_hash, fingerprint, "
                      "summary, operations, prev_hash, entry_hash) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      (self.practice, seq, now, actor, body["plan_hash"], plan.fingerprint,
                       json.dumps(summary), json.dumps(operations), prev, entry_hash))
        return AuditEntry(seq, now, actor, body["plan_hash"], plan.fingerprint, summary,
                          operations, prev, entry_hash)

    def history(self) -> list[AuditEntry]:
        with self._snapshot():
            rows = self._query("SELECT seq, at, actor, plan_hash, fingerprint, summary, "
                               "operations, prev_hash, entry_hash FROM audit WHERE practice = ? "
                               "ORDER BY seq", (self.practice,))
        return [AuditEntry(seq, at, actor, ph, fp, json.loads(summary), json.loads(ops), prev, eh)
                for seq, at, actor, ph, fp, summary, ops, prev, eh in rows]

    # --- one handler per action, each taking a batch ------------------------------------------
    def _invite(self, ops: list[Operation], now: str) -> None:
        p = self.practice
        self._executemany("DELETE FROM member_roles WHERE practice = ? AND email = ?",
                          [(p, o.target) for o in ops])
        updates = ", ".join(f"{c} = excluded.{c}" for c in _MEMBER_COLUMNS[1:])
        self._executemany(
            f"INSERT INTO members (practice, {', '.join(_MEMBER_COLUMNS)}, removed_at) "
            f"VALUES (?, {', '.join('?' * len(_MEMBER_COLUMNS))}, NULL) "
            f"ON CONFLICT (practice, email) DO UPDATE SET {updates}, removed_at = NULL",
            [(p, o.target, o.get("first_name"), o.get("last_name"), o.get("admin"), False,
              o.get("npi"), o.get("taxonomy"), o.get("billing_access"),
              o.get("full_clinical_access"), None, "invited", now) for o in ops])
        self._executemany("INSERT INTO member_roles (practice, email, role) VALUES (?, ?, ?)",
                          [(p, o.target, r) for o in ops for r in o.get("roles")])

    def _update(self, ops: list[Operation], now: str) -> None:
        by_field: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for o in ops:
            for name, (_, new) in o.get("changes"):
                by_field[name].append((new, self.practice, o.target))
        for name, rows in sorted(by_field.items()):
            self._executemany(f"UPDATE members SET {name} = ? WHERE practice = ? AND email = ?",
                              rows)

    def _grant_role(self, ops: list[Operation], now: str) -> None:
        self._executemany("INSERT INTO member_roles (practice, email, role) VALUES (?, ?, ?)",
                          [(self.practice, o.target, o.get("role")) for o in ops])

    def _revoke_role(self, ops: list[Operation], now: str) -> None:
        self._executemany("DELETE FROM member_roles WHERE practice = ? AND email = ? AND role = ?",
                          [(self.practice, o.target, o.get("role")) for o in ops])

    def _set_flag(self, ops: list[Operation], now: str) -> None:
        column = _SET_COLUMN[ops[0].action]
        self._executemany(f"UPDATE members SET {column} = ? WHERE practice = ? AND email = ?",
                          [(o.get(column), self.practice, o.target) for o in ops])

    def _set_supervisor(self, ops: list[Operation], now: str) -> None:
        p = self.practice
        self._executemany("UPDATE members SET supervisor = ? WHERE practice = ? AND email = ?",
                          [(o.get("supervisor"), p, o.target) for o in ops])
        self._executemany(
            "UPDATE notes SET supervisor = ? WHERE practice = ? AND author = ? "
            "AND status = 'awaiting_signature' AND client NOT IN (SELECT id FROM clients "
            "WHERE practice = ? AND supervisor IS NOT NULL)",
            [(o.get("supervisor"), p, o.target, p) for o in ops])

    def _create_client(self, ops: list[Operation], now: str) -> None:
        p = self.practice
        self._executemany("INSERT INTO clients (practice, id, practitioner, supervisor) "
                          "VALUES (?, ?, ?, ?)",
                          [(p, o.target, o.get("practitioner"), o.get("supervisor")) for o in ops])
        self._executemany("INSERT INTO client_access (practice, client, member) VALUES (?, ?, ?)",
                          [(p, o.target, m) for o in ops for m in o.get("access")])

    def _reassign_client(self, ops: list[Operation], now: str) -> None:
        self._executemany("UPDATE clients SET practitioner = ? WHERE practice = ? AND id = ?",
                          [(o.get("practitioner"), self.practice, o.target) for o in ops])

    def _set_client_supervisor(self, ops: list[Operation], now: str) -> None:
        p = self.practice
        self._executemany("UPDATE clients SET supervisor = ? WHERE practice = ? AND id = ?",
                          [(o.get("supervisor"), p, o.target) for o in ops])
        self._executemany(
            "UPDATE notes SET supervisor = COALESCE(?, (SELECT m.supervisor FROM members m "
            "WHERE m.practice = notes.practice AND m.email = notes.author)) "
            "WHERE practice = ? AND client = ? AND status = 'awaiting_signature'",
            [(o.get("supervisor"), p, o.target) for o in ops])

    def _grant_access(self, ops: list[Operation], now: str) -> None:
        self._executemany("INSERT INTO client_access (practice, client, member) VALUES (?, ?, ?)",
                          [(self.practice, o.target, o.get("member")) for o in ops])

    def _revoke_access(self, ops: list[Operation], now: str) -> None:
        self._executemany("DELETE FROM client_access WHERE practice = ? AND client = ? "
                          "AND member = ?",
                          [(self.practice, o.target, o.get("member")) for o in ops])

    def _handoff_notes(self, ops: list[Operation], now: str) -> None:
        self._executemany("UPDATE notes SET author = ? WHERE practice = ? AND author = ? "
                          "AND status = 'incomplete'",
                          [(o.get("to"), self.practice, o.target) for o in ops])

    def _remove_member(self, ops: list[Operation], now: str) -> None:
        p = self.practice
        # Marked removed, never deleted: authorship of signed notes stays.
        self._executemany("UPDATE members SET status = 'removed', removed_at = ? "
                          "WHERE practice = ? AND email = ?", [(now, p, o.target) for o in ops])
        self._executemany("UPDATE members SET supervisor = NULL WHERE practice = ? "
                          "AND supervisor = ?", [(p, o.target) for o in ops])
        self._executemany("UPDATE appointments SET status = 'cancelled' WHERE practice = ? "
                          "AND practitioner = ? AND starts_at > ? AND status = 'scheduled'",
                          [(p, o.target, now) for o in ops])


_HANDLERS: dict[str, Callable[[SqlBackend, list[Operation], str], None]] = {
    "invite_member": SqlBackend._invite,
    "update_member": SqlBackend._update,
    "grant_role": SqlBackend._grant_role,
    "revoke_role": SqlBackend._revoke_role,
    "set_admin": SqlBackend._set_flag,
    "set_billing_access": SqlBackend._set_flag,
    "set_full_clinical_access": SqlBackend._set_flag,
    "set_supervisor": SqlBackend._set_supervisor,
    "create_client": SqlBackend._create_client,
    "reassign_client": SqlBackend._reassign_client,
    "set_client_supervisor": SqlBackend._set_client_supervisor,
    "grant_access": SqlBackend._grant_access,
    "revoke_access": SqlBackend._revoke_access,
    "handoff_notes": SqlBackend._handoff_notes,
    "remove_member": SqlBackend._remove_member,
}


"""The SQL both backends share: the schema, reading a practice, and applying operations in bulk.

Statements are written once with `?` placeholders in SQL that SQLite and PostgreSQL both accept;
a backend supplies the connection, the transaction (and its lock), and its placeholder style.
Consecutive operations of one action are written with one executemany, so a plan of 200,000
new clients is a handful of round trips, not 200,000.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from itertools import groupby
from typing import Any

from shsync.core.approvals import OpenPlan, PlanRow
from shsync.core.entry import AuditEntry
from shsync.core.runbook import Step
from shsync.stores.base import BackendError, Progress, Store
from shsync.errors import NoPractice
from shsync.core.tokens import TokenRecord
from shsync.core.operations import Operation, is_instant
from shsync.model.vocabulary import DEADLINE_KINDS, MAX_BREAK_GLASS_MINUTES, MAX_DEADLINE_MINUTES
from shsync.core.state import (
    Appointment,
    ClientState,
    End,
    MemberState,
    Note,
    PracticeState,
)  # fmt: skip

SCHEMA_VERSION = 10
# API tokens for `shsync serve` (shsync/core/tokens.py): never the secret, only its hash. As
# version 5 made the table; version 8 adds why a token was revoked.
_TOKENS_5 = """CREATE TABLE IF NOT EXISTS tokens (
        practice TEXT NOT NULL, id TEXT NOT NULL, actor TEXT NOT NULL, operator BOOLEAN NOT NULL,
        scope TEXT NOT NULL, secret_hash TEXT NOT NULL, created_at TEXT NOT NULL,
        created_by TEXT NOT NULL, expires_at TEXT, revoked_at TEXT, PRIMARY KEY (practice, id))"""
REMOVED = "the member was removed from the practice"  # why their tokens were revoked
_TOKENS = _TOKENS_5.replace("revoked_at TEXT,", "revoked_at TEXT, revoked_reason TEXT,")

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS shsync_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS practices (
        practice TEXT PRIMARY KEY, name TEXT, approvals TEXT, break_glass TEXT,
        head_seq INTEGER, head_hash TEXT, fingerprint TEXT, deadlines TEXT)""",
    """CREATE TABLE IF NOT EXISTS members (
        practice TEXT NOT NULL, email TEXT NOT NULL, first_name TEXT NOT NULL,
        last_name TEXT NOT NULL, admin BOOLEAN NOT NULL, owner BOOLEAN NOT NULL, npi TEXT,
        taxonomy TEXT, billing_access BOOLEAN NOT NULL, full_clinical_access BOOLEAN NOT NULL,
        supervisor TEXT, status TEXT NOT NULL, invited_at TEXT, removed_at TEXT, cosign TEXT,
        clinical_ends_at TEXT, clinical_end_reason TEXT,
        PRIMARY KEY (practice, email))""",
    """CREATE TABLE IF NOT EXISTS member_roles (
        practice TEXT NOT NULL, email TEXT NOT NULL, role TEXT NOT NULL,
        PRIMARY KEY (practice, email, role))""",
    """CREATE TABLE IF NOT EXISTS clients (
        practice TEXT NOT NULL, id TEXT NOT NULL, practitioner TEXT NOT NULL, supervisor TEXT,
        PRIMARY KEY (practice, id))""",
    """CREATE TABLE IF NOT EXISTS client_access (
        practice TEXT NOT NULL, client TEXT NOT NULL, member TEXT NOT NULL,
        ends_at TEXT, end_reason TEXT, break_glass BOOLEAN,
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
        kind TEXT, written_at TEXT, result TEXT, details TEXT,
        PRIMARY KEY (practice, seq))""",
    _TOKENS,
]
# Stored plans and their approvals (the two-person rule), scoped by practice like every table,
# as version 4 made them; version 8 adds when and why a store refused a plan as stale.
_STORED_PLANS_4 = """CREATE TABLE IF NOT EXISTS stored_plans (
        practice TEXT NOT NULL, id TEXT NOT NULL, plan_hash TEXT NOT NULL, plan TEXT NOT NULL,
        author TEXT, created_at TEXT NOT NULL, applied_entry INTEGER,
        PRIMARY KEY (practice, id))"""
PLAN_TABLES = [
    _STORED_PLANS_4,
    "CREATE INDEX IF NOT EXISTS stored_plans_by_hash ON stored_plans (practice, plan_hash)",
    """CREATE TABLE IF NOT EXISTS plan_approvals (
        practice TEXT NOT NULL, plan_id TEXT NOT NULL, approver TEXT NOT NULL,
        at TEXT NOT NULL, PRIMARY KEY (practice, plan_id, approver))""",
]
SCHEMA += [_STORED_PLANS_4.replace("applied_entry INTEGER,", "applied_entry INTEGER, "
                                    "refused_at TEXT, refused_code TEXT,"), *PLAN_TABLES[1:]]
# Runbook steps (shsync/core/runbook.py): what a person must still do in Sessions Health, written
# in each apply's transaction; `access` holds the step's access rows as JSON.
_RUNBOOK = """CREATE TABLE IF NOT EXISTS runbook_steps (
        practice TEXT NOT NULL, id INTEGER NOT NULL, entry INTEGER NOT NULL,
        actions TEXT NOT NULL, member TEXT, client TEXT, step TEXT NOT NULL,
        effect TEXT NOT NULL, recorded_at TEXT NOT NULL, due TEXT NOT NULL, waits_for TEXT,
        access TEXT NOT NULL, state TEXT NOT NULL, by_whom TEXT, at TEXT, note TEXT,
        confirmed_in INTEGER, PRIMARY KEY (practice, id))"""
_RUNBOOK_INDEX = ("CREATE INDEX IF NOT EXISTS runbook_steps_by_state "
                  "ON runbook_steps (practice, state, id)")
SCHEMA += [_RUNBOOK, _RUNBOOK_INDEX]
_STEP_COLUMNS = ("id", "entry", "actions", "member", "client", "step", "effect", "recorded_at",
                 "due", "waits_for", "access", "state", "by_whom", "at", "note", "confirmed_in")
# Upgrades of a store made by an older shsync, by the version they lead to.
MIGRATIONS = {
    2: ["ALTER TABLE members ADD COLUMN cosign TEXT",
        "ALTER TABLE audit ADD COLUMN kind TEXT",
        "ALTER TABLE audit ADD COLUMN written_at TEXT",
        "ALTER TABLE audit ADD COLUMN result TEXT",
        "ALTER TABLE audit ADD COLUMN details TEXT"],
    # Access that ends by itself: time-bound grants, emergency access, full clinical access.
    3: ["ALTER TABLE client_access ADD COLUMN ends_at TEXT",
        "ALTER TABLE client_access ADD COLUMN end_reason TEXT",
        "ALTER TABLE client_access ADD COLUMN break_glass BOOLEAN",
        "ALTER TABLE members ADD COLUMN clinical_ends_at TEXT",
        "ALTER TABLE members ADD COLUMN clinical_end_reason TEXT"],
    # The two-person rule: the practice's approvals policy, stored plans, approvals.
    4: ["ALTER TABLE practices ADD COLUMN approvals TEXT", *PLAN_TABLES],
    # API tokens for `shsync serve`.
    5: [_TOKENS_5],
    # Who may break glass, and for how long, as the practice keeps it (policy.break_glass).
    6: ["ALTER TABLE practices ADD COLUMN break_glass TEXT"],
    # The log's head as the practice last recorded it, written with each entry (`_append`): a
    # deleted tail whose effects cancel out (a break-glass and its expiry) no longer hides.
    7: ["ALTER TABLE practices ADD COLUMN head_seq INTEGER",
        "ALTER TABLE practices ADD COLUMN head_hash TEXT"],
    # Why a token was revoked (a removed member's tokens are revoked with the removal), and a
    # stored plan the store refused as stale (`shsync plans` shows it so).
    8: ["ALTER TABLE tokens ADD COLUMN revoked_reason TEXT",
        "ALTER TABLE stored_plans ADD COLUMN refused_at TEXT",
        "ALTER TABLE stored_plans ADD COLUMN refused_code TEXT"],
    # The live practice's fingerprint, written by every seed and apply in its transaction, so a
    # plan need not hash 200,000 clients (`Store.read_fingerprinted`). Upgraded stores hold
    # NULL until their next change: plans hash what they read meanwhile.
    9: ["ALTER TABLE practices ADD COLUMN fingerprint TEXT"],
    # Runbook steps: changes recorded before the upgrade have none (their entries say so).
    # and the practice's deadlines for them (policy.deadlines).
    10: [_RUNBOOK, _RUNBOOK_INDEX, "ALTER TABLE practices ADD COLUMN deadlines TEXT"],
}

_MEMBER_COLUMNS = ("email", "first_name", "last_name", "admin", "owner", "npi", "taxonomy",
                   "billing_access", "full_clinical_access", "supervisor", "status", "invited_at",
                   "cosign", "clinical_ends_at", "clinical_end_reason")
_AUDIT_COLUMNS = ("seq", "at", "actor", "plan_hash", "fingerprint", "summary", "operations",
                  "prev_hash", "entry_hash", "kind", "written_at", "result", "details")
_TOKEN_COLUMNS = ("id", "practice", "actor", "operator", "scope", "secret_hash", "created_at",
                  "created_by", "expires_at", "revoked_at", "revoked_reason")
_SET_COLUMN = {"set_admin": "admin", "set_billing_access": "billing_access"}


def _by_member(end: End) -> str:
    return end.member


Handler = Callable[["SqlBackend", list[Operation], str], None]
# The SQL that carries out each action, by the action's name: every action of the registry has
# one (tests/stores/test_contract.py), registered beside its method with `@_handles`.
HANDLERS: dict[str, Handler] = {}


def _handles(*actions: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for action in actions:
            if action in HANDLERS:
                raise ValueError(f"action {action} has two SQL handlers")
            HANDLERS[action] = handler
        return handler
    return register


class SqlBackend(Store, ABC):
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
    def _snapshot(self) -> AbstractContextManager[None]:
        """A consistent read that does not wait for writers."""

    @abstractmethod
    def close(self) -> None: ...

    # --- schema -------------------------------------------------------------------------------
    def _ensure_schema(self, create: bool = True) -> None:
        """Create, check or upgrade the schema; without `create`, the store and this practice
        must exist already (`NoPractice` otherwise), and nothing is created."""
        rows = []
        if self._has_table("shsync_meta"):
            rows = self._query("SELECT value FROM shsync_meta WHERE key = 'schema_version'")
        elif not create:
            raise self._no_practice()
        version = rows[0][0] if rows else None
        if version is not None and not re.fullmatch(r"[0-9]{1,9}", str(version)):
            raise BackendError(f"{self.display_url}: the store's schema version "
                               f"{str(version)[:40]!r} is not a number; it was not written by "
                               "shsync", "bad-store")
        if version is not None and int(version) > SCHEMA_VERSION:
            raise BackendError(
                f"{self.display_url} uses store schema version {version}, newer than this "
                f"shsync understands ({SCHEMA_VERSION}); upgrade shsync rather than risk it")
        if version is not None and int(version) < SCHEMA_VERSION:
            for target in range(int(version) + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS.get(target, ()):
                    self._execute(statement)
            if 5 <= int(version) < 8:
                # Before version 8 a removal left its member's tokens valid: revoke them now,
                # or a member added again later would find an old token working again.
                self._execute("UPDATE tokens SET revoked_at = ?, revoked_reason = ? WHERE "
                              "revoked_at IS NULL AND NOT operator AND EXISTS (SELECT 1 FROM "
                              "members WHERE members.practice = tokens.practice AND "
                              "members.email = tokens.actor AND members.status = 'removed')",
                              (self._clock(), REMOVED))
            self._execute("UPDATE shsync_meta SET value = ? WHERE key = 'schema_version'",
                          (str(SCHEMA_VERSION),))
        elif create:
            self._create_schema(version)
        if not create and not self._holds_practice():
            raise self._no_practice()

    def _no_practice(self) -> NoPractice:
        return NoPractice(f"no practice {self.practice!r} at {self.display_url} (`shsync seed` "
                          "or `shsync apply` creates one)")

    def _holds_practice(self) -> bool:
        p = (self.practice,)
        return bool(self._query("SELECT 1 FROM practices WHERE practice = ?", p)
                    or self._query("SELECT 1 FROM audit WHERE practice = ? LIMIT 1", p)
                    or self._query("SELECT 1 FROM tokens WHERE practice = ? LIMIT 1", p))

    def _create_schema(self, version: object) -> None:
        for statement in SCHEMA:
            self._execute(self._table(statement))
        if version is None:
            self._execute("INSERT INTO shsync_meta (key, value) VALUES ('schema_version', ?)",
                          (str(SCHEMA_VERSION),))

    @abstractmethod
    def _has_table(self, name: str) -> bool: ...

    def _table(self, statement: str) -> str:
        """A schema statement as this database creates it (its own storage options)."""
        return statement

    # --- reading ------------------------------------------------------------------------------
    def read(self) -> PracticeState:
        with self._snapshot():
            return self._read()

    def read_fingerprinted(self) -> tuple[PracticeState, str]:
        with self._snapshot():
            return self._read_fingerprinted()

    def read_fingerprinted_at_head(self) -> tuple[tuple[PracticeState, str],
                                                  tuple[int, str] | None]:
        """`read_fingerprinted` and the audit entry it is the result of, in one snapshot."""
        with self._snapshot():
            return self._read_fingerprinted(), self._last_entry()

    def cache_key(self) -> tuple[tuple[int, str] | None, str | None]:
        """The log's head and the kept fingerprint, in one snapshot: what a reader that reuses
        the practice it read (the server's `CachedReads`) compares before reusing it."""
        with self._snapshot():
            return self._last_entry(), self._kept_fingerprint()

    def _kept_fingerprint(self) -> str | None:
        rows = self._query("SELECT fingerprint FROM practices WHERE practice = ?",
                           (self.practice,))
        return str(rows[0][0]) if rows and rows[0][0] is not None else None

    def _keep_fingerprint(self, value: str | None, *, only_if: str | None = None) -> None:
        if only_if is None:
            self._execute("INSERT INTO practices (practice, fingerprint) VALUES (?, ?) "
                          "ON CONFLICT (practice) DO UPDATE SET fingerprint = "
                          "excluded.fingerprint", (self.practice, value))
        else:  # forget a kept value only while it is still the one found wrong
            self._execute("UPDATE practices SET fingerprint = ? WHERE practice = ? AND "
                          "fingerprint = ?", (value, self.practice, only_if))

    def read_at_head(self) -> tuple[PracticeState, tuple[int, str] | None]:
        """The live practice and the audit entry it is the result of, in one snapshot."""
        with self._snapshot():
            return self._read(), self._last_entry()

    def head(self) -> tuple[int, str] | None:
        """(seq, hash) of the newest audit entry: every change shsync makes appends one."""
        with self._snapshot():
            return self._last_entry()

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
             invited_at, cosign, clinical_until, clinical_reason) = row
            invited_at = self._instant(invited_at, f"{email}'s invited_at")
            clinical_until = self._instant(clinical_until,
                                           f"the end of {email}'s full clinical access")
            members[email] = MemberState(email, first, last, tuple(sorted(roles[email])),
                                         bool(admin), bool(owner), npi, taxonomy, bool(billing),
                                         bool(full), supervisor, status, invited_at,
                                         tuple(cosign.split(",")) if cosign else (),
                                         clinical_until, clinical_reason)
        # At L, 300k grants and 200k clients: the grants are read as two columns, their few
        # ends apart, and a client without grants or ends costs no list (bench/notes.md).
        access: dict[str, list[str]] = {}
        for client, member in self._query(
                "SELECT client, member FROM client_access WHERE practice = ?", p):
            held = access.get(client)
            if held is None:
                access[client] = [member]
            else:
                held.append(member)
        ends: dict[str, list[End]] = defaultdict(list)
        for client, member, until, reason, emergency in self._query(
                "SELECT client, member, ends_at, end_reason, break_glass FROM client_access "
                "WHERE practice = ? AND ends_at IS NOT NULL", p):
            until = self._instant(until, f"the end of {member}'s access to client {client}")
            ends[client].append(End(member, str(until), reason, bool(emergency)))
        clients = {}
        for cid, practitioner, supervisor in self._query(
                "SELECT id, practitioner, supervisor FROM clients WHERE practice = ?", p):
            held, ending = access.get(cid), ends.get(cid)
            clients[cid] = ClientState(
                cid, practitioner, tuple(sorted(held)) if held else (), supervisor,
                tuple(sorted(ending, key=_by_member)) if ending else ())
        appointments = tuple(Appointment(*row) for row in self._query(
            "SELECT id, practitioner, client, starts_at FROM appointments "
            "WHERE practice = ? AND status = 'scheduled' ORDER BY id", p))
        notes = tuple(Note(*row) for row in self._query(
            "SELECT id, author, client, status, signed_at, supervisor FROM notes "
            "WHERE practice = ? ORDER BY id", p))
        name = self._query("SELECT name FROM practices WHERE practice = ?", p)
        return PracticeState(members, clients, appointments, notes, name[0][0] if name else None,
                             self._read_policy(), self._read_glass_policy(),
                             self._read_deadlines())

    def _instant(self, value: Any, what: str) -> str | None:
        """A time the store holds, as shsync writes it (`2026-11-26T12:00:00Z`), or bad-store:
        one changed outside shsync (`garbage`, a year `1`, an offset) would compare as text
        with every other, so an end that can never come would keep access for ever, and an
        export would write an org file that fails `validate`."""
        if value is None or is_instant(value):
            return str(value) if value is not None else None
        raise BackendError(f"{self.display_url}: {what} is {str(value)[:40]!r}, not a time "
                           "shsync writes (like 2026-11-26T12:00:00Z); it was not written by "
                           "shsync", "bad-store")

    def _read_policy(self) -> tuple[tuple[str, int], ...]:
        rows = self._query("SELECT approvals FROM practices WHERE practice = ?",
                           (self.practice,))
        if not rows or not rows[0][0]:
            return ()
        try:
            return tuple(sorted((str(k), int(n)) for k, n in json.loads(rows[0][0]).items()))
        except (ValueError, TypeError, AttributeError):
            raise BackendError(f"{self.display_url}: the practice's approvals policy is "
                               "damaged", "bad-store") from None

    def _read_deadlines(self) -> tuple[tuple[str, int], ...]:
        rows = self._query("SELECT deadlines FROM practices WHERE practice = ?",
                           (self.practice,))
        if not rows or not rows[0][0]:
            return ()
        try:
            found = tuple(sorted((str(k), int(n)) for k, n in json.loads(rows[0][0]).items()))
        except (ValueError, TypeError, AttributeError):
            found = (("", 0),)
        if not all(k in DEADLINE_KINDS and 1 <= n <= MAX_DEADLINE_MINUTES for k, n in found):
            raise BackendError(f"{self.display_url}: the practice's runbook deadlines are "
                               "damaged", "bad-store")
        return found

    def _read_glass_policy(self) -> tuple[tuple[str, ...], int] | None:
        rows = self._query("SELECT break_glass FROM practices WHERE practice = ?",
                           (self.practice,))
        if not rows or not rows[0][0]:
            return None
        try:
            data = json.loads(rows[0][0])
            who, minutes = tuple(str(w) for w in data["who"]), int(data["max_minutes"])
        except (ValueError, TypeError, KeyError, AttributeError):
            who, minutes = (), 0
        if not who or not 0 < minutes <= MAX_BREAK_GLASS_MINUTES:
            raise BackendError(f"{self.display_url}: the practice's break-glass policy is "
                               "damaged", "bad-store")
        return who, minutes

    # --- seeding ------------------------------------------------------------------------------
    def _held(self) -> bool:
        p = (self.practice,)
        return bool(self._query("SELECT COUNT(*) FROM members WHERE practice = ?", p)[0][0]
                    or self._query("SELECT COUNT(*) FROM clients WHERE practice = ?", p)[0][0])

    def _insert_state(self, state: PracticeState) -> None:
        p = self.practice
        policy = json.dumps(dict(state.approval_policy)) if state.approval_policy else None
        deadlines = json.dumps(dict(state.deadline_policy)) if state.deadline_policy else None
        self._execute("INSERT INTO practices (practice, name, approvals, break_glass, deadlines) "
                      "VALUES (?, ?, ?, ?, ?) ON CONFLICT (practice) DO UPDATE SET "
                      "name = excluded.name, approvals = excluded.approvals, "
                      "break_glass = excluded.break_glass, deadlines = excluded.deadlines",
                      (p, state.name, policy, _glass_json(state.break_glass_policy), deadlines))
        members = state.members.values()
        self._executemany(
            f"INSERT INTO members (practice, {', '.join(_MEMBER_COLUMNS)}) "
            f"VALUES (?, {', '.join('?' * len(_MEMBER_COLUMNS))})",
            [(p, m.email, m.first_name, m.last_name, m.admin, m.owner, m.npi, m.taxonomy,
              m.billing_access, m.full_clinical_access, m.supervisor, m.status, m.invited_at,
              _cosign(m.cosign), m.clinical_until, m.clinical_reason) for m in members])
        self._executemany("INSERT INTO member_roles (practice, email, role) VALUES (?, ?, ?)",
                          [(p, m.email, r) for m in members for r in m.roles])
        clients = state.clients.values()
        self._insert_clients([(c.id, c.practitioner, c.supervisor) for c in clients])
        self._insert_access([(c.id, m, c.end_of(m)) for c in clients for m in c.access])
        self._executemany("INSERT INTO appointments (practice, id, practitioner, client, "
                          "starts_at, status) VALUES (?, ?, ?, ?, ?, 'scheduled')",
                          [(p, a.id, a.practitioner, a.client, a.starts_at)
                           for a in state.appointments])
        self._executemany("INSERT INTO notes (practice, id, author, client, status, signed_at, "
                          "supervisor) VALUES (?, ?, ?, ?, ?, ?, ?)",
                          [(p, n.id, n.author, n.client, n.status, n.signed_at, n.supervisor)
                           for n in state.notes])

    # --- applying (core.admit has admitted the operations) -----------------------------------
    def _write(self, operations: Sequence[Operation], now: str,
               progress: Progress | None) -> None:
        self._execute("INSERT INTO practices (practice) VALUES (?) ON CONFLICT (practice) "
                      "DO NOTHING", (self.practice,))
        done = 0
        for action, group in groupby(operations, key=lambda o: o.action):
            batch = list(group)
            HANDLERS[action](self, batch, now)
            done += len(batch)
            if progress:
                progress(done)

    # --- the audit log ------------------------------------------------------------------------
    def _last_entry(self) -> tuple[int, str] | None:
        last = self._query("SELECT seq, entry_hash FROM audit WHERE practice = ? "
                           "ORDER BY seq DESC LIMIT 1", (self.practice,))
        return (int(last[0][0]), str(last[0][1])) if last else None

    def _entry_for_plan(self, plan_hash: str) -> int | None:
        rows = self._query("SELECT seq FROM audit WHERE practice = ? AND plan_hash = ? "
                           "ORDER BY seq DESC LIMIT 1", (self.practice, plan_hash))
        return int(rows[0][0]) if rows else None

    def _append(self, e: AuditEntry, operations_json: str | None = None) -> None:
        ops = json.dumps(e.operations) if operations_json is None else operations_json
        self._execute(f"INSERT INTO audit (practice, {', '.join(_AUDIT_COLUMNS)}) "
                      f"VALUES (?, {', '.join('?' * len(_AUDIT_COLUMNS))})",
                      (self.practice, e.seq, e.at, e.actor, e.plan_hash, e.fingerprint,
                       json.dumps(e.summary), ops, e.prev_hash, e.entry_hash,
                       e.kind, e.written_at, e.result, json.dumps(e.details)))
        # The practice's anchor: the head it last wrote, in the same transaction as the entry.
        self._execute("INSERT INTO practices (practice, head_seq, head_hash) VALUES (?, ?, ?) "
                      "ON CONFLICT (practice) DO UPDATE SET head_seq = excluded.head_seq, "
                      "head_hash = excluded.head_hash", (self.practice, e.seq, e.entry_hash))

    def history(self, after: int = 0, limit: int | None = None) -> list[AuditEntry]:
        """The audit log, oldest first; `after`/`limit`: a page of it, the entries after that
        seq (a SIEM's cursor), at most `limit` of them."""
        with self._snapshot():
            return self._history(after, limit)

    # --- runbook steps --------------------------------------------------------------------------
    def _insert_steps(self, steps: Sequence[Step]) -> None:
        self._executemany(
            f"INSERT INTO runbook_steps (practice, {', '.join(_STEP_COLUMNS)}) "
            f"VALUES (?, {', '.join('?' * len(_STEP_COLUMNS))})",
            [(self.practice, s.id, s.entry, json.dumps(list(s.actions)), s.member, s.client,
              s.text, s.effect, s.recorded_at, s.due, s.waits_for, json.dumps(s.access),
              s.state, s.by, s.at, s.note, s.confirmed_in) for s in steps])

    def _last_step_id(self) -> int:
        rows = self._query("SELECT MAX(id) FROM runbook_steps WHERE practice = ?",
                           (self.practice,))
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0

    def _steps(self, ids: Sequence[int] | None = None, *,
               pending_only: bool = False) -> list[Step]:
        where, params = "practice = ?", [self.practice]
        if pending_only:
            where += " AND state = 'pending'"
        if ids is not None:
            found: list[Step] = []
            for i in range(0, len(ids), 500):  # under every driver's parameter limit
                part = list(ids[i:i + 500])
                found += self._step_rows(f"{where} AND id IN ({', '.join('?' * len(part))})",
                                         [*params, *part])
            return sorted(found, key=lambda s: s.id)
        return self._step_rows(where, params)

    def _step_rows(self, where: str, params: Sequence[Any]) -> list[Step]:
        rows = self._query(f"SELECT {', '.join(_STEP_COLUMNS)} FROM runbook_steps "
                           f"WHERE {where} ORDER BY id", params)
        try:
            return [Step(int(r[0]), int(r[1]), tuple(json.loads(r[2])), r[3], r[4], str(r[5]),
                         str(r[6]), str(r[7]), str(r[8]), r[9],
                         tuple(tuple(a) for a in json.loads(r[10])),
                         str(r[11]), r[12], r[13], r[14],
                         None if r[15] is None else int(r[15])) for r in rows]
        except (TypeError, ValueError) as exc:
            raise BackendError(f"{self.display_url}: a runbook step is damaged ({exc})",
                               "bad-store") from None

    def _mark_steps(self, ids: Sequence[int], *, how: str, by: str, at: str,
                    note: str | None, entry: int) -> None:
        self._executemany("UPDATE runbook_steps SET state = ?, by_whom = ?, at = ?, note = ?, "
                          "confirmed_in = ? WHERE practice = ? AND id = ? AND state = 'pending'",
                          [(how, by, at, note, entry, self.practice, i) for i in ids])

    def anchored_history(self) -> tuple[list[AuditEntry], tuple[int, str] | None]:
        """The log and the head the practice row recorded (None: a store whose practice has
        written no entry since it learned to keep one), read in one snapshot."""
        with self._snapshot():
            return self._history(), self._anchor()

    def head_anchor(self) -> tuple[int, str] | None:
        with self._snapshot():
            return self._anchor()

    def _anchor(self) -> tuple[int, str] | None:
        rows = self._query("SELECT head_seq, head_hash FROM practices WHERE practice = ?",
                           (self.practice,))
        if not rows or rows[0][0] is None or rows[0][1] is None:
            return None
        try:
            return int(rows[0][0]), str(rows[0][1])
        except (TypeError, ValueError):
            raise BackendError(f"{self.display_url}: the practice's recorded log head is "
                               "damaged", "bad-store") from None

    def _history(self, after: int = 0, limit: int | None = None) -> list[AuditEntry]:
        page = f" LIMIT {int(limit)}" if limit is not None else ""
        rows = self._query(f"SELECT {', '.join(_AUDIT_COLUMNS)} FROM audit "
                           f"WHERE practice = ? AND seq > ? ORDER BY seq{page}",
                           (self.practice, int(after)))
        try:
            return [AuditEntry(seq, at, actor, ph, fp, json.loads(summary), json.loads(ops), prev,
                               eh, kind=kind, written_at=written, result=result,
                               details=json.loads(details) if details else {})
                    for (seq, at, actor, ph, fp, summary, ops, prev, eh, kind, written, result,
                         details) in rows]
        except (ValueError, TypeError) as exc:
            raise BackendError(f"{self.display_url}: the audit log is damaged: {exc}"[:300]) \
                from None

    # --- stored plans and approvals -----------------------------------------------------------
    def _insert_plan(self, plan_id: str, plan_hash: str, text: str, author: str | None,
                     created_at: str) -> None:
        self._execute("INSERT INTO stored_plans (practice, id, plan_hash, plan, author, "
                      "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                      (self.practice, plan_id, plan_hash, text, author, created_at))

    def _plan_row(self, plan_id: str) -> PlanRow | None:
        rows = self._query("SELECT plan_hash, plan, author, created_at, applied_entry, "
                           "refused_at FROM stored_plans WHERE practice = ? AND id = ?",
                           (self.practice, plan_id))
        if not rows:
            return None
        plan_hash, text, author, created_at, applied, refused = rows[0]
        return PlanRow(str(plan_hash), str(text), None if author is None else str(author),
                       str(created_at), None if applied is None else int(applied),
                       None if refused is None else str(refused))

    def _mark_refused(self, plan_id: str, code: str, at: str) -> None:
        self._execute("UPDATE stored_plans SET refused_at = ?, refused_code = ? "
                      "WHERE practice = ? AND id = ? AND refused_at IS NULL",
                      (at, code, self.practice, plan_id))

    def _plan_ids(self) -> list[str]:
        return [str(r[0]) for r in self._query(
            "SELECT id FROM stored_plans WHERE practice = ? ORDER BY created_at, id",
            (self.practice,))]

    def _open_plans(self) -> list[OpenPlan]:
        return [OpenPlan(str(i), str(h), str(text), None if author is None else str(author))
                for i, h, text, author in self._query(
                    "SELECT id, plan_hash, plan, author FROM stored_plans WHERE practice = ? "
                    "AND applied_entry IS NULL AND refused_at IS NULL ORDER BY created_at, id",
                    (self.practice,))]

    def _plan_for_hash(self, plan_hash: str) -> str | None:
        rows = self._query("SELECT id FROM stored_plans WHERE practice = ? AND plan_hash = ? "
                           "ORDER BY id LIMIT 1", (self.practice, plan_hash))
        return str(rows[0][0]) if rows else None

    def _approvals(self, plan_id: str) -> list[tuple[str, str]]:
        return [(str(e), str(at)) for e, at in self._query(
            "SELECT approver, at FROM plan_approvals WHERE practice = ? AND plan_id = ? "
            "ORDER BY at, approver", (self.practice, plan_id))]

    def _insert_approval(self, plan_id: str, approver: str, at: str) -> None:
        self._execute("INSERT INTO plan_approvals (practice, plan_id, approver, at) "
                      "VALUES (?, ?, ?, ?)", (self.practice, plan_id, approver, at))

    def _mark_applied(self, plan_id: str, seq: int) -> None:
        self._execute("UPDATE stored_plans SET applied_entry = ? WHERE practice = ? AND id = ?",
                      (seq, self.practice, plan_id))

    # --- API tokens (shsync/core/tokens.py) -------------------------------------------------------
    def add_token(self, record: TokenRecord) -> None:
        with self._transaction():
            self._execute(f"INSERT INTO tokens ({', '.join(_TOKEN_COLUMNS)}) "
                          f"VALUES ({', '.join('?' * len(_TOKEN_COLUMNS))})",
                          tuple(getattr(record, c) for c in _TOKEN_COLUMNS))

    def token(self, token_id: str) -> tuple[TokenRecord, str | None] | None:
        """The token and its member's status, in one query (every request asks)."""
        with self._snapshot():
            rows = self._query(
                f"SELECT {', '.join('t.' + c for c in _TOKEN_COLUMNS)}, m.status FROM tokens t "
                "LEFT JOIN members m ON m.practice = t.practice AND m.email = t.actor "
                "AND NOT t.operator WHERE t.practice = ? AND t.id = ?", (self.practice, token_id))
        if not rows:
            return None
        return _token(rows[0][:-1]), rows[0][-1]

    def tokens(self) -> list[TokenRecord]:
        with self._snapshot():
            rows = self._query(f"SELECT {', '.join(_TOKEN_COLUMNS)} FROM tokens "
                               "WHERE practice = ? ORDER BY created_at, id", (self.practice,))
        return [_token(row) for row in rows]

    def revoke_token(self, token_id: str, at: str, reason: str | None = None) -> bool:
        """Revoke a token of this practice; False when there is no such token. Revoking a
        revoked token keeps its first revocation time and reason."""
        with self._transaction():
            found = self._query("SELECT revoked_at FROM tokens WHERE practice = ? AND id = ?",
                                (self.practice, token_id))
            if not found:
                return False
            if found[0][0] is None:
                self._execute("UPDATE tokens SET revoked_at = ?, revoked_reason = ? "
                              "WHERE practice = ? AND id = ?",
                              (at, reason, self.practice, token_id))
            return True

    # --- one handler per action, each taking a batch ------------------------------------------
    @_handles("invite_member")
    def _sql_invite(self, ops: list[Operation], now: str) -> None:
        p = self.practice
        self._executemany("DELETE FROM member_roles WHERE practice = ? AND email = ?",
                          [(p, o.target) for o in ops])
        updates = ", ".join(f"{c} = excluded.{c}" for c in _MEMBER_COLUMNS[1:])
        self._executemany(
            f"INSERT INTO members (practice, {', '.join(_MEMBER_COLUMNS)}, removed_at) "
            f"VALUES (?, {', '.join('?' * len(_MEMBER_COLUMNS))}, NULL) "
            f"ON CONFLICT (practice, email) DO UPDATE SET {updates}, removed_at = NULL",
            [(p, o.target, o.get("first_name"), o.get("last_name"), o.get("admin"),
              bool(o.get("owner")), o.get("npi"), o.get("taxonomy"), o.get("billing_access"),
              o.get("full_clinical_access"), None, o.get("status") or "invited",
              None if o.get("owner") else now, None, None, None) for o in ops])
        self._executemany("INSERT INTO member_roles (practice, email, role) VALUES (?, ?, ?)",
                          [(p, o.target, r) for o in ops for r in o.get("roles")])

    @_handles("update_member")
    def _sql_update_member(self, ops: list[Operation], now: str) -> None:
        by_field: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for o in ops:
            for name, (_, new) in o.get("changes"):
                by_field[name].append((new, self.practice, o.target))
        for name, rows in sorted(by_field.items()):
            self._executemany(f"UPDATE members SET {name} = ? WHERE practice = ? AND email = ?",
                              rows)

    @_handles("grant_role")
    def _sql_grant_role(self, ops: list[Operation], now: str) -> None:
        self._executemany("INSERT INTO member_roles (practice, email, role) VALUES (?, ?, ?)",
                          [(self.practice, o.target, o.get("role")) for o in ops])

    @_handles("revoke_role")
    def _sql_revoke_role(self, ops: list[Operation], now: str) -> None:
        self._executemany("DELETE FROM member_roles WHERE practice = ? AND email = ? AND role = ?",
                          [(self.practice, o.target, o.get("role")) for o in ops])

    @_handles("set_admin", "set_billing_access")
    def _sql_set_flag(self, ops: list[Operation], now: str) -> None:
        column = _SET_COLUMN[ops[0].action]
        self._executemany(f"UPDATE members SET {column} = ? WHERE practice = ? AND email = ?",
                          [(o.get(column), self.practice, o.target) for o in ops])

    @_handles("set_supervisor")
    def _sql_set_supervisor(self, ops: list[Operation], now: str) -> None:
        p = self.practice
        self._executemany("UPDATE members SET supervisor = ? WHERE practice = ? AND email = ?",
                          [(o.get("supervisor"), p, o.target) for o in ops])
        self._executemany("UPDATE members SET cosign = NULL WHERE practice = ? AND email = ?",
                          [(p, o.target) for o in ops if o.get("supervisor") is None])
        # Notes awaiting signature follow a new supervisor (a client's own supervisor wins);
        # when supervision ends they stay with whoever was to sign them.
        self._executemany(
            "UPDATE notes SET supervisor = ? WHERE practice = ? AND author = ? "
            "AND status = 'awaiting_signature' AND client NOT IN (SELECT id FROM clients "
            "WHERE practice = ? AND supervisor IS NOT NULL)",
            [(o.get("supervisor"), p, o.target, p) for o in ops if o.get("supervisor")])

    @_handles("set_cosign")
    def _sql_set_cosign(self, ops: list[Operation], now: str) -> None:
        self._executemany("UPDATE members SET cosign = ? WHERE practice = ? AND email = ?",
                          [(_cosign(o.get("cosign")), self.practice, o.target) for o in ops])

    @_handles("accept_invitation")
    def _sql_accept_invitation(self, ops: list[Operation], now: str) -> None:
        self._executemany("UPDATE members SET status = 'active' WHERE practice = ? AND email = ?",
                          [(self.practice, o.target) for o in ops])

    @_handles("set_practice_name")
    def _sql_set_practice_name(self, ops: list[Operation], now: str) -> None:
        self._executemany("UPDATE practices SET name = ? WHERE practice = ?",
                          [(o.get("name"), self.practice) for o in ops])

    @_handles("set_policy")
    def _sql_set_policy(self, ops: list[Operation], now: str) -> None:
        self._executemany("UPDATE practices SET approvals = ? WHERE practice = ?",
                          [(json.dumps(dict(o.get("approvals"))) if o.get("approvals") else None,
                            self.practice) for o in ops])

    @_handles("set_break_glass_policy")
    def _sql_set_break_glass_policy(self, ops: list[Operation], now: str) -> None:
        self._executemany("UPDATE practices SET break_glass = ? WHERE practice = ?",
                          [(_glass_json((tuple(o.get("who")), o.get("max_minutes"))),
                            self.practice) for o in ops])

    @_handles("set_deadline_policy")
    def _sql_set_deadline_policy(self, ops: list[Operation], now: str) -> None:
        self._executemany("UPDATE practices SET deadlines = ? WHERE practice = ?",
                          [(json.dumps(dict(o.get("deadlines"))) if o.get("deadlines") else None,
                            self.practice) for o in ops])

    @_handles("handoff_signatures")
    def _sql_handoff_signatures(self, ops: list[Operation], now: str) -> None:
        self._executemany("UPDATE notes SET supervisor = ? WHERE practice = ? AND supervisor = ? "
                          "AND status = 'awaiting_signature'",
                          [(o.get("to"), self.practice, o.target) for o in ops])

    @_handles("create_client")
    def _sql_create_client(self, ops: list[Operation], now: str) -> None:
        self._insert_clients([(o.target, o.get("practitioner"), o.get("supervisor"))
                              for o in ops])
        self._insert_access([(o.target, m, None) for o in ops for m in o.get("access")])

    @_handles("reassign_client")
    def _sql_reassign_client(self, ops: list[Operation], now: str) -> None:
        self._executemany("UPDATE clients SET practitioner = ? WHERE practice = ? AND id = ?",
                          [(o.get("practitioner"), self.practice, o.target) for o in ops])

    @_handles("set_client_supervisor")
    def _sql_set_client_supervisor(self, ops: list[Operation], now: str) -> None:
        p = self.practice
        self._executemany("UPDATE clients SET supervisor = ? WHERE practice = ? AND id = ?",
                          [(o.get("supervisor"), p, o.target) for o in ops])
        self._executemany(
            "UPDATE notes SET supervisor = COALESCE(?, (SELECT m.supervisor FROM members m "
            "WHERE m.practice = notes.practice AND m.email = notes.author "
            "AND m.status <> 'removed'), notes.supervisor) "
            "WHERE practice = ? AND client = ? AND status = 'awaiting_signature'",
            [(o.get("supervisor"), p, o.target) for o in ops])

    # Rows whose optional columns are all NULL leave them out of the INSERT, to their default
    # (NULL): SQLite inserts such rows faster than the same rows with NULLs bound (600k access
    # rows 2.7 -> 1.6 s, bench/notes.md), and most clients have no own supervisor and most
    # access no end.
    def _insert_clients(self, rows: Sequence[tuple[str, str, str | None]]) -> None:
        p = self.practice
        self._executemany("INSERT INTO clients (practice, id, practitioner) VALUES (?, ?, ?)",
                          [(p, cid, treating) for cid, treating, signing in rows
                           if signing is None])
        self._executemany("INSERT INTO clients (practice, id, practitioner, supervisor) "
                          "VALUES (?, ?, ?, ?)",
                          [(p, cid, treating, signing) for cid, treating, signing in rows
                           if signing is not None])

    def _insert_access(self, rows: Sequence[tuple[str, str, End | None]]) -> None:
        p = self.practice
        self._executemany("INSERT INTO client_access (practice, client, member) VALUES (?, ?, ?)",
                          [(p, cid, who) for cid, who, end in rows if end is None])
        self._executemany(
            "INSERT INTO client_access (practice, client, member, ends_at, end_reason, "
            "break_glass) VALUES (?, ?, ?, ?, ?, ?)",
            [(p, cid, who, end.until, end.reason, end.break_glass) for cid, who, end in rows
             if end is not None])

    @_handles("grant_access")
    def _sql_grant_access(self, ops: list[Operation], now: str) -> None:
        self._insert_access([(o.target, o.get("member"), _end(o)) for o in ops])

    @_handles("break_glass")
    def _sql_break_glass(self, ops: list[Operation], now: str) -> None:
        self._insert_access([(o.target, o.get("member"), _end(o, True)) for o in ops])

    @_handles("set_access_end")
    def _sql_set_access_end(self, ops: list[Operation], now: str) -> None:
        self._executemany(
            "UPDATE client_access SET ends_at = ?, end_reason = ?, break_glass = NULL "
            "WHERE practice = ? AND client = ? AND member = ?",
            [(o.get("until"), o.get("reason") if o.get("until") else None, self.practice,
              o.target, o.get("member")) for o in ops])

    @_handles("set_full_clinical_access")
    def _sql_set_clinical(self, ops: list[Operation], now: str) -> None:
        self._executemany(
            "UPDATE members SET full_clinical_access = ?, clinical_ends_at = ?, "
            "clinical_end_reason = ? WHERE practice = ? AND email = ?",
            [(o.get("full_clinical_access"), *((o.get("until"), o.get("reason"))
              if o.get("full_clinical_access") else (None, None)), self.practice, o.target)
             for o in ops])

    @_handles("revoke_access")
    def _sql_revoke_access(self, ops: list[Operation], now: str) -> None:
        self._executemany("DELETE FROM client_access WHERE practice = ? AND client = ? "
                          "AND member = ?",
                          [(self.practice, o.target, o.get("member")) for o in ops])

    @_handles("handoff_notes")
    def _sql_handoff_notes(self, ops: list[Operation], now: str) -> None:
        self._executemany("UPDATE notes SET author = ? WHERE practice = ? AND author = ? "
                          "AND status = 'incomplete'",
                          [(o.get("to"), self.practice, o.target) for o in ops])

    @_handles("remove_member")
    def _sql_remove_member(self, ops: list[Operation], now: str) -> None:
        p = self.practice
        # Marked removed, never deleted: authorship of signed notes stays.
        self._executemany("UPDATE members SET status = 'removed', removed_at = ? "
                          "WHERE practice = ? AND email = ?", [(now, p, o.target) for o in ops])
        self._executemany("UPDATE members SET supervisor = NULL, cosign = NULL "
                          "WHERE practice = ? AND supervisor = ?", [(p, o.target) for o in ops])
        self._executemany("UPDATE appointments SET status = 'cancelled' WHERE practice = ? "
                          "AND practitioner = ? AND starts_at > ? AND status = 'scheduled'",
                          [(p, o.target, now) for o in ops])
        # Their tokens end with them, in this same transaction: a member added again later
        # gets new tokens, never the old ones back.
        self._executemany("UPDATE tokens SET revoked_at = ?, revoked_reason = ? "
                          "WHERE practice = ? AND actor = ? AND NOT operator "
                          "AND revoked_at IS NULL",
                          [(self._clock(), REMOVED, p, o.target) for o in ops])


def _end(o: Operation, break_glass: bool = False) -> End | None:
    until = o.get("until")
    return End(o.get("member"), until, o.get("reason"), break_glass) if until else None


def _token(row: Sequence[Any]) -> TokenRecord:
    fields = dict(zip(_TOKEN_COLUMNS, row, strict=True))
    return TokenRecord(**{**fields, "operator": bool(fields["operator"])})


def _cosign(items: Sequence[str]) -> str | None:
    return ",".join(items) if items else None


def _glass_json(policy: tuple[tuple[str, ...], int] | None) -> str | None:
    if policy is None:
        return None
    return json.dumps({"who": list(policy[0]), "max_minutes": policy[1]})

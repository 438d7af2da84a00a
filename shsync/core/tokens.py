"""API tokens: who a request to `shsync serve` is, and what it may ask for.

A token is `shs_<id>_<secret>`: a public id (the key it is found by) and 32 random bytes. The
store keeps only `sha256(secret)`, so a copy of the store yields no usable token, and the
presented secret's hash is compared with `hmac.compare_digest`, in constant time. Each token
belongs to one practice and names who it acts as: a member (the usual case: the member's own
rights, checked by the same code as the CLI's `--actor`), or the operator (a service identity
with the rights of whoever holds the store's credentials: only the operator, who holds them,
can create one). Its scope bounds what it may ask for, whatever the member may do:

    read  < plan  < apply  < admin

`read`: the practice, access, history, stored plans. `plan`: also make and store plans.
`apply`: also apply stored plans, approve, record acceptances, refreshes and reviews.
`admin`: also seed an empty practice. A revoked or expired token fails at once.

Nothing here does I/O: the store is passed in (`TokenStore`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from shsync.core.authorize import Actor  # noqa: F401 - re-exported for callers
from shsync.core.state import PracticeState, iso
from shsync.errors import InsufficientScope, Unauthorized, UserError

PREFIX = "shs_"
SCOPES = ("read", "plan", "apply", "admin")
DEFAULT_EXPIRY = "90d"
MAX_DAYS = 3660
_TOKEN = re.compile(r"^shs_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
_EXPIRY = re.compile(r"^([0-9]{1,20})([dh])$")
# The practices a server answers for (`/practices/NAME`): a token for any other is never usable.
PRACTICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@dataclass(frozen=True)
class TokenRecord:
    """A token as the store keeps it: never its secret."""

    id: str
    practice: str
    actor: str  # a member's email, or the operator's name
    operator: bool  # True: acts with the operator's rights
    scope: str
    secret_hash: str  # "sha256:<hex>"
    created_at: str
    created_by: str
    expires_at: str | None = None
    revoked_at: str | None = None
    revoked_reason: str | None = None  # e.g. the member was removed (in that transaction)

    def status(self, now: str) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "valid"

    def as_actor(self) -> Actor:
        return Actor.operator(self.actor) if self.operator else Actor.member(self.actor)

    def public(self, now: str) -> dict[str, object]:
        """What `token list` shows: everything but the hash."""
        return {"id": self.id, "practice": self.practice, "actor": self.actor,
                "operator": self.operator, "scope": self.scope, "created_at": self.created_at,
                "created_by": self.created_by, "expires_at": self.expires_at,
                "revoked_at": self.revoked_at, "revoked_reason": self.revoked_reason,
                "status": self.status(now)}


class TokenStore(Protocol):
    """What a store offers for tokens (the SQL stores; a remote server keeps its own)."""

    practice: str

    def add_token(self, record: TokenRecord) -> None: ...

    def read(self) -> PracticeState: ...

    def token(self, token_id: str) -> tuple[TokenRecord, str | None] | None:
        """The token with this id in this practice, and its member's status (None: no such
        member, or an operator token)."""

    def tokens(self) -> list[TokenRecord]: ...

    def revoke_token(self, token_id: str, at: str, reason: str | None = None) -> bool: ...


@dataclass(frozen=True)
class Identity:
    """Who a request acts as, and within what scope."""

    token_id: str
    actor: Actor
    scope: str

    def allows(self, needed: str) -> bool:
        return SCOPES.index(self.scope) >= SCOPES.index(needed)

    def require(self, needed: str, what: str) -> None:
        if not self.allows(needed):
            raise InsufficientScope(f"this token's scope is {self.scope}; {what} needs scope "
                                    f"{needed} or more")


def digest(secret: bytes) -> str:
    return "sha256:" + hashlib.sha256(secret).hexdigest()


def new_secret() -> tuple[str, str, bytes]:
    """(token text, id, secret bytes) for a new token."""
    token_id = secrets.token_hex(8)
    raw = secrets.token_bytes(32)
    text = PREFIX + token_id + "_" + base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return text, token_id, raw


def parse(text: str) -> tuple[str, bytes]:
    """(id, secret) of a presented token; Unauthorized when it is not one."""
    match = _TOKEN.match(text.strip())
    if match is None:
        raise Unauthorized("the bearer token is not an shsync token (shs_...)")
    raw = base64.urlsafe_b64decode(match.group(2) + "=")
    if base64.urlsafe_b64encode(raw).decode().rstrip("=") != match.group(2):
        raise Unauthorized("the bearer token is not an shsync token (shs_...)")  # non-canonical
    return match.group(1), raw


def expiry(text: str, now: datetime) -> str | None:
    """`90d`, `12h` or `never` -> the instant the token stops working (None: never)."""
    if text.strip().lower() == "never":
        return None
    match = _EXPIRY.match(text.strip().lower())
    if match is None:
        raise UserError(f"--expires {text[:40]!r} is not like 90d, 12h or never", "usage")
    count, unit = int(match.group(1)), match.group(2)
    hours = count * 24 if unit == "d" else count  # compared as a number: timedelta overflows
    if hours <= 0 or hours > MAX_DAYS * 24:
        raise UserError(f"--expires {text[:40]!r}: between 1h and {MAX_DAYS}d, or never",
                        "usage")
    length = timedelta(hours=hours)
    return iso(now + length)


def check_practice_name(name: str) -> None:
    if not PRACTICE_NAME.fullmatch(name):
        raise UserError(f"practice {name[:100]!r} is not a name `shsync serve` answers for: "
                        "1-100 letters, digits, '.', '_' or '-', first a letter or digit",
                        "bad-practice")


def create(store: TokenStore, *, actor: str, operator: bool, scope: str, expires: str,
           created_by: str, now: datetime) -> tuple[str, TokenRecord]:
    """A new token for the store's practice: (the token, shown once; its record)."""
    if scope not in SCOPES:
        raise UserError(f"unknown scope {scope!r}: one of {', '.join(SCOPES)}", "usage")
    check_practice_name(store.practice)
    name = actor.strip()
    if operator:
        if not re.fullmatch(r"[A-Za-z0-9._@:-]{1,100}", name):
            raise UserError("an operator token's name is 1-100 letters, digits or ._@:-",
                            "usage")
    else:
        name = name.lower()
        if not re.fullmatch(r"[^@\s]{1,64}@[^@\s]{1,190}", name):
            raise UserError(f"--actor {actor[:60]!r} is not an email address", "invalid-email")
        # A token acts as a member: one made for anyone else would start working the day an
        # address of that name joined, past the revocation that removing a member makes.
        if name not in store.read().members:
            raise UserError(f"{name} is not a member of practice {store.practice!r}: a token "
                            "acts as a member (invite them first), or is a service's "
                            "(`--operator NAME`)", "not-a-member")
    text, token_id, raw = new_secret()
    record = TokenRecord(token_id, store.practice, name, operator, scope, digest(raw), iso(now),
                         created_by, expiry(expires, now))
    store.add_token(record)
    return text, record


def authenticate(store: TokenStore, presented: str | None, now: datetime) -> Identity:
    """The identity a presented bearer token stands for in the store's practice."""
    if not presented:
        raise Unauthorized("this needs a bearer token (Authorization: Bearer shs_...)")
    token_id, raw = parse(presented)
    found = store.token(token_id)
    # The hash is compared even when no such token exists, so both take the same time.
    expected = found[0].secret_hash if found else digest(b"\0" * 32) + "x"
    if not hmac.compare_digest(digest(raw).encode(), expected.encode()) or found is None:
        raise Unauthorized(f"the token is not valid for practice {store.practice!r}")
    record, member_status = found
    status = record.status(iso(now))
    if status != "valid":
        raise Unauthorized(f"token {record.id} is {status}")
    if not record.operator and member_status != "active":
        raise Unauthorized(f"token {record.id} acts as {record.actor}, who is not an active "
                           f"member of practice {store.practice!r}")
    return Identity(record.id, record.as_actor(), record.scope)

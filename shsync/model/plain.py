"""An org as plain data: what the compiled schema accepted, read without pydantic.

A valid org file is never turned into pydantic models: the loader's dicts and lists go straight
to the rules (shsync/format/rules.py) and to the planner's state (`desired_from_values` in
shsync/core/state.py). At 200,000 clients the models cost a third of a plan's time and
doubled its memory (bench/notes.md). pydantic stays the format's source of truth: it generates
the published schema, and `OrgValues.model()` builds the typed model for whoever wants one.

What the models did besides checking, this module does for plain data: the defaults of absent
keys, emails compared lowercased, whole numbers for counts. `FIELDS` names every key of the
format that the plain path reads; a test holds it equal to the models' fields, so a field added
to the format cannot be dropped here in silence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shsync.model.vocabulary import (
    APPROVAL_KINDS,
    DEADLINE_KINDS,
    DEFAULT_BREAK_GLASS_MAX,
    DEFAULT_BREAK_GLASS_WHO,
    DEFAULT_DEADLINES,
)  # fmt: skip

if TYPE_CHECKING:
    from shsync.model.org import Org

Item = Mapping[str, Any]  # one member, client, grant, handoff ... as the file gives it

# Every key of the org format, by the model it belongs to (their aliases, as files spell them).
FIELDS: dict[str, frozenset[str]] = {
    "Org": frozenset({"version", "practice", "prune", "members", "clients", "handoffs",
                      "timezone", "policy"}),
    "Member": frozenset({"email", "first_name", "last_name", "admin", "owner", "roles", "npi",
                         "taxonomy", "billing_access", "full_clinical_access", "supervised_by",
                         "cosign"}),
    "Client": frozenset({"id", "practitioner", "access", "supervisor"}),
    "Ending": frozenset({"until", "reason"}),
    "Grant": frozenset({"member", "until", "reason"}),
    "Handoff": frozenset({"from", "clients", "notes", "signatures"}),
    "Policy": frozenset({"break_glass", "approvals", "deadlines"}),
    "Deadlines": frozenset(DEADLINE_KINDS),
    "BreakGlass": frozenset({"who", "max"}),
    "Approvals": frozenset(APPROVAL_KINDS),
}


def low(email: str | None) -> str | None:
    """Identities compare case-insensitively: every email read from a file goes through here."""
    return email.lower() if email is not None else None


def grantee(entry: str | Item) -> str:
    """Who a client's access entry names: an email, or a grant's member."""
    return (entry if isinstance(entry, str) else entry["member"]).lower()


def whole(count: Any) -> Any:
    """A count as a whole number: the schema's `integer` also accepts 2.0 (pydantic made it 2)."""
    return int(count) if isinstance(count, float) else count


def break_glass(org: Item) -> tuple[Sequence[str], str] | None:
    """`policy.break_glass` as (who, max) with their defaults, or None when the file is silent."""
    rules = (org.get("policy") or {}).get("break_glass")
    if rules is None:
        return None
    return rules.get("who", DEFAULT_BREAK_GLASS_WHO), rules.get("max", DEFAULT_BREAK_GLASS_MAX)


def approvals(org: Item) -> dict[str, Any] | None:
    """`policy.approvals`, every kind with its count (0 when absent), or None when silent."""
    given = (org.get("policy") or {}).get("approvals")
    if given is None:
        return None
    return {kind: whole(given.get(kind, 0)) for kind in APPROVAL_KINDS}


def deadlines(org: Item) -> dict[str, Any] | None:
    """`policy.deadlines`, every kind with its length (its default when absent), or None when
    the file is silent."""
    given = (org.get("policy") or {}).get("deadlines")
    if given is None:
        return None
    return {kind: given.get(kind, default) for kind, default in DEFAULT_DEADLINES}


@dataclass(frozen=True)
class OrgValues:
    """A checked org (every file merged) as the loader read it: the value `load_org` returns."""

    data: Mapping[str, Any]

    @property
    def members(self) -> Sequence[Item]:
        members: Sequence[Item] = self.data.get("members", ())
        return members

    @property
    def clients(self) -> Sequence[Item]:
        clients: Sequence[Item] = self.data.get("clients", ())
        return clients

    def model(self) -> Org:
        """The same org as pydantic models (imports pydantic; onboarding and tests use it)."""
        from shsync.model.org import Org

        return Org.model_validate(self.data)

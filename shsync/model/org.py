"""The org file format, version 1, as pydantic models.

These models are the single source of truth for the format: the published JSON Schema
(`shsync/format/org.schema.json`) is generated from them, and a test checks the two agree.
Field names here are the product's public contract.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

# The fixed words, patterns and limits live in shsync.model.vocabulary (no pydantic there).
from shsync.model.vocabulary import (  # noqa: F401
    APPROVAL_KINDS, CLIENT_ID_PATTERN, COSIGN, DEADLINE_PATTERN, DEFAULT_BREAK_GLASS_MAX,
    DEFAULT_BREAK_GLASS_WHO,
    EMAIL_MAX, EMAIL_PATTERN, MAX_BREAK_GLASS_MINUTES, NAME_MAX, NPI_PATTERN, PRACTICE_NAME_MAX,
    REASON_MAX, ROLES, TAXONOMY_PATTERN, TIMEZONE_MAX,
)

# Spelled out for type checkers, which read no tuple as a Literal; tests/model/test_vocabulary.py
# holds them equal to ROLES and COSIGN.
Role = Literal["practitioner", "supervisor", "scheduler", "biller", "forms_admin"]
Cosign = Literal["progress_notes", "treatment_plans", "assessments"]

Email = Annotated[
    str,
    Field(pattern=EMAIL_PATTERN, max_length=EMAIL_MAX,
          description="An email address; identities compare case-insensitively."),
]
ClientId = Annotated[
    str,
    Field(pattern=CLIENT_ID_PATTERN,
          description="The practice's client reference (never a name): 1-64 of A-Z a-z 0-9 . _ -"),
]
Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX)]
PracticeName = Annotated[str, Field(min_length=1, max_length=PRACTICE_NAME_MAX)]
TimeZone = Annotated[str, Field(min_length=1, max_length=TIMEZONE_MAX)]
UNTIL_PATTERN = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
                 r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?(Z|[+-][0-9]{2}:[0-9]{2})?)?$")
DURATION_PATTERN = r"^([0-9]+h([0-9]+m)?|[0-9]+m)$"
Until = Annotated[str, Field(
    pattern=UNTIL_PATTERN,
    description="When the access ends: a date (the end of that day in the practice's "
                "timezone) or a time (2027-01-31T17:00, local; or with Z or an offset).")]
Reason = Annotated[str, Field(min_length=1, max_length=REASON_MAX,
                              description="Why the access is given (shown in plans and the "
                                          "audit log).")]


def _lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Ending(_Strict):
    """Access that ends by itself."""

    until: Until
    reason: Reason | SkipJsonSchema[None] = None


class Grant(Ending):
    """A Manage Access grant with an end: {member: x@p.example, until: 2027-01-31, reason: ...}."""

    member: Email

    _lower_member = field_validator("member")(_lower)


class Member(_Strict):
    """A member of the practice (Account Settings > Account > Members)."""

    email: Email
    first_name: Name
    last_name: Name
    admin: bool = Field(False, description="Administrator (false: Basic Member).")
    owner: bool = Field(False, description="The account owner: at most one, an admin; "
                                           "never removed or demoted.")
    roles: list[Role] = Field(default_factory=list, json_schema_extra={"uniqueItems": True},
                              description="Any of practitioner, supervisor, scheduler, biller, "
                                          "forms_admin (Forms Administrator).")
    npi: Annotated[str, Field(pattern=NPI_PATTERN)] | SkipJsonSchema[None] = Field(
        None, description="National Provider Identifier (practitioners only), quoted.")
    taxonomy: Annotated[str, Field(pattern=TAXONOMY_PATTERN)] | SkipJsonSchema[None] = Field(
        None, description="NUCC provider taxonomy code (practitioners only).")
    billing_access: bool | SkipJsonSchema[None] = Field(
        None, description="Practitioners only; default true: view/manage clients' billing "
                          "information, documents, and insights.")
    full_clinical_access: bool | Ending | SkipJsonSchema[None] = Field(
        None, description="Practitioners only; default false: full clinical access to all "
                          "clients within the account; {until: ..., reason: ...} for access "
                          "that ends by itself.")
    supervised_by: Email | SkipJsonSchema[None] = Field(
        None, description="The member's one supervisor (practitioners only).")
    cosign: list[Cosign] | SkipJsonSchema[None] = Field(
        None, json_schema_extra={"uniqueItems": True},
        description="What the supervisor must co-sign: any of progress_notes, treatment_plans, "
                    "assessments (needs supervised_by).")

    _lower_emails = field_validator("email", "supervised_by")(_lower)

    @property
    def is_practitioner(self) -> bool:
        return "practitioner" in self.roles


class Client(_Strict):
    """A client record, by reference only: no names, no clinical data."""

    id: ClientId
    practitioner: Email = Field(description="The assigned (primary) practitioner.")
    access: list[Email | Grant] = Field(
        default_factory=list, description="Other members granted access (Manage Access): an "
                                          "email, or {member, until, reason} for access that "
                                          "ends by itself.")
    supervisor: Email | SkipJsonSchema[None] = Field(
        None, description="Overrides the practitioner's usual supervisor for this client.")

    _lower_emails = field_validator("practitioner", "supervisor")(_lower)

    @field_validator("access")
    @classmethod
    def _lower_access(cls, value: list[str | Grant]) -> list[str | Grant]:
        return [v.lower() if isinstance(v, str) else v for v in value]

    def grantees(self) -> list[str]:
        """The members granted access, in the file's order."""
        return [v if isinstance(v, str) else v.member for v in self.access]


class Handoff(_Strict):
    """Where a removed member's work goes."""

    from_: Email = Field(alias="from", description="The member being removed.")
    clients: Email | SkipJsonSchema[None] = Field(
        None, description="Gets their clients not reassigned under clients:.")
    notes: Email | SkipJsonSchema[None] = Field(
        None, description="Gets their incomplete notes.")
    signatures: Email | SkipJsonSchema[None] = Field(
        None, description="A supervisor who signs the notes still awaiting their signature.")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    _lower_emails = field_validator("from_", "clients", "notes", "signatures")(_lower)


class BreakGlass(_Strict):
    """Who may give themselves emergency access (`shsync break-glass`), and for how long."""

    who: list[str] = Field(
        default_factory=lambda: list(DEFAULT_BREAK_GLASS_WHO),
        json_schema_extra={"uniqueItems": True},
        description="Roles (practitioner, supervisor, ...), admin, or members' emails; active "
                    "members only. Default: practitioners.")
    max: Annotated[str, Field(pattern=DURATION_PATTERN)] = Field(
        DEFAULT_BREAK_GLASS_MAX,
        description="The longest emergency access, like 8h, 90m or 1h30m. Default 8h.")


class Approvals(_Strict):
    """The two-person rule: how many administrators other than a plan's author must approve a
    plan (`shsync approve PLAN_ID`) with such steps before it is applied. 0 or absent: none."""

    widens_access: int = Field(
        0, description="Approvals needed by a plan with a step that widens anyone's access "
                       "(marked [widens access] in a plan).")
    removes_members: int = Field(
        0, description="Approvals needed by a plan that removes a member.")


Deadline = Annotated[str, Field(pattern=DEADLINE_PATTERN)]


class Deadlines(_Strict):
    """How soon each runbook step must be carried out in Sessions Health once shsync has
    recorded the change (`shsync runbook`): like 1h, 3d, 2d12h or 90m, from 1m to 90d. A step
    past its deadline is overdue everywhere it is shown."""

    narrows_access: Deadline = Field("1h", description="A step that takes access away "
                                                        "(a removal, a role or grant ended).")
    widens_access: Deadline = Field("3d", description="A step that gives access.")
    other: Deadline = Field("7d", description="Any other step (a name, an NPI, ...).")


class Policy(_Strict):
    """The practice's policies; each is optional."""

    break_glass: BreakGlass | SkipJsonSchema[None] = Field(
        None, description="Emergency access (default: active practitioners, 8 hours).")
    approvals: Approvals | SkipJsonSchema[None] = Field(
        None, description="The two-person rule, kept by the live practice once applied; absent: "
                          "the live rule stays as it is, {} removes it.")
    deadlines: Deadlines | SkipJsonSchema[None] = Field(
        None, description="Deadlines of runbook steps, kept by shsync's store once applied; "
                          "absent: the store's stay as they are, {} restores the defaults.")


class Org(_Strict):
    """An org file (or one file of an org directory)."""

    version: Literal[1] = Field(description="The file format version; must be 1.")
    practice: PracticeName | SkipJsonSchema[None] = Field(
        None, description="Display name of the practice.")
    prune: bool = Field(True, description="Remove live members that the file does not declare.")
    members: list[Member] = Field(default_factory=list)
    clients: list[Client] = Field(default_factory=list,
                                  description="Clients not listed are left as they are.")
    handoffs: list[Handoff] = Field(default_factory=list)
    timezone: TimeZone | SkipJsonSchema[None] = Field(
        None, description="The practice's IANA time zone (America/Chicago); an until given as a "
                          "date ends at the end of that day there. Default UTC.")
    policy: Policy | SkipJsonSchema[None] = Field(None, description="The practice's policies.")


# --- the snapshot format: an org plus what only the live system knows ------------------------

Status = Literal["active", "invited"]
NoteStatus = Literal["incomplete", "awaiting_signature", "signed"]


class SnapshotMember(Member):
    status: Status = Field("active", description="active, or invited (not yet accepted).")
    invited_at: datetime | SkipJsonSchema[None] = None


class Appointment(_Strict):
    practitioner: Email
    client: ClientId
    starts_at: datetime

    _lower_emails = field_validator("practitioner")(_lower)


class Note(_Strict):
    author: Email
    client: ClientId
    status: NoteStatus
    signed_at: datetime | None = None
    supervisor: Email | SkipJsonSchema[None] = None

    _lower_emails = field_validator("author", "supervisor")(_lower)


class Snapshot(_Strict):
    """A live practice to seed a backend with (`shsync seed`)."""

    version: Literal[1]
    practice: PracticeName | SkipJsonSchema[None] = None
    members: list[SnapshotMember] = Field(default_factory=list)
    clients: list[Client] = Field(default_factory=list)
    appointments: list[Appointment] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)
    handoffs: list[Handoff] = Field(
        default_factory=list, description="shsync refresh only: where the work of members "
                                          "removed in Sessions Health went.")

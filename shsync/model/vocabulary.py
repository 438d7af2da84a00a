"""The org format's fixed words, patterns and limits: each defined here once, without pydantic.

`shsync.model.org` builds the format's pydantic models (and so the published schema) from these;
the rules (shsync/format/rules.py), the planner's state, the plan-file reader
(shsync/core/operations.py) and the action registry read them from here, so a plan file can
hold no value an org file could not, and validating or planning never imports pydantic.
"""

from __future__ import annotations

ROLES: tuple[str, ...] = ("practitioner", "supervisor", "scheduler", "biller", "forms_admin")
COSIGN: tuple[str, ...] = ("progress_notes", "treatment_plans", "assessments")
APPROVAL_KINDS: tuple[str, ...] = ("widens_access", "removes_members")
MAX_BREAK_GLASS_MINUTES = 7 * 24 * 60  # the longest `policy.break_glass.max`: a week
DEFAULT_BREAK_GLASS_WHO: tuple[str, ...] = ("practitioner",)
DEFAULT_BREAK_GLASS_MAX = "8h"
# How soon each kind of runbook step must be carried out in Sessions Health (`policy.deadlines`):
# access taken away, access given, anything else. Defaults: 1h, 3d, 7d; from 1m to 90d.
DEADLINE_KINDS: tuple[str, ...] = ("narrows_access", "widens_access", "other")
DEFAULT_DEADLINES: tuple[tuple[str, str], ...] = (
    ("narrows_access", "1h"), ("widens_access", "3d"), ("other", "7d"))
MAX_DEADLINE_MINUTES = 90 * 24 * 60
DEADLINE_PATTERN = (r"^([0-9]{1,2}d([0-9]{1,4}h)?([0-9]{1,6}m)?|[0-9]{1,4}h([0-9]{1,6}m)?"
                    r"|[0-9]{1,6}m)$")
MAX_DEPTH = 32  # how deeply values of a YAML file may nest (shsync.format.yamlload)

# Patterns and lengths of the format's values. A plan file's steps are held to the same.
EMAIL_PATTERN = (
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
EMAIL_MAX = 254
CLIENT_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
NPI_PATTERN = r"^[12][0-9]{9}$"
TAXONOMY_PATTERN = r"^[0-9]{3}[A-Z0-9]{6}X$"
NAME_MAX = 100  # a member's first or last name
PRACTICE_NAME_MAX = 200
REASON_MAX = 500  # why access is given, a review's note
TIMEZONE_MAX = 64

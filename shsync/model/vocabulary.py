"""The org format's fixed words and limits, without pydantic.

`shsync.model.org` builds the format's pydantic models (and so the published schema) from these; the
plain path (shsync/format/rules.py, shsync/core/state.py) reads them from here, so that
validating or planning a valid file never imports pydantic.
"""

from __future__ import annotations

ROLES: tuple[str, ...] = ("practitioner", "supervisor", "scheduler", "biller", "forms_admin")
COSIGN: tuple[str, ...] = ("progress_notes", "treatment_plans", "assessments")
APPROVAL_KINDS: tuple[str, ...] = ("widens_access", "removes_members")
MAX_BREAK_GLASS_MINUTES = 7 * 24 * 60  # the longest `policy.break_glass.max`: a week
DEFAULT_BREAK_GLASS_WHO: tuple[str, ...] = ("practitioner",)
DEFAULT_BREAK_GLASS_MAX = "8h"
MAX_DEPTH = 32  # how deeply values of a YAML file may nest (shsync.format.yamlload)

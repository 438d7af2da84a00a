"""Every action a plan can hold: the registry (`registry`) and one module per family.

Importing this package registers them all; a new action is one `register(...)` in its family's
module, its place in `registry.ORDER`, and a handler in each store.
"""

from __future__ import annotations

from shsync.core.actions import clients, emergency, members, practice, supervision
from shsync.core.actions.clients import create_problem
from shsync.core.actions.emergency import (
    DEFAULT_BREAK_GLASS,
    may_break_glass,
    policy_text,
    sees_record,
)  # fmt: skip
from shsync.core.actions.registry import (
    ACTIONS,
    COSIGN,
    ORDER,
    PRACTICE,
    ROLES,
    UPDATABLE,
    Action,
    Phase,
    grantees,
    phase,
    precondition,
    register,
    seal,
    widens,
)  # fmt: skip
from shsync.core.actions.supervision import makes_cycle

seal()

__all__ = ["ACTIONS", "COSIGN", "DEFAULT_BREAK_GLASS", "ORDER", "PRACTICE", "ROLES", "UPDATABLE",
           "Action", "Phase", "clients", "create_problem", "emergency", "grantees",
           "makes_cycle", "may_break_glass", "members", "phase", "policy_text", "practice",
           "precondition", "register", "sees_record", "supervision", "widens"]

"""An org read through its pydantic model into the planner's `Desired`: the oracle that the
plain path (`shsync.core.state.desired_from_values`, the one shsync runs) is held equal to.

shsync never builds the model of a valid file (bench/notes.md: a third of an L plan's time);
the model stays the format's source of truth, so the tests compare against it.
"""

from __future__ import annotations

from shsync.core.state import (
    Desired,
    _handoffs,
    approval_policy,
    break_glass_policy,
    client_state,
    deadline_policy,
    member_state,
)  # fmt: skip
from shsync.model.org import Org


def desired_from_org(org: Org) -> Desired:
    return Desired(
        members={m.email: member_state(m, timezone=org.timezone) for m in org.members},
        clients={c.id: client_state(c, org.timezone) for c in org.clients},
        handoffs=_handoffs(org.handoffs),
        prune=org.prune,
        declares_owner=any(m.owner for m in org.members),
        name=org.practice,
        approval_policy=approval_policy(org),
        break_glass_policy=break_glass_policy(org),
        deadline_policy=deadline_policy(org),
    )

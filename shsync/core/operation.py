"""An operation: one step of a plan, as a frozen value and nothing more.

It knows its action's name, its target and its parameters. What the action means (its phase,
whether it widens access, who receives access, how it reads, where a person does it in Sessions
Health) is its registry entry's, in `shsync.core.actions`, looked up by name; this module
imports no registry, so every module of the core can name the type without a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shsync.core.frozen import quick_init


@quick_init
@dataclass(frozen=True, slots=True)
class Operation:
    action: str
    target: str  # a member's email, a client's id, or "practice"
    params: tuple[tuple[str, Any], ...] = ()

    def get(self, name: str, default: Any = None) -> Any:
        for key, value in self.params:
            if key == name:
                return value
        return default

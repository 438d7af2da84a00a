"""shsync: a group therapy practice's organization as code.

The public API for scripts, loaded on first use so that `import shsync` (and every command's
start-up) costs nothing:

    import shsync
    store = shsync.open_backend("sqlite:///.shsync/practice.db")
    app = shsync.Shsync(store, shsync.Actor.member("dana@riverbend.example"))
    planned = app.plan(Path("org/"))

Everything else is internal and may change between releases; `tests/test_public_api.py` pins
this surface.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> the module that defines it
_EXPORTS = {
    "Shsync": "shsync.jobs.app",
    "open_backend": "shsync.stores",
    "Actor": "shsync.core.authorize",
    "Plan": "shsync.core.plan",
    "Operation": "shsync.core.operation",
    "PracticeState": "shsync.core.state",
    "AuditEntry": "shsync.core.entry",
    "ShsyncError": "shsync.errors",
    "UserError": "shsync.errors",
    "BackendError": "shsync.errors",
}

__all__ = ["__version__", "Shsync", "open_backend", "Actor", "Plan", "Operation",
           "PracticeState", "AuditEntry", "ShsyncError", "UserError", "BackendError"]

if TYPE_CHECKING:
    from shsync.core.authorize import Actor
    from shsync.core.entry import AuditEntry
    from shsync.core.operation import Operation
    from shsync.core.plan import Plan
    from shsync.core.state import PracticeState
    from shsync.errors import BackendError, ShsyncError, UserError
    from shsync.jobs.app import Shsync
    from shsync.stores import open_backend


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'shsync' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

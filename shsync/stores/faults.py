"""Test-only faults, armed from the environment when a store is opened, never in its write path.

`SHSYNC_TEST_KILL_AFTER_OPS=k` kills the process (SIGKILL) right after the k-th operation an
apply writes, counted across the process, so the crash tests can prove an apply is all or
nothing (tests/test_faults.py, tests/server/test_shutdown.py). `SHSYNC_TEST_PAUSE_APPLY=s`
holds every apply `s` seconds inside its transaction, so a test can stop a server while an
apply is in flight. `SHSYNC_TEST_KILL_AFTER_STEPS=1` kills it right after the apply has
written its runbook steps, the last thing it writes before its commit. Unset (always, outside
those tests), `arm` leaves the store as it is.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Sequence
from typing import TypeVar

from shsync.core.operations import Operation
from shsync.core.runbook import Step
from shsync.stores.base import Progress, Store

FAULT_HOOK = "SHSYNC_TEST_KILL_AFTER_OPS"
PAUSE_HOOK = "SHSYNC_TEST_PAUSE_APPLY"
STEPS_HOOK = "SHSYNC_TEST_KILL_AFTER_STEPS"

S = TypeVar("S", bound=Store)

_written = 0  # operations this process has written while the kill hook is armed


def arm(store: S) -> S:
    """The store, with the faults the environment asks for wrapped around its `_write`."""
    kill_after = os.environ.get(FAULT_HOOK)
    pause = os.environ.get(PAUSE_HOOK)
    if os.environ.get(STEPS_HOOK):
        insert = store._insert_steps

        def then_kill(steps: Sequence[Step]) -> None:
            insert(steps)
            os.kill(os.getpid(), signal.SIGKILL)

        store._insert_steps = then_kill  # type: ignore[method-assign]
    if not kill_after and not pause:
        return store
    write = store._write

    def faulty(operations: Sequence[Operation], now: str, progress: Progress | None) -> None:
        global _written
        if pause:
            time.sleep(float(pause))
        if not kill_after:
            write(operations, now, progress)
            return
        for done, operation in enumerate(operations, 1):  # one at a time, to stop after any
            write([operation], now, None)
            _written += 1
            if _written >= int(kill_after):
                os.kill(os.getpid(), signal.SIGKILL)
            if progress:
                progress(done)

    store._write = faulty  # type: ignore[method-assign]
    return store

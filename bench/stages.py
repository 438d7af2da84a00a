"""Stage timers of one `shsync plan` in this process: `python bench/stages.py ORG [STORE_URL]`.

Wraps the functions a plan goes through (loading, the schema gate, the plain values or the
models, the rules, the store's read, the fingerprint, the access delta, the planner) and prints,
for each, its CPU time (user+sys of this process, so other jobs on a shared machine do not count)
and the resident memory after it, then the run's peak (max RSS). Nested stages count in their
own line and in their caller's. A script, not a test: nothing is asserted.
"""

from __future__ import annotations

import importlib
import os
import resource
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

# (module, attribute, label); a missing one is skipped (the stage is not on this branch)
STAGES = (
    ("shsync.format.yamlload", "load_file", "YAML load"),
    ("shsync.format.load", "scan", "find files"),
    ("shsync.format.structure", "check", "schema gate"),
    ("shsync.model.plain", "org_values", "plain values"),
    ("shsync.format.rules", "check_org", "rules"),
    ("shsync.format.load", "_out_of_range", "timestamps"),
    ("shsync.core.state", "desired_from_values", "values to state"),
    ("shsync.stores.sql", "SqlBackend.read", "store read"),
    ("shsync.stores.sql", "SqlBackend.read_fingerprinted", "store read (kept fingerprint)"),
    ("shsync.core.planner", "fingerprint", "live fingerprint"),
    ("shsync.core.access", "delta", "access delta"),
    ("shsync.core.planner", "plan", "planner (all)"),
)

spent: dict[str, float] = defaultdict(float)
rss_after: dict[str, float] = {}


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _timed(label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = _cpu()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[label] += _cpu() - started
            rss_after[label] = _rss_mb()
    return wrapper


def _install() -> None:
    for module_name, attribute, label in STAGES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        owner: Any = module
        *parents, name = attribute.split(".")
        for parent in parents:
            owner = getattr(owner, parent, None)
        if owner is None or not hasattr(owner, name):
            continue
        original = getattr(owner, name)
        wrapped = _timed(label, original)
        setattr(owner, name, wrapped)
        # modules that imported it by name hold their own reference: rebind those too
        for other in list(sys.modules.values()):
            if getattr(other, "__name__", "").startswith("shsync") and \
                    getattr(other, name, None) is original:
                setattr(other, name, wrapped)
    # pydantic's validation has no Python frame of its own to wrap: time it where it is called
    try:
        from shsync.model.org import Org
    except ImportError:
        return
    original = Org.model_validate.__func__  # type: ignore[attr-defined]
    Org.model_validate = classmethod(_timed("pydantic", original))  # type: ignore[method-assign]


def main() -> None:
    org = Path(sys.argv[1])
    url = sys.argv[2] if len(sys.argv) > 2 else os.environ["SHSYNC_BACKEND"]
    started = _cpu()
    from shsync.jobs.app import Shsync, actor
    from shsync.stores import open_backend
    from shsync.core.planner import Options
    imports = _cpu() - started
    _install()
    backend = open_backend(url)
    begun = _cpu()
    app = Shsync(backend, actor(None))
    planned = app.plan(org, Options(allow_mass_removal=True, assume_accepted=True))
    total = _cpu() - begun
    print(f"imports {imports:.2f} s CPU")
    for _, _, label in STAGES + (("", "", "pydantic"),):
        if label in spent:
            print(f"{label:30} {spent[label]:6.2f} s CPU   RSS after {rss_after[label]:6.0f} MB")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'plan (total)':30} {total:6.2f} s CPU   peak RSS {peak:6.0f} MB   "
          f"{len(planned.plan.operations)} steps, {time.strftime('%H:%M:%S')}")


if __name__ == "__main__":
    main()

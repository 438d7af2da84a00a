"""The public API a script may rely on: `shsync.__all__`, each name what it says, loaded only
when used, and the package marked as typed (py.typed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import shsync
from tests.conftest import NOW

SURFACE = ["__version__", "Shsync", "open_backend", "Actor", "Plan", "Operation",
           "PracticeState", "AuditEntry", "ShsyncError", "UserError", "BackendError"]


def test_the_surface_is_exactly_these_names():
    assert shsync.__all__ == SURFACE
    assert sorted(dir(shsync)) == sorted(SURFACE)


def test_each_name_is_the_thing_itself():
    from shsync.core.plan import Plan
    from shsync.errors import ShsyncError, UserError
    from shsync.jobs.app import Shsync
    from shsync.stores import open_backend

    assert (shsync.Shsync, shsync.Plan, shsync.open_backend) == (Shsync, Plan, open_backend)
    assert issubclass(shsync.UserError, shsync.ShsyncError) and shsync.UserError is UserError
    assert shsync.ShsyncError is ShsyncError


def test_an_unknown_name_is_an_attribute_error():
    try:
        shsync.planner  # noqa: B018
    except AttributeError as exc:
        assert "no attribute 'planner'" in str(exc)
    else:
        raise AssertionError("shsync.planner should not exist")


def test_importing_the_package_loads_nothing_else():
    code = ("import sys, shsync; print(sorted(m for m in sys.modules "
            "if m.startswith('shsync.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_a_script_plans_through_the_api(tmp_path):
    root = Path(__file__).resolve().parents[1] / "examples"
    store = shsync.open_backend(f"sqlite:///{tmp_path}/p.db", create=True)
    try:
        app = shsync.Shsync(store, shsync.Actor.operator("script"), clock=lambda: NOW)
        app.seed(root / "practice-snapshot.yaml")
        planned = app.plan(root / "org.yaml")
        assert isinstance(planned.plan, shsync.Plan) and planned.plan.operations
        assert all(isinstance(o, shsync.Operation) for o in planned.plan.operations)
    finally:
        store.close()


def test_the_package_says_it_is_typed():
    assert (Path(shsync.__file__).parent / "py.typed").is_file()

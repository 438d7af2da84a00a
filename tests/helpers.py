"""Small builders shared by the tests: a valid org as data, and ways to load one."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, TypeVar

import yaml

from shsync.format.load import Loaded, load_org
from shsync.model.diagnostics import Diagnostic, Location
from shsync.model.plain import OrgValues

DOMAIN = "riverbend.example"

V = TypeVar("V")


def email(name: str) -> str:
    return f"{name}@{DOMAIN}"


def member(name: str, *roles: str, **fields: Any) -> dict[str, Any]:
    return {"email": email(name), "first_name": name.title(), "last_name": "Test",
            "roles": list(roles), **fields}


def base_org() -> dict[str, Any]:
    """A small valid org: an owner-admin supervisor, a supervised practitioner, a scheduler."""
    return {
        "version": 1,
        "members": [
            member("dana", "practitioner", "supervisor", admin=True, owner=True,
                   npi="1245319599"),
            member("sam", "practitioner", supervised_by=email("dana"), npi="1234567893"),
            member("rosa", "scheduler"),
        ],
        "clients": [{"id": "C-1", "practitioner": email("sam"), "access": [email("dana")]}],
    }


def org_with(**changes: Any) -> dict[str, Any]:
    org = copy.deepcopy(base_org())
    org.update(changes)
    return org


def write_yaml(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return path


def load_data(tmp_path: Path, data: Any, name: str = "org.yaml") -> Loaded[OrgValues]:
    return load_org(write_yaml(tmp_path / name, data))


def codes(loaded: Loaded[Any]) -> list[str]:
    return [d.code for d in loaded.diagnostics]


def location_of(diagnostic: Diagnostic) -> Location:
    """Where a diagnostic the test expects to point into a file points."""
    assert diagnostic.location is not None, diagnostic
    return diagnostic.location


def value_of(loaded: Loaded[V]) -> V:
    """The value of a load the test needs to have succeeded (fails with its diagnostics)."""
    assert loaded.value is not None, [d.render() for d in loaded.diagnostics]
    return loaded.value

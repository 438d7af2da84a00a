"""The plain path equals the pydantic path: same rule findings, same planner state.

A valid org is no longer turned into pydantic models (shsync/model/plain.py). What the models
did besides checking (defaults, lowercased emails, whole-number counts) the plain path does
itself, so it is held to the models here, on orgs generated from the published schema and on
every org file the project ships (examples/, the test corpus). A field the plain path drops, a
default it gets wrong or a case it forgets shows up as a difference.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from shsync.model.org import Org
from shsync.core.state import desired_from_values
from tests.format.model_oracle import desired_from_org
from shsync.format import load, published, rules, structure
from shsync.model.plain import FIELDS, OrgValues

ROOT = Path(__file__).resolve().parents[2]
from tests.conftest import NOW
SCHEMA = published.load("org")
DEFS = SCHEMA["$defs"]

# A few members' emails, in any case, so that references meet (supervisors, grants, handoffs)
# as often as they miss; the schema's own patterns supply the rest.
EMAILS = [f"{name}@p.example" for name in ("ann", "bo", "cy", "di")]
POOLS: dict[str, Any] = {
    "email": st.sampled_from(EMAILS).flatmap(
        lambda e: st.sampled_from([e, e.upper(), e.capitalize()])),
    "id": st.sampled_from(["C-1", "C-2", "c.3"]),
    "until": st.sampled_from(["2026-01-31", "2027-06-30T17:00", "2027-01-31T09:30Z",
                              "2027-01-31T09:30:00+05:30"]),
    "roles": st.sampled_from([["practitioner"], ["supervisor", "practitioner"],
                              ["biller", "practitioner"], ["scheduler"]]),
    "max": st.sampled_from(["8h", "90m", "1h30m", "0m", "169h", "7h"]),
    "timezone": st.sampled_from(["America/Chicago", "UTC", "Europe/Paris"]),
    "who": st.sampled_from(["practitioner", "admin", "supervisor", "ann@p.example",
                            "BO@p.example", "zed@p.example", "nobody"]),
}
EMAIL_FIELDS = {"email", "supervised_by", "practitioner", "supervisor", "member", "from",
                "clients", "notes", "signatures"}


def _pool(name: str | None, schema: dict[str, Any]) -> Any:
    if name in EMAIL_FIELDS and schema.get("type") == "string":
        return POOLS["email"]
    return POOLS.get(name or "")


def _mixed(own: st.SearchStrategy[Any], pool: Any) -> st.SearchStrategy[Any]:
    """Mostly the pool (references that meet, times that exist), sometimes the schema's own."""
    return own if pool is None else st.one_of(pool, pool, pool, own)


def strategy(schema: dict[str, Any], name: str | None = None) -> st.SearchStrategy[Any]:
    """Values for `schema` (the subset of JSON Schema the published schema uses): its own
    patterns and bounds, mixed with small pools that make references meet."""
    if "$ref" in schema:
        return strategy(DEFS[schema["$ref"].rsplit("/", 1)[1]], name)
    if "anyOf" in schema:
        return st.one_of([strategy(s, name) for s in schema["anyOf"]])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        props = schema["properties"]
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {k: strategy(v, k) for k, v in props.items() if k in required},
            optional={k: strategy(v, k) for k, v in props.items() if k not in required})
    if kind == "array":
        items = strategy(schema["items"], name if name in ("who", "access") else None)
        return _mixed(st.lists(items, min_size=name == "members", max_size=5,
                               unique_by=(lambda x: json.dumps(x, sort_keys=True))
                               if schema.get("uniqueItems") else None), POOLS.get(name or ""))
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":  # 2.0 is an integer to JSON Schema (and YAML reads `2.0` so)
        return st.one_of(st.integers(-2, 22), st.sampled_from([0.0, 2.0, 21.0]))
    if kind == "string":
        if "pattern" in schema:
            own = st.from_regex(schema["pattern"], fullmatch=True)
        else:
            own = st.text(min_size=schema.get("minLength", 0),
                          max_size=min(schema.get("maxLength", 20), 20))
        return _mixed(own, _pool(name, schema))
    raise AssertionError(f"the test's generator does not know {schema}")


ORGS = strategy({k: v for k, v in SCHEMA.items() if k != "$defs"})


def _outcome(build: Any, *args: Any) -> Any:
    """A state, or the kind of error building it raised (a bad until or timezone)."""
    try:
        return build(*args)
    except (ValueError, OverflowError) as exc:
        return type(exc)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.filter_too_much])
@given(ORGS)
def test_an_org_from_the_published_schema_reads_the_same_both_ways(data):
    assume(structure.check(data) == [])  # what the compiled schema accepts reaches the rules
    model = Org.model_validate(data)  # the models accept whatever the schema does
    dumped = model.model_dump(by_alias=True)
    assert rules.check_org(data, frozenset(), NOW) == rules.check_org(dumped, frozenset(), NOW)
    assert _outcome(desired_from_values, OrgValues(data)) == _outcome(desired_from_org, model)


# --- field by field: each key of the format reaches the state, the same way on both paths -----

def _base() -> dict[str, Any]:
    return {"version": 1, "members": [
        {"email": "ann@p.example", "first_name": "Ann", "last_name": "A", "admin": True,
         "roles": ["practitioner", "supervisor"], "npi": "1234567893"},
        {"email": "bo@p.example", "first_name": "Bo", "last_name": "B",
         "roles": ["practitioner"], "npi": "1245319599"},
        {"email": "cy@p.example", "first_name": "Cy", "last_name": "C", "roles": ["practitioner"],
         "npi": "1679576722"}],
        "clients": [{"id": "C-1", "practitioner": "bo@p.example"}]}


def _member(org: dict[str, Any], i: int, **fields: Any) -> None:
    org["members"][i].update(fields)


def _client(org: dict[str, Any], **fields: Any) -> None:
    org["clients"][0].update(fields)


def _policy(org: dict[str, Any], kind: str, **fields: Any) -> None:
    org.setdefault("policy", {}).setdefault(kind, {}).update(fields)


def _nothing(org: dict[str, Any]) -> None:
    pass


GRANT = {"member": "ANN@p.example", "until": "2027-01-31"}


def _granted_in_tokyo(org: dict[str, Any]) -> None:
    _client(org, access=[GRANT])
    org.update(timezone="Asia/Tokyo")


# "Model.key": (the org before, the org with the key set): the two states must differ.
FIELD_CASES = {
    "Org.practice": (_nothing, lambda o: o.update(practice="Riverbend")),
    "Org.prune": (_nothing, lambda o: o.update(prune=False)),
    "Org.timezone": (lambda o: _client(o, access=[GRANT]), _granted_in_tokyo),
    "Org.members": (_nothing, lambda o: o["members"].append(
        {"email": "Di@P.example", "first_name": "Di", "last_name": "D", "roles": ["biller"]})),
    "Org.clients": (_nothing, lambda o: o["clients"].append(
        {"id": "C-2", "practitioner": "CY@p.example"})),
    "Org.handoffs": (_nothing, lambda o: o.update(handoffs=[{"from": "Gone@p.example"}])),
    "Org.policy": (_nothing, lambda o: o.update(policy={"approvals": {}})),
    "Member.email": (_nothing, lambda o: _member(o, 2, email="Cyd@p.example")),
    "Member.first_name": (_nothing, lambda o: _member(o, 1, first_name="Bob")),
    "Member.last_name": (_nothing, lambda o: _member(o, 1, last_name="Bee")),
    "Member.admin": (_nothing, lambda o: _member(o, 1, admin=True)),
    "Member.owner": (_nothing, lambda o: _member(o, 0, owner=True)),
    "Member.roles": (_nothing, lambda o: _member(o, 1, roles=["biller", "practitioner"])),
    "Member.npi": (_nothing, lambda o: _member(o, 1, npi="1366665952")),
    "Member.taxonomy": (_nothing, lambda o: _member(o, 1, taxonomy="101YM0800X")),
    "Member.billing_access": (_nothing, lambda o: _member(o, 1, billing_access=False)),
    "Member.full_clinical_access": (_nothing, lambda o: _member(o, 1, full_clinical_access=True)),
    "Member.supervised_by": (_nothing, lambda o: _member(o, 1, supervised_by="ANN@p.example")),
    "Member.cosign": (lambda o: _member(o, 1, supervised_by="ann@p.example"),
                      lambda o: _member(o, 1, supervised_by="ann@p.example",
                                        cosign=["treatment_plans", "progress_notes"])),
    "Ending.until": (lambda o: _member(o, 1, full_clinical_access=True),
                     lambda o: _member(o, 1, full_clinical_access={"until": "2027-01-31"})),
    "Ending.reason": (lambda o: _member(o, 1, full_clinical_access={"until": "2027-01-31"}),
                      lambda o: _member(o, 1, full_clinical_access={"until": "2027-01-31",
                                                                    "reason": "audit"})),
    "Client.id": (_nothing, lambda o: _client(o, id="C-9")),
    "Client.practitioner": (_nothing, lambda o: _client(o, practitioner="CY@p.example")),
    "Client.access": (_nothing, lambda o: _client(o, access=["Cy@p.example"])),
    "Client.supervisor": (_nothing, lambda o: _client(o, supervisor="Ann@p.example")),
    "Grant.member": (lambda o: _client(o, access=[GRANT]),
                     lambda o: _client(o, access=[{**GRANT, "member": "CY@p.example"}])),
    "Grant.until": (lambda o: _client(o, access=["ann@p.example"]),
                    lambda o: _client(o, access=[GRANT])),
    "Grant.reason": (lambda o: _client(o, access=[GRANT]),
                     lambda o: _client(o, access=[{**GRANT, "reason": "second opinion"}])),
    "Handoff.from": (lambda o: o.update(handoffs=[{"from": "gone@p.example"}]),
                     lambda o: o.update(handoffs=[{"from": "Went@p.example"}])),
    "Handoff.clients": (lambda o: o.update(handoffs=[{"from": "gone@p.example"}]),
                        lambda o: o.update(handoffs=[{"from": "gone@p.example",
                                                      "clients": "BO@p.example"}])),
    "Handoff.notes": (lambda o: o.update(handoffs=[{"from": "gone@p.example"}]),
                      lambda o: o.update(handoffs=[{"from": "gone@p.example",
                                                    "notes": "BO@p.example"}])),
    "Handoff.signatures": (lambda o: o.update(handoffs=[{"from": "gone@p.example"}]),
                           lambda o: o.update(handoffs=[{"from": "gone@p.example",
                                                         "signatures": "ANN@p.example"}])),
    "Policy.break_glass": (_nothing, lambda o: _policy(o, "break_glass")),
    "Policy.approvals": (_nothing, lambda o: _policy(o, "approvals")),
    "BreakGlass.who": (lambda o: _policy(o, "break_glass"),
                       lambda o: _policy(o, "break_glass", who=["admin", "Cy@p.example"])),
    "BreakGlass.max": (lambda o: _policy(o, "break_glass"),
                       lambda o: _policy(o, "break_glass", max="1h30m")),
    "Approvals.widens_access": (lambda o: _policy(o, "approvals"),
                                lambda o: _policy(o, "approvals", widens_access=2.0)),
    "Approvals.removes_members": (lambda o: _policy(o, "approvals"),
                                  lambda o: _policy(o, "approvals", removes_members=1)),
    "Policy.deadlines": (_nothing, lambda o: _policy(o, "deadlines")),
    "Deadlines.narrows_access": (lambda o: _policy(o, "deadlines"),
                                 lambda o: _policy(o, "deadlines", narrows_access="30m")),
    "Deadlines.widens_access": (lambda o: _policy(o, "deadlines"),
                                lambda o: _policy(o, "deadlines", widens_access="2d12h")),
    "Deadlines.other": (lambda o: _policy(o, "deadlines"),
                        lambda o: _policy(o, "deadlines", other="5d")),
}
NO_STATE = {"Org.version"}  # the format's version: checked, never part of what an org asks for


def _both_ways(data: dict[str, Any]) -> Any:
    assert structure.check(data) == []
    model = Org.model_validate(data)
    findings = rules.check_org(data, frozenset(), NOW)
    assert [f for f in findings if f.severity.value == "error"] == []
    assert findings == rules.check_org(model.model_dump(by_alias=True), frozenset(), NOW)
    state = desired_from_values(OrgValues(data))
    assert state == desired_from_org(model)
    return state


@pytest.mark.parametrize("field", sorted(FIELD_CASES))
def test_each_field_reaches_the_state_the_same_way_on_both_paths(field):
    before, after = _base(), _base()
    FIELD_CASES[field][0](before)
    FIELD_CASES[field][1](after)
    assert _both_ways(before) != _both_ways(after)


def test_every_field_has_a_case():
    every = {f"{model}.{key}" for model, keys in FIELDS.items() for key in keys}
    assert set(FIELD_CASES) == every - NO_STATE


def _pydantic_reader(data: dict[str, Any], name: str) -> tuple[Any, list[Any]]:
    """The loader as it was: a pydantic model, dumped for the rules."""
    try:
        return OrgValues(Org.model_validate(data).model_dump(by_alias=True)), []
    except ValidationError as exc:
        return None, load._model_errors(exc, name)


SHIPPED = sorted([*ROOT.glob("examples/*.yaml"), *ROOT.glob("tests/corpus/*.yaml"),
                  *ROOT.glob("tests/corpus_support/*.yaml")])


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_org_file_reads_the_same_both_ways(path, monkeypatch):
    plain = load.load_org(path, NOW)
    monkeypatch.setattr(load, "_org_values", _pydantic_reader)
    models = load.load_org(path, NOW)
    assert [d.render() for d in plain.diagnostics] == [d.render() for d in models.diagnostics]
    assert plain.ok == models.ok
    if plain.value is not None:
        assert desired_from_values(plain.value) == desired_from_org(plain.value.model())


def test_the_shipped_files_include_valid_orgs_with_every_kind_of_field():
    valid = [load.load_org(p, NOW).value for p in SHIPPED]
    seen = {key for v in valid if v is not None for m in v.members for key in m}
    assert {"npi", "taxonomy", "supervised_by", "full_clinical_access"} <= seen


def test_the_plain_path_knows_every_field_of_the_published_format():
    """A field added to the models (and so to the schema) must be added to the plain path."""
    published_fields = {"Org": set(SCHEMA["properties"])}
    published_fields |= {name: set(d["properties"]) for name, d in DEFS.items()}
    assert {k: set(v) for k, v in FIELDS.items()} == published_fields

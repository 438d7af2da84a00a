"""Property-based fuzzing: whatever the input, shsync answers with a result or its own error.

A few thousand examples run in CI; any other exception fails the test.
"""

from __future__ import annotations

import json

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shsync.core.plan import InvalidPlan, from_file
from shsync.format.load import load_org
from shsync.format.yamlload import LoadError, load_text
from tests import fault_stats
from tests.core.builders import ADMIN, c, live, m, make, want

YAML_BITS = st.sampled_from(["version: 1\n", "members:\n", "  - ", "email: a@b.example\n",
                             "&a ", "*a ", "<<: ", "!!python/object ", "[", "]", "{", "}",
                             ": ", "- ", "\t", "---\n", "'", '"', "#", "\n", "  ", "~", "no",
                             "1e3", "0x10", "2026-01-01", "? ", "|\n", ">\n", "%YAML 1.1\n"])
TEXTS = st.one_of(st.text(max_size=200),
                  st.lists(YAML_BITS, max_size=40).map("".join))

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.text(max_size=30), st.sampled_from(["a@b.example", "practitioner",
                                                           "1234567893", "C-1"]))
KEYS = st.sampled_from(["version", "members", "clients", "handoffs", "email", "first_name",
                        "last_name", "roles", "admin", "owner", "npi", "supervised_by", "id",
                        "practitioner", "access", "supervisor", "from", "prune", "x"])
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=6)), max_leaves=25)


@settings(max_examples=1500, deadline=None)
@given(TEXTS)
def test_the_loader_never_fails_with_anything_but_a_load_error(text):
    fault_stats.tried("fuzz examples")
    try:
        load_text(text, "fuzz.yaml")
    except LoadError as exc:
        assert exc.diagnostics and all(d.location for d in exc.diagnostics)


@settings(max_examples=600, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(KEYS, VALUES, max_size=6))
def test_the_validator_always_answers_with_diagnostics(tmp_path, data):
    fault_stats.tried("fuzz examples")
    path = tmp_path / "org.yaml"
    path.write_text(yaml.safe_dump(data))
    loaded = load_org(path)
    assert loaded.ok or any(d.severity.value == "error" for d in loaded.diagnostics)


SAM = m("sam", "practitioner", supervisor="admin")
PLAN = make(want(ADMIN, SAM, clients=[c("C1", "sam", "admin")]), live(ADMIN))
PLAN_DATA = json.loads(PLAN.to_file())


@st.composite
def edited_plans(draw):
    data = json.loads(json.dumps(PLAN_DATA))
    for _ in range(draw(st.integers(1, 4))):
        target = data
        path = draw(st.lists(st.sampled_from(["changes", 0, 1, "summary", "errors", "actor",
                                              "action", "target", "supervisor", "invite"]),
                             max_size=3))
        for step in path:
            if isinstance(target, dict) and step in target:
                target = target[step]
            elif isinstance(target, list) and isinstance(step, int) and step < len(target):
                target = target[step]
        if isinstance(target, dict) and target:
            key = draw(st.sampled_from(sorted(target)))
            target[key] = draw(VALUES)
    if draw(st.booleans()):  # an attacker who also recomputes the hash
        import hashlib

        from shsync.core.plan import canonical

        data.pop("plan_hash", None)
        data["plan_hash"] = "sha256:" + hashlib.sha256(canonical(data).encode()).hexdigest()
    return json.dumps(data)


@settings(max_examples=1000, deadline=None)
@given(st.one_of(edited_plans(), TEXTS, st.builds(json.dumps, VALUES)))
def test_the_plan_reader_returns_a_plan_or_refuses_it(text):
    fault_stats.tried("fuzz examples")
    try:
        plan = from_file(text)
    except InvalidPlan as exc:
        assert exc.code
        return
    assert plan.to_dict() == {k: v for k, v in json.loads(text).items() if k != "plan_hash"}

"""A saved plan reads back equal, and any edit or foreign format is refused."""

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shsync.core.plan import InvalidPlan, canonical, canonical_with, from_file
from tests.core.builders import ADMIN, c, live, m, make, want


def sample():
    sam = m("sam", "practitioner", supervisor="admin")
    return make(want(ADMIN, sam, clients=[c("C1", "sam", "admin")]), live(ADMIN))


def test_a_saved_plan_reads_back_equal():
    plan = sample()
    assert from_file(plan.to_file()) == plan


def test_an_edited_operation_is_refused():
    data = json.loads(sample().to_file())
    data["changes"][0]["admin"] = True
    with pytest.raises(InvalidPlan, match="hash does not match"):
        from_file(json.dumps(data))


def test_an_edit_with_a_recomputed_hash_still_needs_a_known_shape():
    import hashlib

    from shsync.core.plan import canonical

    data = json.loads(sample().to_file())
    del data["plan_hash"]
    data["changes"][0]["surprise"] = 1
    data["plan_hash"] = "sha256:" + hashlib.sha256(canonical(data).encode()).hexdigest()
    with pytest.raises(InvalidPlan, match="unexpected surprise"):
        from_file(json.dumps(data))


def test_another_format_version_is_refused():
    data = json.loads(sample().to_file())
    data["format_version"] = 3
    with pytest.raises(InvalidPlan, match="format version 3"):
        from_file(json.dumps(data))


def test_a_file_that_is_not_a_plan_is_refused():
    with pytest.raises(InvalidPlan, match="not a shsync plan"):
        from_file('{"hello": 1}')
    with pytest.raises(InvalidPlan, match="not a plan file"):
        from_file("version: 1\n")


def test_the_json_form_has_the_documented_top_level_keys():
    data = sample().to_dict()
    assert {"format_version", "fingerprint", "changes", "warnings", "errors", "summary"} <= set(data)
    assert all("action" in change and "target" in change for change in data["changes"])


@pytest.mark.parametrize("until", ["2026-02-30T10:00:00Z", "2026-11-26T12:00:00Z\n",
                                   "2026-11-26T12:00:00+00:00", "1-01-01T00:00:00Z"])
def test_a_step_s_time_is_a_real_instant_as_shsync_writes_it(until):
    # A store refuses to read any other (bad-store), so a plan must not be able to write one:
    # `$` let a trailing newline through, and the 30th of February matched the pattern.
    from shsync.core.operations import InvalidOperation, from_dict, op, to_dict

    step = to_dict(op("grant_access", "C1", member="sam@x.example", until="2026-11-26T12:00:00Z",
                      reason="cover"))
    assert from_dict(step).get("until") == "2026-11-26T12:00:00Z"
    with pytest.raises(InvalidOperation, match="until: expected time"):
        from_dict({**step, "until": until})


# --- one serialisation of the steps, for the plan's hash and its audit entry ----------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20)


@given(st.dictionaries(st.text(), _json, max_size=6), st.data())
def test_canonical_with_ready_parts_is_the_same_text_as_canonical(value, data):
    ready = data.draw(st.sets(st.sampled_from(sorted(value)), max_size=len(value))
                      if value else st.just(set()))
    assert canonical_with(value, {k: canonical(value[k]) for k in ready}) == canonical(value)


def test_the_plan_hash_is_the_hash_of_its_whole_canonical_form():
    plan = sample()
    assert plan.operations
    whole = "sha256:" + hashlib.sha256(canonical(plan.to_dict()).encode()).hexdigest()
    assert plan.digest() == whole
    assert json.loads(plan.operations_json) == plan.to_dict()["changes"]

"""Each fixed word, pattern and limit of the format has one home (shsync/model/vocabulary.py),
and what reads a plan file holds its steps to the same limits as an org file."""

from __future__ import annotations

from typing import get_args

import pytest

from shsync.core.actions import DEFAULT_BREAK_GLASS
from shsync.core.operations import InvalidOperation, from_dict
from shsync.model import org, vocabulary


def test_the_models_literals_are_the_vocabulary():
    assert get_args(org.Role) == vocabulary.ROLES
    assert get_args(org.Cosign) == vocabulary.COSIGN


def test_the_default_break_glass_policy_is_read_from_the_vocabulary():
    assert DEFAULT_BREAK_GLASS == (vocabulary.DEFAULT_BREAK_GLASS_WHO, 8 * 60)


def _invite(first_name: str) -> dict:
    return {"action": "invite_member", "target": "new@p.example", "first_name": first_name,
            "last_name": "X", "roles": ["practitioner"], "admin": False,
            "billing_access": False, "full_clinical_access": False}


def test_a_plan_s_member_name_is_held_to_the_org_format_s_limit():
    assert from_dict(_invite("a" * vocabulary.NAME_MAX)).get("first_name") == "a" * 100
    with pytest.raises(InvalidOperation, match="first_name: expected name"):
        from_dict(_invite("a" * (vocabulary.NAME_MAX + 1)))


def test_a_practice_name_may_be_as_long_as_the_format_allows_and_no_longer():
    step = {"action": "set_practice_name", "target": "practice",
            "name": "p" * vocabulary.PRACTICE_NAME_MAX, "previous": None}
    assert from_dict(step).get("name") == "p" * 200
    with pytest.raises(InvalidOperation, match="name: expected practice_name"):
        from_dict({**step, "name": "p" * (vocabulary.PRACTICE_NAME_MAX + 1)})

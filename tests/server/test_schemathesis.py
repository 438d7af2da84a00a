"""Property-based tests of the served API against its own OpenAPI document (schemathesis):
for every operation, with a valid token, a wrong one and none, no 5xx, and every response's
status, content type and body match what the document declares. Examples are few per
operation, so the whole run takes seconds."""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from shsync.server.api import openapi_document
from tests.server.conftest import DANA, Practice

CHECKS = [checks.not_a_server_error, checks.status_code_conformance,
          checks.content_type_conformance, checks.response_schema_conformance]
TOKENS = ["valid", "wrong", "none"]


@pytest.fixture(scope="module")
def seeded(server):
    from shsync.jobs.app import Shsync
    from shsync.core.authorize import Actor
    from tests.server.conftest import SNAPSHOT

    store = server.store("fuzzed")
    Shsync(store, Actor.operator("test")).seed(SNAPSHOT)
    store.close()
    practice = Practice(server, "fuzzed")
    return practice, {"valid": practice.token(DANA, "admin"),
                      "wrong": "shs_0123456789abcdef_" + "A" * 43, "none": None}


schema = schemathesis.openapi.from_dict(json.loads(openapi_document()))


@schema.parametrize()
@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_document(case, seeded):
    practice, held = seeded
    if "practice" in (case.path_parameters or {}):
        case.path_parameters["practice"] = practice.name
    for token in TOKENS:
        headers = {"Authorization": f"Bearer {held[token]}"} if held[token] else {}
        case.call_and_validate(base_url=practice.server.base, headers=headers, checks=CHECKS)

"""The OpenAPI 3.1 document: committed in docs/openapi.json, equal to what the server serves,
and every error it declares is problem+json."""

from __future__ import annotations

import json

import httpx

from shsync.server.api import openapi_document
from tests.served import ROOT


def test_the_committed_document_is_the_generated_one():
    committed = (ROOT / "docs" / "openapi.json").read_text()
    assert committed == openapi_document(), "run `make openapi` and commit docs/openapi.json"


def test_the_server_serves_the_same_document(server):
    served = httpx.get(server.base + "/openapi.json").json()
    assert served == json.loads(openapi_document())
    assert served["openapi"].startswith("3.1")


def test_every_protected_operation_declares_its_token_and_problem_errors():
    doc = json.loads(openapi_document())
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            errors = {k: v for k, v in operation["responses"].items() if k >= "400"}
            if path in ("/healthz", "/metrics"):
                continue
            assert operation.get("security") == [{"HTTPBearer": []}], (method, path)
            assert {"401", "403", "422"} <= set(errors), (method, path)
            assert all(list(e["content"]) == ["application/problem+json"]
                       for e in errors.values()), (method, path)

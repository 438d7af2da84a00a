"""The published JSON Schema and the pydantic models are one source of truth."""

import json

import pytest
from jsonschema import Draft202012Validator

from shsync.format import published
from tests.helpers import base_org


@pytest.mark.parametrize("kind", sorted(published.KINDS))
def test_published_schema_is_generated_from_the_models(kind):
    assert published.text(kind) == published.render(published.generate(kind)), (
        "run `python -m shsync.format.published` to regenerate the schema files")


@pytest.mark.parametrize("kind", sorted(published.KINDS))
def test_published_schema_is_valid_draft_2020_12(kind):
    schema = json.loads(published.text(kind))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_the_schema_accepts_a_valid_org():
    assert not list(Draft202012Validator(published.load("org")).iter_errors(base_org()))


def test_the_schema_keeps_the_public_field_names():
    members = published.load("org")["$defs"]["Member"]["properties"]
    assert set(members) == {"email", "first_name", "last_name", "admin", "owner", "roles", "npi",
                            "taxonomy", "billing_access", "full_clinical_access", "supervised_by",
                            "cosign"}
    assert set(published.load("org")["$defs"]["Handoff"]["properties"]) == {"from", "clients", "signatures",
                                                                           "notes"}

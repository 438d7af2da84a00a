"""Structural checks: the published JSON Schema, with messages a practice manager can act on.

Two implementations of the same Draft 2020-12 schema work together. jsonschema-rs (compiled)
decides whether a document is valid, 150x faster than the pure-Python one on a large org, which
matters because most files are valid. Only when it says no does python-jsonschema find every
problem, and this module turns each into a `Finding` with a specific code (an NPI pattern failure
is `invalid-npi`, not a regex dump) and, for unknown keys, a did-you-mean suggestion. Where the
two disagree (jsonschema-rs follows ECMA regex semantics, so a trailing newline never matches
`$`), jsonschema-rs's own errors are reported.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from shsync.model.diagnostics import Finding, KeyOf, Path, error
from shsync.format import published

if TYPE_CHECKING:  # python-jsonschema only explains files jsonschema-rs refused: imported then
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

_PATTERN_CODES = {
    "email": "invalid-email", "supervised_by": "invalid-email", "practitioner": "invalid-email",
    "supervisor": "invalid-email", "access": "invalid-email", "from": "invalid-email",
    "clients": "invalid-email", "notes": "invalid-email", "author": "invalid-email",
    "npi": "invalid-npi", "taxonomy": "invalid-taxonomy", "id": "invalid-client-id",
    "client": "invalid-client-id",
}  # fmt: skip
_PATTERN_HELP = {
    "invalid-email": "is not a valid email address",
    "invalid-npi": "is not an NPI: 10 digits starting with 1 or 2",
    "invalid-taxonomy": "is not a NUCC taxonomy code (3 digits, 6 capital letters or digits, "
                        "then X, like 101YM0800X)",
    "invalid-client-id": "is not a client id: 1-64 characters of A-Z a-z 0-9 . _ -",
}
_ENTITY = {"members": "member", "clients": "client", "handoffs": "handoff",
           "appointments": "appointment", "notes": "note"}
_BOOLEAN_WORDS = {w: "true" for w in ("yes", "y", "on", "true", "1")} | {
    w: "false" for w in ("no", "n", "off", "false", "0")}  # YAML 1.1 and spreadsheet habits
_TYPE_NAMES = {"string": "a string", "boolean": "true or false", "integer": "a whole number",
               "array": "a list", "object": "a mapping", "null": "empty"}


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice nearest `word`, if one is near enough to be what was meant: the one measure
    of every did-you-mean (unknown keys, roles and other enums, members' emails)."""
    guess = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return guess[0] if guess else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`; did you mean 'x'?` for the choice nearest `word`, or ''."""
    guess = closest(word, choices)
    return f"; did you mean {guess!r}?" if guess is not None else ""


@cache
def _validator(kind: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(published.load(kind))


@cache
def _gate(kind: str) -> Any:
    return jsonschema_rs.Draft202012Validator(published.load(kind))


def check(data: dict[str, Any], kind: str = "org") -> list[Finding]:
    """Every structural problem in one loaded document, as findings on local paths."""
    version = data.get("version")
    if "version" in data and (version != 1 or type(version) is not int):
        return [error("unsupported-version",
                      f"version {version!r} is not supported: this shsync reads format version 1",
                      ("version",))]
    if _gate(kind).is_valid(data):
        return []
    findings: list[Finding] = []
    for err in _validator(kind).iter_errors(data):
        findings.extend(_findings(err, data))
    if not findings:
        findings = [error("invalid-value", rs_err.message, tuple(rs_err.instance_path))
                    for rs_err in _gate(kind).iter_errors(data)]
    return list(dict.fromkeys(findings))  # each problem once, in order


def _field(path: Path) -> str:
    for element in reversed(path):
        if isinstance(element, str):
            return element
    return "the file"


def _what(path: Path, data: dict[str, Any]) -> str:
    """`member dana@x.example` or `clients[3]`: names the entity a path is inside."""
    if len(path) >= 2 and path[0] in _ENTITY and isinstance(path[1], int):
        kind = _ENTITY[path[0]]
        try:
            item = data[path[0]][path[1]]
        except (KeyError, IndexError, TypeError):
            item = None
        ident = None
        if isinstance(item, dict):
            ident = item.get("email") or item.get("id") or item.get("from")
        if isinstance(ident, str):
            return f"{kind} {ident}"
        return f"{path[0]}[{path[1]}]"
    return "the file"


def _describe(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    return "a list" if isinstance(value, list) else "a mapping"


def _case_hint(value: Any, pattern: str, code: str) -> str:
    """`; did you mean '101YM0800X'?` for a taxonomy code written in lower case."""
    if code != "invalid-taxonomy" or not isinstance(value, str):
        return ""
    upper = value.strip().upper()
    return f"; did you mean {upper!r}?" if re.search(pattern, upper) else ""


def _findings(err: ValidationError, data: dict[str, Any]) -> list[Finding]:
    path: Path = tuple(err.absolute_path)
    kind = err.validator
    if kind == "additionalProperties":
        allowed = list(err.schema.get("properties", {}))
        where = _what(path, data)
        findings = []
        for key in sorted(set(err.instance) - set(allowed)):
            hint = did_you_mean(key, allowed) or f"; known keys: {', '.join(allowed)}"
            findings.append(error("unknown-key", f"unknown key {key!r} in {where}{hint}",
                                  path + (KeyOf(key),)))
        return findings
    if kind == "required":
        # jsonschema raises one error per missing key; the message names it ('x' is a ...).
        missing = [k for k in err.validator_value if k not in err.instance
                   and err.message.startswith(repr(k))] or [
            k for k in err.validator_value if k not in err.instance]
        return [error("missing-key", f"{_what(path, data)} is missing {k!r}", path)
                for k in missing]
    if kind in ("anyOf", "oneOf") and err.context:
        # A field with two forms (`full_clinical_access: true` or `{until, reason}`): explain
        # the form the value was written in, not "not valid under any of the given schemas".
        wrong_form = [e for e in err.context if not e.relative_path and e.validator == "type"]
        right_form = [e for e in err.context if e not in wrong_form]
        from jsonschema.exceptions import best_match

        chosen = best_match(right_form) if right_form else wrong_form[0]
        if chosen is not None:
            return _findings(chosen, data)
    field = _field(path)
    subject = f"{field} of {_what(path, data)}" if path[:1] != (field,) else field
    if kind == "type":
        expected = _TYPE_NAMES.get(err.validator_value, str(err.validator_value))
        hint = ""
        keyed = bool(path) and isinstance(path[-1], str)  # `field: value`, not a list item
        if err.validator_value == "string" and isinstance(err.instance, (int, float)):
            hint = "; write it in quotes"
            if keyed and isinstance(err.instance, int) and not isinstance(err.instance, bool):
                hint += f', like {field}: "{err.instance}"'
        elif err.validator_value == "boolean" and isinstance(err.instance, str):
            meant = _BOOLEAN_WORDS.get(err.instance.strip().lower())
            hint = (f"; write {field}: {meant}" if meant and keyed
                    else "; write true or false")
        elif field == "supervised_by" and isinstance(err.instance, list) and keyed:
            # `supervised_by: [a, b]`: not a type slip, a second supervisor Sessions Health
            # cannot hold.
            named = [str(x) for x in err.instance if isinstance(x, str)]
            write = (f"; write supervised_by: {named[0]}" if len(named) == 1 else
                     f"; choose one of {', '.join(named)}" if named else "")
            return [error("wrong-type", f"{subject} is a list, but a practitioner has one "
                                        f"supervisor at most{write}", path)]
        elif err.validator_value == "array" and isinstance(err.instance, str) and keyed:
            items = [i.strip() for i in re.split(r"[,;|]", err.instance) if i.strip()]
            hint = f"; write it as a list, like {field}: [{', '.join(items)}]"
        return [error("wrong-type", f"{subject} must be {expected}, not "
                                    f"{_describe(err.instance)}{hint}", path)]
    if kind == "pattern":
        code = _PATTERN_CODES.get(field, "invalid-value")
        help_text = _PATTERN_HELP.get(code, f"does not match {err.validator_value}")
        return [error(code, f"{_describe(err.instance)} ({subject}) {help_text}"
                            f"{_case_hint(err.instance, err.validator_value, code)}", path)]
    if kind == "enum":
        choices = [str(c) for c in err.validator_value]
        hint = did_you_mean(str(err.instance), choices)
        code = "invalid-role" if field == "roles" else "invalid-value"
        return [error(code, f"{_describe(err.instance)} ({subject}) is not one of "
                            f"{', '.join(choices)}{hint}", path)]
    if kind == "uniqueItems":
        seen: list[Any] = []
        for value in err.instance:
            if value in seen:
                break
            seen.append(value)
        return [error("duplicate-item", f"{subject} lists {_describe(value)} more than once",
                      path)]
    if kind in ("minLength", "maxLength"):
        bound = "at least" if kind == "minLength" else "at most"
        return [error("invalid-length", f"{subject} must be {bound} {err.validator_value} "
                                        "characters", path)]
    return [error("invalid-value", f"{subject}: {err.message}", path)]

"""Repeated warnings collapse into one line with a count and the first few names."""

from __future__ import annotations

from shsync.model.diagnostics import Diagnostic, Location, Severity
from shsync.core.plan import Message
from shsync.render.notices import collapse, collapse_messages, summary


def missing_npi(n: int) -> Diagnostic:
    return Diagnostic(Severity.WARNING, "missing-npi",
                      f"practitioner p{n}@x.example has billing access but no NPI; claims for "
                      "their sessions cannot be submitted", Location("org.yaml", 10 + n, 5))


def test_three_thousand_and_one_warnings_are_one_line():
    warnings = [Message("pending-acceptance", f"m{n}@x.example has not accepted the invitation")
                for n in range(3001)]
    (line,) = collapse_messages(warnings)
    assert line == Message("pending-acceptance",
                           "m0@x.example has not accepted the invitation (3,001 warnings like "
                           "this: m0@x.example, m1@x.example, m2@x.example and 2,998 more)")


def test_the_collapsed_line_keeps_the_first_place_and_errors_stay_in_order():
    error = Diagnostic(Severity.ERROR, "invalid-npi", "bad", Location("org.yaml", 12, 1))
    items = [missing_npi(0), missing_npi(1), error, *[missing_npi(n) for n in range(2, 8)]]
    out = collapse(items)
    assert [d.render() for d in out] == [
        "org.yaml:10:5: warning[missing-npi]: practitioner p0@x.example has billing access but "
        "no NPI; claims for their sessions cannot be submitted (8 warnings like this: "
        "p0@x.example, p1@x.example, p2@x.example and 5 more)",
        "org.yaml:12:1: error[invalid-npi]: bad"]


def test_a_few_warnings_are_left_alone():
    items = [missing_npi(n) for n in range(5)]
    assert collapse(items) == items


def test_errors_are_never_collapsed():
    errors = [Diagnostic(Severity.ERROR, "invalid-npi", f"n{n}") for n in range(9)]
    assert collapse(errors) == errors


def test_names_are_what_differs_even_in_the_middle_of_a_message():
    messages = [f"client C-{n} grants access to dana@x.example, who already has full clinical "
                "access" for n in range(4)]
    assert summary(messages) == "4 warnings like this: C-0, C-1, C-2 and 1 more"


def test_identical_messages_are_counted():
    assert summary(["same"] * 7) == "7 warnings like this"

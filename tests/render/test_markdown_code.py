"""Markdown output (a pull-request comment, an issue): a command shsync writes as code renders
as code, in GitHub's Markdown, and a value from a file still injects no markup."""

from __future__ import annotations

import pytest

from shsync.core.plan import Message, Plan, Summary
from shsync.core.runbook import Step
from shsync.render import plan as render
from shsync.render import runbook
from shsync.render.escape import markdown_text
from tests.conftest import NOW

SAVE = "save the plan with `shsync plan ORG --save`, then each approver runs `shsync approve ID`"


def warned(message: str) -> Plan:
    return Plan("default", "sha256:" + "0" * 64, (), Summary(),
                warnings=(Message("approvals-required", message),))


def test_a_command_in_a_message_renders_as_code():
    out = render.markdown(warned(SAVE))
    assert ("- :warning: `approvals-required` save the plan with `shsync plan ORG --save`, "
            "then each approver runs `shsync approve ID`\n") in out
    assert "\\`" not in out


@pytest.mark.parametrize("value, shown", [
    ("`[link](https://evil.example)`", "\\`\\[link\\](https://evil.example)\\`"),
    ("`<img src=x>`", "\\`&lt;img src=x>\\`"),
    ("`a|b`", "\\`a\\|b\\`"),  # a code span holding `|` would end a table cell
    ("**bold** _x_", "\\*\\*bold\\*\\* \\_x\\_"),
    ("a`b@x.example", "a\\`b@x.example"),  # an unpaired backtick is text
    ("\x1b[2K`x\u202e`", "\\\\x1b\\[2K`x\\u202e`"),  # hidden characters shown, in code too
])
def test_a_value_from_a_file_is_escaped_even_between_backticks(value, shown):
    assert markdown_text(f"member {value} left") == f"member {shown} left"


def test_a_name_between_two_backticks_renders_as_inert_code_at_most():
    # Emails may hold backticks: two of them make a code span, which shows text and runs none.
    assert markdown_text("a`b@x.example and c`d@x.example") == "a`b@x.example and c`d@x.example"


def test_the_runbook_comment_shows_its_commands_and_the_practice_as_code():
    step = Step(id=1, entry=2, actions=("revoke_access",), member="sam@x.example", client="C-1",
                text="Clients > C-1 > Manage Access: untick sam@x.example. Save. Then run "
                     "`shsync expire`.", effect="narrows", recorded_at=NOW,
                due="2026-11-29T12:00:00Z")
    out = runbook.markdown([step], NOW, practice="odd`name")
    assert out.startswith("### Runbook for ``odd`name``: 1 step(s) outstanding\n")
    assert "Then run `shsync expire`." in out
    assert "record each with `shsync done R-N`" in out
    assert "\\`" not in out

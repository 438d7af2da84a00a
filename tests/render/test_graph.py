"""The supervision tree and a client's access as Mermaid and DOT: exact text on a small
practice, and names that try to break out of their labels."""

from __future__ import annotations

import re
import unicodedata

import pytest

from shsync.core.access import rows_for_client
from shsync.core.state import ClientState, MemberState, PracticeState
from shsync.render import graph


def small(dana_first: str = "Dana", sam_last: str = "Lee") -> PracticeState:
    members = [
        MemberState("dana@x.example", dana_first, "Ortiz", ("practitioner", "supervisor"),
                    admin=True, owner=True),
        MemberState("rosa@x.example", "Rosa", "Diaz", ("scheduler",)),
        MemberState("sam@x.example", "Sam", sam_last, ("practitioner",),
                    supervisor="dana@x.example"),
        MemberState("vic@x.example", "Vic", "Okafor", ("practitioner",), status="invited"),
    ]
    clients = [ClientState("C-1", "sam@x.example", ("vic@x.example",))]
    return PracticeState({m.email: m for m in members}, {c.id: c for c in clients})


def test_supervision_as_mermaid():
    assert graph.mermaid_supervision(small()) == """\
flowchart TD
  m1["Dana Ortiz<br/>dana@x.example<br/>practitioner, supervisor<br/>owner, admin"]
  m2["Rosa Diaz<br/>rosa@x.example<br/>scheduler"]
  m3["Sam Lee<br/>sam@x.example<br/>practitioner"]
  m4["Vic Okafor<br/>vic@x.example<br/>practitioner<br/>invited"]
  m1 -->|supervises| m3
  classDef admin stroke-width:3px
  class m1 admin
  classDef invited stroke-dasharray:5 5
  class m4 invited
"""


def test_supervision_as_dot():
    assert graph.dot_supervision(small()) == """\
digraph supervision {
  rankdir=TB;
  node [shape=box];
  m1 [label="Dana Ortiz\\ndana@x.example\\npractitioner, supervisor\\nowner, admin", penwidth=3];
  m2 [label="Rosa Diaz\\nrosa@x.example\\nscheduler"];
  m3 [label="Sam Lee\\nsam@x.example\\npractitioner"];
  m4 [label="Vic Okafor\\nvic@x.example\\npractitioner\\ninvited", style=dashed];
  m1 -> m3 [label="supervises"];
}
"""


def test_who_can_see_a_client_as_mermaid():
    state = small()
    assert graph.mermaid_client(state, "C-1", rows_for_client(state, "C-1")) == """\
flowchart LR
  c(["client C-1"])
  m1["Dana Ortiz<br/>dana@x.example<br/>practitioner, supervisor<br/>owner, admin"]
  m2["Rosa Diaz<br/>rosa@x.example<br/>scheduler"]
  m3["Sam Lee<br/>sam@x.example<br/>practitioner"]
  m4["Vic Okafor<br/>vic@x.example<br/>practitioner<br/>invited"]
  m1 -->|"admin: limited info, manage access"| c
  m1 -->|"supervisor: notes, treatment plans, sign notes"| c
  m2 -->|"scheduler: schedule"| c
  m3 -->|"assigned: record, notes, diagnoses, treatment plans, schedule, billing, manage access"| c
  m4 -->|"granted: record, notes, diagnoses, treatment plans, billing"| c
"""


def test_who_can_see_a_client_as_dot():
    state = small()
    assert graph.dot_client(state, "C-1", rows_for_client(state, "C-1")) == """\
digraph access {
  rankdir=LR;
  node [shape=box];
  c [label="client C-1", shape=ellipse];
  m1 [label="Dana Ortiz\\ndana@x.example\\npractitioner, supervisor\\nowner, admin", penwidth=3];
  m2 [label="Rosa Diaz\\nrosa@x.example\\nscheduler"];
  m3 [label="Sam Lee\\nsam@x.example\\npractitioner"];
  m4 [label="Vic Okafor\\nvic@x.example\\npractitioner\\ninvited", style=dashed];
  m1 -> c [label="admin: limited info, manage access"];
  m1 -> c [label="supervisor: notes, treatment plans, sign notes"];
  m2 -> c [label="scheduler: schedule"];
  m3 -> c [label="assigned: record, notes, diagnoses, treatment plans, schedule, billing, manage access"];
  m4 -> c [label="granted: record, notes, diagnoses, treatment plans, billing"];
}
"""


HOSTILE = [
    'Dana"]\n  evil["owned',  # close the quote and the bracket, start a statement
    "Dana\r\n}\ndigraph x {",  # end the DOT graph
    'Dana\\"; m9 -> m1 [label="x',  # a backslash before the quote
    "Dana\x1b[31mred\x1b[0m",  # a terminal escape
    "Dana\u202eevil\u2028next\u2029para\x00nul",  # bidi override, separators, NUL
    "<script>alert(1)</script> #quot; &amp; |pipe| {brace} -->",
    "Dana` ``` %% comment",
]


def _mermaid_skeleton(text: str) -> list[str]:
    """Each line with its quoted labels replaced by "L" (Mermaid has no escapes in quotes)."""
    return [re.sub(r'"[^"]*"', '"L"', line) for line in text.splitlines()]


def _dot_skeleton(text: str) -> list[str]:
    return [re.sub(r'"(?:[^"\\]|\\.)*"', '"L"', line) for line in text.splitlines()]


MERMAID_LINE = re.compile(r'^(flowchart (TD|LR)|  m\d+\["L"\]|  c\(\["L"\]\)|'
                          r'  m\d+ -->\|(supervises|"L")\| (m\d+|c)|'
                          r"  classDef \w+ [\w:\- ]+|  class [m\d,]+ \w+)$")
DOT_LINE = re.compile(r'^(digraph \w+ \{|  rankdir=(TB|LR);|  node \[shape=box\];|\}|'
                      r'  (m\d+|c) \[label="L"(, [a-z]+=\w+)*\];|'
                      r'  m\d+ -> (m\d+|c) \[label="L"\];)$')


def _clean(text: str) -> None:
    for ch in text:
        assert ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"), repr(ch)


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_stay_inside_their_mermaid_labels(name):
    state = small(dana_first=name, sam_last=name)
    plain = small()
    for text, expected in (
            (graph.mermaid_supervision(state), graph.mermaid_supervision(plain)),
            (graph.mermaid_client(state, "C-1", rows_for_client(state, "C-1")),
             graph.mermaid_client(plain, "C-1", rows_for_client(plain, "C-1")))):
        _clean(text)
        assert len(text.splitlines()) == len(expected.splitlines())
        for line in _mermaid_skeleton(text):
            assert MERMAID_LINE.match(line), line
        labels = re.findall(r'"([^"]*)"', text)
        for label in labels:  # no HTML but the line breaks shsync puts there
            assert "<" not in label.replace("<br/>", ""), label
            assert "|" not in label and "`" not in label and "%" not in label


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_stay_inside_their_dot_labels(name):
    state = small(dana_first=name, sam_last=name)
    for text in (graph.dot_supervision(state),
                 graph.dot_client(state, "C-1", rows_for_client(state, "C-1"))):
        _clean(text)
        for line in _dot_skeleton(text):
            assert DOT_LINE.match(line), line


def test_hostile_characters_are_shown_not_dropped():
    name = 'A"B]\x1b\u202e\n'
    assert graph.mermaid_text(name) == "A#34;B#93;\\u001b\\u202e\\u000a".replace(
        "\\", "#92;")
    assert graph.dot_text(name) == 'A\\"B]\\\\u001b\\\\u202e\\\\u000a'
    assert graph.mermaid_text("Zoë O'Brien-Smith") == "Zoë O'Brien-Smith"

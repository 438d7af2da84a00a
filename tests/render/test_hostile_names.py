"""Hostile names: whatever a name, an email, a client id or the practice's name holds, no control
character, bidi override or line separator reaches the output, in any format, and no value can
forge a line of a plan, a row of a Markdown table or a spreadsheet formula.

The values reach the renderers the way an attacker would bring them: from a store edited outside
shsync (validation refuses them in org files, `control-character`), through the planner.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata

import pytest

from shsync.stores.sqlite import SqliteBackend
from shsync.core import access
from shsync.core.state import ClientState, Desired, MemberState, PracticeState
from shsync.render import access as render_access
from shsync.render import plan as render
from shsync.render.escape import csv_cell, markdown, visible
from tests.conftest import NOW, run_cli
from tests.core.builders import ADMIN, D, make, want

HOSTILE = [
    "\x1b[2K\x1b[1A",                                            # ANSI: erase the line above
    "\r\nNo changes. The live practice matches the org file.",  # a forged line
    "\n| `+` | x | invite as administrator |",                  # a forged Markdown row
    "a|b|c",                                                     # table syntax
    "`code` **bold** [link](https://evil.example) <img src=x>",  # code, emphasis, links, HTML
    "\u2028line\u2029paragraph",                                  # Unicode separators
    "\u202eevil\u202c \u2066iso\u2069 \u200f",                    # bidi override, isolate, mark
    "\x00nul\x7fdel\x85nel\x9bcsi",                               # NUL, DEL, C1 controls
    "=HYPERLINK(\"https://evil.example\")",                      # formulas
    "+1+1", "-1", "@SUM(A1)", "\tTab", "\rCR",
]
FORGED = "No changes. The live practice matches the org file."
# Emails and ids that pass the format's patterns but start like formulas
FORMULA_EMAILS = [f"={i}cmd{D}" for i in range(2)] + [f"+x{D}", f"-x{D}", f"@x{D}"]


def hidden(text: str) -> list[str]:
    """Characters a person would not see as themselves; newlines between lines are ours."""
    return [repr(ch) for ch in text
            if ch != "\n" and unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp", "Cs"}]


def strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    items = value.values() if isinstance(value, dict) else value
    return [s for v in items for s in strings(v)] if isinstance(items, list | type({}.values())) \
        else []


def person(email: str, first: str, last: str, *roles: str) -> MemberState:
    return MemberState(email, first, last, tuple(sorted(roles)))


def practices() -> tuple[PracticeState, Desired]:
    """A live practice full of hostile values, and an org that renames, invites and removes."""
    members = [ADMIN] + [person(f"h{i}{D}", f"Ann{bad}", bad, "practitioner")
                         for i, bad in enumerate(HOSTILE)]
    members += [person(email, HOSTILE[i], "X", "scheduler")
                for i, email in enumerate(FORMULA_EMAILS)]
    evil = f"evil\x1b[2K\u202e{D}"  # only a store edited outside shsync could hold this email
    members.append(person(evil, "E\nvil", "X", "practitioner"))
    clients = {f"C{i}\n|x|": ClientState(f"C{i}\n|x|", f"h{i}{D}", (ADMIN.email,))
               for i in range(3)}
    clients["=cmd"] = ClientState("=cmd", evil, (f"h1{D}",))
    live = PracticeState({x.email: x for x in members}, clients, name=f"Old{HOSTILE[0]}")
    renamed = [person(f"h{i}{D}", f"New{bad}", f"{bad}2", "practitioner")
               for i, bad in enumerate(HOSTILE)]
    invited = [person(f"n{i}{D}", bad, bad, "scheduler") for i, bad in enumerate(HOSTILE)]
    wanted = want(ADMIN)
    desired = Desired({**wanted.members, **{x.email: x for x in renamed + invited}}, clients,
                      {}, True, True, name=f"New{HOSTILE[1]}{HOSTILE[6]}")
    return live, desired


@pytest.fixture(scope="module")
def planned():
    live, desired = practices()
    plan = make(desired, live, allow_mass_removal=True)
    assert plan.operations, "the hostile plan has changes to render"
    return live, plan


@pytest.mark.parametrize("fmt", ["text", "runbook", "markdown"])
def test_no_hidden_character_reaches_a_rendered_plan(planned, fmt):
    _, plan = planned
    out = {"text": render.text, "runbook": render.runbook, "markdown": render.markdown}[fmt](plan)
    assert hidden(out) == []
    assert FORGED not in out.splitlines()
    assert "\\x1b" in out and "\\u202e" in out and "\\u2028" in out  # shown, not dropped


def test_no_value_forges_a_markdown_row_or_html(planned):
    _, plan = planned
    out = render.markdown(plan)
    for line in out.splitlines():
        if line.startswith("|"):
            unescaped = len(line) - len(line.replace("|", "")) - line.count("\\|")
            assert unescaped in (4, 5), line  # three or four columns: no forged cell
        else:
            assert "|" not in line.replace("\\|", ""), line
    assert "<img" not in out and "[link](" not in out
    assert "| `+` | x |" not in out


def test_json_escapes_every_hidden_character_and_keeps_the_values(planned):
    _, plan = planned
    out = render.as_json(plan)
    assert out.isascii() and hidden(out) == []
    assert f"New{HOSTILE[0]}" in strings(json.loads(out)["changes"])  # the value, unchanged


def test_the_access_report_escapes_every_format(planned):
    live, _ = planned
    by_member = access.rows_for_member(live, f"h1{D}")
    by_client = access.rows_for_client(live, "=cmd")
    for rows in (by_member, by_client):
        assert hidden(render_access.as_json(rows)) == [] and render_access.as_json(rows).isascii()
        out = render_access.as_csv(rows)
        assert hidden(out) == []
        for row in csv.reader(io.StringIO(out)):
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
    evil = next(e for e in live.members if e.startswith("evil"))
    tables = [render_access.table_for_client("=cmd", by_client),
              render_access.table_for_client("C0\n|x|", access.rows_for_client(live, "C0\n|x|")),
              render_access.table_for_member(evil, access.rows_for_member(live, evil),
                                             len(live.clients))]
    for out in tables:
        assert hidden(out) == []
    assert "\\x1b[2K\\u202e" in tables[2]


def test_history_and_plans_through_the_cli_show_nothing_hidden(tmp_path, planned):
    live, _ = planned
    db = tmp_path / "p.db"
    store = SqliteBackend(str(db))
    from shsync.core.authorize import Actor

    store.seed(live, actor=Actor.operator(f"operator:{HOSTILE[0]}{HOSTILE[5]}"),
               now=NOW)
    store.close()
    org = tmp_path / "org.yaml"
    org.write_text("version: 1\nprune: false\nmembers:\n"
                   "  - {email: admin@p.example, first_name: Admin, last_name: X, admin: true,\n"
                   "     owner: true, roles: [practitioner, supervisor]}\n")
    outputs = []
    for args in (["history"], ["history", "--format", "json"],
                 ["access", "--client", "=cmd", "--format", "csv"],
                 ["access", "--member", f"h0{D}"],
                 *(["plan", str(org), "--format", f] for f in ("text", "markdown", "runbook",
                                                               "json"))):
        result = run_cli(*args, env={"SHSYNC_BACKEND": f"sqlite:///{db}"})
        assert result.exit_code == 0, (args, result.output)
        outputs.append(result.output)
    for out in outputs:
        assert hidden(out) == [], out
    assert "operator:\\x1b[2K\\x1b[1A\\u2028line" in outputs[0]


def test_a_hostile_cli_argument_is_echoed_visibly_in_the_error(tmp_path):
    org = tmp_path / "org.yaml"
    org.write_text("version: 1\nmembers:\n"
                   "  - {email: a@p.example, first_name: A, last_name: X, admin: true}\n")
    result = run_cli("access", "--file", org, "--member", "x\x1b[2j\u202e@p.example")
    assert result.exit_code == 1
    assert hidden(result.output) == []
    assert result.output == ("error[unknown-member]: x\\x1b[2j\\u202e@p.example is not a member "
                             "of this practice\n")


@pytest.mark.parametrize("value, shown", [
    ("plain", "plain"), ("\x1b[31m", "\\x1b[31m"), ("a\nb", "a\\x0ab"), ("\u2028", "\\u2028"),
    ("\u202e", "\\u202e"), ("\x00", "\\x00"), ("\U000e0041", "\\U000e0041"), ("Łódź 李", "Łódź 李"),
])
def test_visible_shows_what_it_escapes(value, shown):
    assert visible(value) == shown


@pytest.mark.parametrize("value, shown", [
    ("a|b", "a\\|b"), ("`x`", "\\`x\\`"), ("<b>", "&lt;b>"), ("a\nb", "a\\\\x0ab"),
    ("[l](u)", "\\[l\\](u)"), ("*b* _i_", "\\*b\\* \\_i\\_"), ("x\\|", "x\\\\\\|"),
])
def test_markdown_escapes_table_code_and_html_syntax(value, shown):
    assert markdown(value) == shown


@pytest.mark.parametrize("value, shown", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\\x09x"), ("\rx", "'\\x0dx"), ("sam@x.example", "sam@x.example"), ("a=b", "a=b"),
])
def test_csv_cells_that_look_like_formulas_are_prefixed(value, shown):
    assert csv_cell(value) == shown

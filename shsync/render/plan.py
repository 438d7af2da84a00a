"""Plans as text (terminal), markdown (pull-request comment), runbook (steps for a person) and
JSON. Pure functions from a `Plan` to a string; colour is the caller's choice.

Every value a plan carries (names, emails, the practice's name) came from outside, so each format
escapes it (`render.escape`): text and runbook show control characters visibly, markdown also
escapes its own syntax, JSON escapes every non-ASCII character."""

from __future__ import annotations

import json
from collections.abc import Callable

from shsync.core.access import AccessChange
from shsync.core.actions import ACTIONS, widens
from shsync.core.operations import Operation
from shsync.core.plan import Deferred, Plan
from shsync.render.escape import markdown as md
from shsync.render.escape import markdown_code, markdown_text, visible
from shsync.render.notices import collapse_messages

Style = Callable[[str, str], str]  # (text, colour) -> text


def _plain(text: str, colour: str) -> str:
    return text


def describe(o: Operation) -> tuple[str, str]:
    """(symbol, text) for one operation: + adds, ~ changes, - takes away."""
    return ACTIONS[o.action].describe(o)


def _describe(o: Operation, plan: Plan) -> tuple[str, str]:
    if o.action == "remove_member" and plan.status_of(o.target) == "invited":
        return "-", "revoke the pending invitation"
    return describe(o)


def _waits(d: Deferred) -> str:
    return f"after {d.waits_for} accepts"


def _header(plan: Plan) -> str:
    name = f" ({plan.practice_name})" if plan.practice_name else ""
    return f"Plan for practice {plan.practice!r}{name} (live fingerprint {plan.fingerprint[:19]})"


WIDENS = "[widens access]"


def _widens(o: Operation) -> str:
    return f" {WIDENS}" if widens(o) else ""


def access_line(a: AccessChange) -> str:
    """`sam.lee@x gains notes, diagnoses on 3 clients (granted): C-1, C-2, C-3`"""
    caps = ", ".join(c.replace("_", " ") for c in a.capabilities)
    verb = "gains" if a.change == "gain" else "loses"
    # No count of nothing: `on all 0 clients` (a practice with no client yet) is every client.
    where = (" on all clients" if a.all_clients and not a.client_count else
             f" on all {a.client_count} clients" if a.all_clients else
             f" on {a.client_count} client(s)" if a.client_count else "")
    listed = ""
    if a.clients and not a.all_clients:
        more = a.client_count - len(a.clients)
        listed = ": " + ", ".join(a.clients) + (f" and {more} more" if more > 0 else "")
    return f"{a.member} {verb} {caps}{where} ({a.reason}){listed}"


def _access_lines(plan: Plan) -> list[str]:
    return [f"{'+' if a.change == 'gain' else '-'} {access_line(a)}" for a in plan.access_changes]


def _subject(o: Operation, plan: Plan) -> str:
    if ACTIONS[o.action].kind == "client":
        return f"client {o.target}"
    if ACTIONS[o.action].kind == "practice":
        return "practice"
    status = plan.status_of(o.target)
    return f"{o.target} ({status})" if status else o.target


_COLOUR = {"+": "green", "~": "yellow", "-": "red"}


def _nothing(plan: Plan) -> str:
    """What a plan without steps says, by what it compared: only a plan from an org file
    (`plan`, `apply`) can say the practice matches that file."""
    if plan.kind == "expire":
        return "No access has ended; nothing to expire."
    if plan.kind == "refresh":
        return "No drift: the observation of Sessions Health matches shsync's store."
    if plan.kind != "apply" or plan.deferred:
        return "No changes to apply now."
    if any(w.code == "break-glass" for w in plan.warnings):
        return ("No changes to apply now. The live practice matches the org file apart from "
                "the emergency access below, which ends by itself.")
    return "No changes. The live practice matches the org file."


def text(plan: Plan, style: Style = _plain) -> str:
    def plain(line: str, colour: str) -> str:
        return style(visible(line), colour)

    return _text(plan, plain)


def _text(plan: Plan, style: Style) -> str:
    lines = [visible(_header(plan)), ""]
    if not plan.operations:
        lines.append(_nothing(plan))
    for o in plan.operations:
        symbol, what = _describe(o, plan)
        lines.append(style(f"  {symbol} {_subject(o, plan)}: {what}{_widens(o)}",
                           _COLOUR[symbol]))
    if plan.deferred:
        lines += ["", "Deferred until an invitation is accepted (planned again after "
                      "`shsync accepted`):"]
        for d in plan.deferred:
            symbol, what = _describe(d.operation, plan)
            lines.append(style(f"  {symbol} {_subject(d.operation, plan)}: {what} "
                               f"({_waits(d)}){_widens(d.operation)}", "cyan"))
    if plan.access_changes:
        lines += ["", "Access changes (who gains or loses what, on which clients):"]
        lines += [style(f"  {line}", "green" if line[0] == "+" else "red")
                  for line in _access_lines(plan)]
    if plan.warnings:
        lines += ["", "Warnings:"]
        lines += [style(f"  ! [{w.code}] {w.message}", "yellow")
                  for w in collapse_messages(plan.warnings)]
    if plan.errors:
        lines += ["", "Errors (this plan cannot be applied):"]
        lines += [style(f"  x [{e.code}] {e.message}", "red") for e in plan.errors]
    lines += ["", visible(plan.summary.line() + _deferred_line(plan))]
    return "\n".join(lines) + "\n"


def brief(plan: Plan) -> str:
    """The header, the warnings (collapsed) and the summary, without the steps: what a batched
    apply prints before it starts."""
    lines = [_header(plan), ""]
    if plan.warnings:
        lines += ["Warnings:"] + [f"  ! [{w.code}] {w.message}"
                                  for w in collapse_messages(plan.warnings)] + [""]
    lines.append(plan.summary.line() + _deferred_line(plan))
    lines.append("(every step: `shsync plan` with the same file)")
    return "\n".join(visible(line) for line in lines) + "\n"


def _deferred_line(plan: Plan) -> str:
    if not plan.deferred:
        return ""
    waiting = sorted({d.waits_for for d in plan.deferred})
    return (f" {len(plan.deferred)} step(s) deferred until "
            f"{', '.join(waiting[:3])}{f' and {len(waiting) - 3} more' if len(waiting) > 3 else ''}"
            f" accept{'s' if len(waiting) == 1 else ''}.")


def as_json(plan: Plan, **extra: object) -> str:
    """The plan's own JSON with the CLI envelope's `ok` (errors and warnings are already in it),
    and `extra` keys (`plan_id` of a stored plan)."""
    return json.dumps({"ok": not plan.errors, **plan.to_dict(), **extra}, indent=2) + "\n"


def markdown(plan: Plan) -> str:
    status = "cannot be applied" if plan.errors else (
        "has changes" if plan.operations else
        "waits for acceptances" if plan.deferred else "has no changes")
    name = f" ({plan.practice_name})" if plan.practice_name else ""
    lines = [f"### shsync plan for {markdown_code(plan.practice)}{md(name)}: {status}", "",
             f"**{md(plan.summary.line() + _deferred_line(plan))}**", ""]
    if plan.errors:
        lines += ["**Errors**", ""]
        lines += [f"- :x: {markdown_code(e.code)} {markdown_text(e.message)}"
                  for e in plan.errors] + [""]
    if plan.warnings:
        lines += ["**Warnings**", ""]
        lines += [f"- :warning: {markdown_code(w.code)} {markdown_text(w.message)}"
                  for w in collapse_messages(plan.warnings)] + [""]
    if plan.access_changes:
        lines += ["**Access changes**", ""]
        lines += [f"- `{line[0]}` {md(line[2:])}" for line in _access_lines(plan)] + [""]
    if plan.operations:
        rows = ["| | target | change |", "|---|---|---|"]
        for o in plan.operations:
            symbol, what = _describe(o, plan)
            flag = " **widens access**" if widens(o) else ""
            rows.append(f"| `{symbol}` | {md(_subject(o, plan))} | {markdown_text(what)}"
                        f"{flag} |")
        if len(plan.operations) > 30:
            lines += [f"<details><summary>{len(plan.operations)} changes</summary>", "", *rows,
                      "", "</details>"]
        else:
            lines += rows
        lines.append("")
    if plan.deferred:
        lines += ["**Deferred** (until an invitation is accepted)", "",
                  "| | target | change | waits for |", "|---|---|---|---|"]
        for d in plan.deferred:
            symbol, what = _describe(d.operation, plan)
            flag = " **widens access**" if widens(d.operation) else ""
            lines.append(f"| `{symbol}` | {md(_subject(d.operation, plan))} | "
                         f"{markdown_text(what)}{flag} | "
                         f"{md(d.waits_for)} |")
        lines.append("")
    lines.append(f"<sub>live fingerprint {markdown_code(plan.fingerprint)}</sub>")
    return "\n".join(lines) + "\n"


def _step(o: Operation, plan: Plan) -> str:
    if o.action == "remove_member" and plan.status_of(o.target) == "invited":
        return (f'{ACTIONS_MEMBERS} > "..." next to {o.target} (invited) > Revoke Invitation.')
    return ACTIONS[o.action].step(o)


ACTIONS_MEMBERS = "Account Settings > Account > Members"


def runbook(plan: Plan) -> str:
    lines = [f"Runbook for practice {plan.practice!r}: carry out these steps in Sessions Health, "
             "in order.", ""]
    if plan.errors:
        lines += ["This plan has errors and must not be carried out:"]
        lines += [f"  x [{e.code}] {e.message}" for e in plan.errors] + [""]
    if not plan.operations:
        lines.append("Nothing to do now.")
    for number, o in enumerate(plan.operations, 1):
        status = plan.status_of(o.target)
        pending = (f" [{o.target} has not accepted the invitation yet]"
                   if status == "invited" else "")
        lines.append(f"{number}. {_step(o, plan)}{pending}{_widens(o)}")
    waiting: dict[str, list[Deferred]] = {}
    for d in plan.deferred:
        waiting.setdefault(d.waits_for, []).append(d)
    for who, steps in sorted(waiting.items()):
        lines += ["", f"After {who} accepts (run `shsync accepted {who}`, then plan again):"]
        lines += [f"  - {_step(d.operation, plan)}{_widens(d.operation)}" for d in steps]
    if plan.warnings:
        lines += ["", "Before you start, note:"] + [f"  ! {w.message}"
                                                     for w in collapse_messages(plan.warnings)]
    if any(w.code == "break-glass" for w in plan.warnings):
        lines += ["", "Emergency access ends by itself: at the time shown above, untick the "
                      "member in Clients > ID > Manage Access, then run `shsync expire` (or "
                      "plan and apply) to record it. An administrator reviews each emergency "
                      "(`shsync history --break-glass`, `shsync review ENTRY --note TEXT`)."]
    if plan.access_changes:
        lines += ["", "Access changes:"] + [f"  {line}" for line in _access_lines(plan)]
    lines += ["", plan.summary.line() + _deferred_line(plan)]
    return "\n".join(visible(line) for line in lines) + "\n"

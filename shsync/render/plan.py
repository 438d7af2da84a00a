"""Plans as text (terminal), markdown (pull-request comment), runbook (steps for a person) and
JSON. Pure functions from a `Plan` to a string; colour is the caller's choice."""

from __future__ import annotations

import json
from collections.abc import Callable

from shsync.reconcile.access import AccessChange
from shsync.reconcile.operations import Operation
from shsync.reconcile.plan import Plan

Style = Callable[[str, str], str]  # (text, colour) -> text


def _plain(text: str, colour: str) -> str:
    return text


def _who(email: str | None) -> str:
    return email if email else "nobody"


def _flag(value: bool, on: str, off: str) -> str:
    return on if value else off


def _invite_text(o: Operation) -> str:
    parts = [", ".join(o.get("roles")) or "no role"]
    if o.get("admin"):
        parts.append("administrator")
    if o.get("npi"):
        parts.append(f"NPI {o.get('npi')}")
    if o.get("taxonomy"):
        parts.append(f"taxonomy {o.get('taxonomy')}")
    if "practitioner" in o.get("roles"):
        if not o.get("billing_access"):
            parts.append("billing access off")
        if o.get("full_clinical_access"):
            parts.append("full clinical access")
    return "invite as " + "; ".join(parts)


def describe(o: Operation) -> tuple[str, str]:
    """(symbol, text) for one operation: + adds, ~ changes, - takes away."""
    a = o.action
    if a == "invite_member":
        return "+", _invite_text(o)
    if a == "update_member":
        return "~", "; ".join(f"{name}: {old or '(none)'} -> {new or '(none)'}"
                              for name, (old, new) in o.get("changes"))
    if a == "grant_role":
        return "~", f"grant role {o.get('role')}"
    if a == "revoke_role":
        return "~", f"revoke role {o.get('role')}"
    if a == "set_admin":
        return "~", _flag(o.get("admin"), "make administrator", "remove administrator rights")
    if a == "set_billing_access":
        return "~", _flag(o.get("billing_access"), "turn billing access on",
                          "turn billing access off")
    if a == "set_full_clinical_access":
        return "~", _flag(o.get("full_clinical_access"), "grant full clinical access",
                          "remove full clinical access")
    if a == "set_supervisor":
        return "~", f"supervisor: {_who(o.get('previous'))} -> {_who(o.get('supervisor'))}"
    if a == "create_client":
        text = f"create, practitioner {o.get('practitioner')}"
        if o.get("access"):
            text += f", access for {', '.join(o.get('access'))}"
        if o.get("supervisor"):
            text += f", supervisor {o.get('supervisor')}"
        return "+", text
    if a == "reassign_client":
        return "~", f"practitioner: {o.get('previous')} -> {o.get('practitioner')}"
    if a == "set_client_supervisor":
        return "~", f"supervisor: {_who(o.get('previous'))} -> {_who(o.get('supervisor'))}"
    if a == "grant_access":
        return "+", f"grant access to {o.get('member')}"
    if a == "revoke_access":
        return "-", f"revoke access of {o.get('member')}"
    if a == "handoff_notes":
        return "~", f"hand off {o.get('count')} incomplete note(s) to {o.get('to')}"
    if a == "remove_member":
        return "-", f"remove (cancels {o.get('cancel_appointments')} future appointment(s))"
    raise ValueError(f"unknown action {a}")


def _describe(o: Operation, plan: Plan) -> tuple[str, str]:
    if o.action == "remove_member" and plan.status_of(o.target) == "invited":
        return "-", "revoke the pending invitation"
    return describe(o)


def _after(o: Operation) -> str:
    return f" ({o.after})" if o.after else ""


WIDENS = "[widens access]"


def _widens(o: Operation) -> str:
    return f" {WIDENS}" if o.escalation else ""


def access_line(a: AccessChange) -> str:
    """`sam.lee@x gains notes, diagnoses on 3 clients (granted): C-1, C-2, C-3`"""
    caps = ", ".join(c.replace("_", " ") for c in a.capabilities)
    verb = "gains" if a.change == "gain" else "loses"
    where = f"all {a.client_count} clients" if a.all_clients else f"{a.client_count} client(s)"
    listed = ""
    if a.clients and not a.all_clients:
        more = a.client_count - len(a.clients)
        listed = ": " + ", ".join(a.clients) + (f" and {more} more" if more > 0 else "")
    return f"{a.member} {verb} {caps} on {where} ({a.reason}){listed}"


def _access_lines(plan: Plan) -> list[str]:
    return [f"{'+' if a.change == 'gain' else '-'} {access_line(a)}" for a in plan.access_changes]


def _subject(o: Operation, plan: Plan) -> str:
    if o.on_client:
        return f"client {o.target}"
    status = plan.status_of(o.target)
    return f"{o.target} ({status})" if status else o.target


_COLOUR = {"+": "green", "~": "yellow", "-": "red"}


def text(plan: Plan, style: Style = _plain) -> str:
    lines = [f"Plan for practice {plan.practice!r} (live fingerprint {plan.fingerprint[:19]})", ""]
    if not plan.operations:
        lines.append("No changes. The live practice matches the org file.")
    for o in plan.operations:
        symbol, what = _describe(o, plan)
        lines.append(style(f"  {symbol} {_subject(o, plan)}: {what}{_after(o)}{_widens(o)}",
                           _COLOUR[symbol]))
    if plan.access_changes:
        lines += ["", "Access changes (who gains or loses what, on which clients):"]
        lines += [style(f"  {line}", "green" if line[0] == "+" else "red")
                  for line in _access_lines(plan)]
    if plan.warnings:
        lines += ["", "Warnings:"]
        lines += [style(f"  ! [{w.code}] {w.message}", "yellow") for w in plan.warnings]
    if plan.errors:
        lines += ["", "Errors (this plan cannot be applied):"]
        lines += [style(f"  x [{e.code}] {e.message}", "red") for e in plan.errors]
    lines += ["", plan.summary.line()]
    return "\n".join(lines) + "\n"


def as_json(plan: Plan) -> str:
    return json.dumps(plan.to_dict(), indent=2) + "\n"


def markdown(plan: Plan) -> str:
    status = "cannot be applied" if plan.errors else (
        "has changes" if plan.operations else "has no changes")
    lines = [f"### shsync plan for `{plan.practice}`: {status}", "", f"**{plan.summary.line()}**",
             ""]
    if plan.errors:
        lines += ["**Errors**", ""] + [f"- :x: `{e.code}` {e.message}" for e in plan.errors] + [""]
    if plan.warnings:
        lines += ["**Warnings**", ""]
        lines += [f"- :warning: `{w.code}` {w.message}" for w in plan.warnings] + [""]
    if plan.access_changes:
        lines += ["**Access changes**", ""]
        lines += [f"- `{line[0]}` {line[2:]}" for line in _access_lines(plan)] + [""]
    if plan.operations:
        rows = ["| | target | change |", "|---|---|---|"]
        for o in plan.operations:
            symbol, what = _describe(o, plan)
            flag = " **widens access**" if o.escalation else ""
            rows.append(f"| `{symbol}` | {_subject(o, plan)} | {what}{_after(o)}{flag} |")
        if len(plan.operations) > 30:
            lines += [f"<details><summary>{len(plan.operations)} changes</summary>", "", *rows,
                      "", "</details>"]
        else:
            lines += rows
        lines.append("")
    lines.append(f"<sub>live fingerprint `{plan.fingerprint}`</sub>")
    return "\n".join(lines) + "\n"


_MEMBERS = "Account Settings > Account > Members"


def _step(o: Operation, plan: Plan) -> str:
    a, t = o.action, o.target
    edit = f'{_MEMBERS} > "..." next to {t} > Edit'
    if a == "remove_member" and plan.status_of(t) == "invited":
        return f'{_MEMBERS} > "..." next to {t} (invited) > Revoke invitation.'
    if a == "invite_member":
        return (f"{_MEMBERS} > Invite Someone: email {t}, name {o.get('first_name')} "
                f"{o.get('last_name')}; {_invite_text(o)[len('invite as '):]}. "
                "Send the invitation.")
    if a == "remove_member":
        return (f'{_MEMBERS} > "..." next to {t} > Remove. Confirm that their '
                f"{o.get('cancel_appointments')} future appointment(s) are cancelled and their "
                "supervisees lose supervision.")
    if a == "handoff_notes":
        return (f"Hand off {t}'s {o.get('count')} incomplete note(s) to {o.get('to')} (Sessions "
                "Health asks for this when you remove the member).")
    if o.on_client:
        what = describe(o)[1]
        if a == "create_client":
            return f"Add a client with reference {t}: {what}."
        if a in ("grant_access", "revoke_access"):
            return f"Open client {t} > Manage Access: {what}."
        return f"Open client {t} and change its {what}."
    return f"{edit}: {describe(o)[1]}. Save."


def runbook(plan: Plan) -> str:
    lines = [f"Runbook for practice {plan.practice!r}: carry out these steps in Sessions Health, "
             "in order.", ""]
    if plan.errors:
        lines += ["This plan has errors and must not be carried out:"]
        lines += [f"  x [{e.code}] {e.message}" for e in plan.errors] + [""]
    if not plan.operations:
        lines.append("Nothing to do.")
    for number, o in enumerate(plan.operations, 1):
        status = plan.status_of(o.target)
        pending = (f" [{o.target} has not accepted the invitation yet]"
                   if status == "invited" else "")
        after = f" Do this {o.after}." if o.after else ""
        lines.append(f"{number}. {_step(o, plan)}{after}{pending}{_widens(o)}")
    if plan.warnings:
        lines += ["", "Before you start, note:"] + [f"  ! {w.message}" for w in plan.warnings]
    if plan.access_changes:
        lines += ["", "Access changes:"] + [f"  {line}" for line in _access_lines(plan)]
    lines += ["", plan.summary.line()]
    return "\n".join(lines) + "\n"

"""Runbook steps for a person at Sessions Health's screen: text, markdown, JSON and a printable
HTML checklist. Pure. Everything shown is escaped (`render.escape`): a member's name or a note
with control characters cannot rewrite a terminal, a comment or a page."""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Sequence

from shsync.core.runbook import Step
from shsync.render.escape import markdown as md
from shsync.render.escape import markdown_code, markdown_text, visible
from shsync.render.report import CSP, STYLE

HOW = ("Carry them out in Sessions Health, then record each with `shsync done R-N` "
       "(an administrator, or the member a step is addressed to).")


def _when(step: Step, now: str) -> str:
    if step.state == "pending":
        late = "OVERDUE, " if step.overdue(now) else ""
        waits = f"; waits for {step.waits_for} to accept" if step.waits_for else ""
        return f"{late}due {step.due}{waits}"
    note = f" ({step.note})" if step.note else ""
    return f"{step.state} by {step.by} at {step.at}{note}"


def _effect(step: Step) -> str:
    return {"narrows": " [narrows access]", "widens": " [widens access]"}.get(step.effect, "")


def text(steps: Sequence[Step], now: str, *, practice: str, everything: bool = False) -> str:
    pending = [s for s in steps if s.state == "pending"]
    overdue = [s for s in pending if s.overdue(now)]
    if not steps:
        head = ("No runbook steps." if everything else
                "Nothing outstanding: every step recorded so far was carried out in Sessions "
                "Health (`shsync runbook --all` lists them).")
        return visible(f"Runbook for practice {practice!r}: {head}") + "\n"
    lines = [f"Runbook for practice {practice!r}: {len(pending)} step(s) to carry out in "
             f"Sessions Health" + (f", {len(overdue)} overdue" if overdue else "") + ".", ""]
    for s in steps:
        lines.append(f"{s.label} (entry #{s.entry}, {_when(s, now)}){_effect(s)}")
        lines.append(f"    {s.text}")
    if pending:
        lines += ["", HOW]
    return "\n".join(visible(line) for line in lines) + "\n"


def markdown(steps: Sequence[Step], now: str, *, practice: str,
             everything: bool = False) -> str:
    pending = [s for s in steps if s.state == "pending"]
    lines = [f"### Runbook for {markdown_code(practice)}: {len(pending)} step(s) outstanding",
             ""]
    if not steps:
        return "\n".join(lines + ["Nothing outstanding."]) + "\n"
    for s in steps:
        box = "x" if s.state != "pending" else " "
        lines.append(f"- [{box}] **{md(s.label)}** {markdown_text(s.text)} "
                     f"_({markdown_text(_when(s, now))})_"
                     f"{md(_effect(s))}")
    if pending:
        lines += ["", markdown_text(HOW)]
    return "\n".join(lines) + "\n"


def as_json(steps: Sequence[Step], now: str, *, practice: str, everything: bool = False) -> str:
    pending = [s for s in steps if s.state == "pending"]
    body = {"practice": practice, "now": now, "pending": len(pending),
            "overdue": sum(s.overdue(now) for s in pending),
            "steps": [s.to_dict(now) for s in steps]}
    return json.dumps(body, indent=2) + "\n"


def _e(value: object) -> str:
    return html.escape(visible(str(value)), quote=True)


PRINT = """
.step { border: 1px solid #d0d7de; border-radius: .3rem; padding: .5rem .7rem; margin: .5rem 0; }
.step.overdue { border-color: #cf222e; } .box { font-size: 1.3rem; margin-right: .4rem; }
.due { color: #57606a; } .overdue .due { color: #cf222e; font-weight: 600; }
@media print { nav, .noprint { display: none; } .step { break-inside: avoid; } }
"""


def page(steps: Sequence[Step], now: str, *, practice: str, everything: bool = False) -> str:
    """A printable checklist: one box per step, with its screen, control and deadline."""
    pending = [s for s in steps if s.state == "pending"]
    title = f"Runbook: {practice}"
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
             f"<title>{_e(title)}</title>", f"<style>{STYLE}{PRINT}</style>", "</head>",
             "<body>", f"<h1>{_e(title)}</h1>",
             f'<p class="meta">{len(pending)} step(s) to carry out in Sessions Health, as of '
             f"{_e(now)}. {_e(HOW)}</p>"]
    if not steps:
        parts.append("<p>Nothing outstanding.</p>")
    for s in steps:
        late = " overdue" if s.overdue(now) else ""
        box = "&#9745;" if s.state != "pending" else "&#9744;"
        parts.append(f'<div class="step{late}" id="{_e(s.label)}"><span class="box">{box}'
                     f"</span><strong>{_e(s.label)}</strong> {_e(s.text)}"
                     f'<div class="due">{_e(_when(s, now))}{_e(_effect(s))} &middot; audit entry '
                     f"#{s.entry}</div></div>")
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


Renderer = Callable[..., str]
FORMATS: dict[str, Renderer] = {"text": text, "markdown": markdown, "json": as_json,
                                "html": page}

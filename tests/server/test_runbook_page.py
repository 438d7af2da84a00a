"""The runbook checklist page (`GET /practices/NAME/runbook/page`), served without a token since
it holds no data, and driven in a real headless Chromium as the administrator at Sessions
Health's screen would: sign in with a token (never in the address), tick two steps Done (one
with a note), see them gone, and find one `done` audit entry per click with the right step.
Names with markup and control characters are shown as text, the page sends nothing to anyone
but its own server, and nothing it does is logged as an error."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from typing import Any

import httpx

from shsync.render.escape import visible
from tests.server.cdp import Browser
from tests.server.conftest import DANA, VICTOR, org_text
from tests.server.test_runbook_api import AHEAD, apply_in_the_store, everything, history

PAGE = "/runbook/page"
MALORY = "mal.ory@riverbend.example"
# Validation takes markup in a name (only control characters are refused in an org file).
HOSTILE_FIRST = """<img src=x onerror="document.title='pwned'">"""
HOSTILE_LAST = """</script><script>document.title='pwned'</script>"""
# What only a store edited outside shsync could hold: an ESC sequence, a bidi override and a
# line separator in a step's text, and markup.
SMUGGLED = " \x1b[2J\u202eevil\u2028 <b>bold</b>"


def hostile_org() -> bytes:
    member = (f"  - {{email: {MALORY}, first_name: {json.dumps(HOSTILE_FIRST)}, "
              f"last_name: {json.dumps(HOSTILE_LAST)}, roles: [scheduler]}}\n")
    text = org_text().decode()
    assert "\nmembers:\n" in text
    return text.replace("\nmembers:\n", "\nmembers:\n" + member, 1).encode()


def test_the_page_needs_no_token_holds_no_data_and_allows_only_itself(practice, server):
    served = httpx.get(practice.url + PAGE)
    assert served.status_code == 200
    assert served.headers["content-type"] == "text/html; charset=utf-8"
    # The same bytes for every practice, even one that does not exist: nothing of the request,
    # and no data, is in the page.
    assert httpx.get(server.url("no-such-practice") + PAGE).content == served.content
    assert practice.name not in served.text and "@" not in served.text
    policy = dict(part.split(" ", 1) for part in
                  served.headers["content-security-policy"].split("; "))
    assert policy["default-src"] == "'none'" and policy["connect-src"] == "'self'"
    assert policy["form-action"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert policy["require-trusted-types-for"] == "'script'"
    (script,) = re.findall(r"<script>(.*?)</script>", served.text, re.S)
    (style,) = re.findall(r"<style>(.*?)</style>", served.text, re.S)
    for directive, text in (("script-src", script), ("style-src", style)):
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert policy[directive] == f"'sha256-{digest}'"  # only this page's own, unchanged
    assert "innerHTML" not in script and "eval(" not in script
    assert served.headers["cache-control"] == "no-store"
    assert served.headers["referrer-policy"] == "no-referrer"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "<script src" not in served.text and "http" not in script
    # Every call for data needs a token.
    assert httpx.get(practice.url + "/runbook").status_code == 401
    assert httpx.post(practice.url + "/runbook/R-1/done").status_code == 401


def test_the_checklist_in_a_real_chromium(own_server, tmp_path):
    # The server's clock a few minutes on: the steps that take access away (due within a
    # minute) are overdue, the others are not (tests/server/test_runbook_api.py).
    later = (datetime.now(UTC) + AHEAD).strftime("%Y-%m-%dT%H:%M:%SZ")
    server, practice = own_server({"SHSYNC_NOW": later})
    # The server keeps the pending steps per audit head, and an edit made outside shsync adds
    # no entry: the store is edited before the server first reads them.
    apply_in_the_store(practice, hostile_org())
    malory = next(s for s in everything(practice).values() if s["member"] == MALORY)
    assert HOSTILE_FIRST in malory["step"] and HOSTILE_LAST in malory["step"]
    with closing(sqlite3.connect(server.db)) as db, db:
        db.execute("UPDATE runbook_steps SET step = step || ? WHERE practice = ? AND id = ?",
                   (SMUGGLED, practice.name, int(malory["id"][2:])))
    steps = pending(practice)
    shown_text = {s["id"]: visible(s["step"]) for s in steps}
    overdue = [s["id"] for s in steps if s["overdue"]]
    assert overdue and len(overdue) < len(steps)
    waiting = next(s["id"] for s in steps if s["waits_for"] == VICTOR)
    # One overdue step and one that is not.
    first = overdue[0]
    second = next(s["id"] for s in steps if not s["overdue"] and not s["waits_for"])
    token = practice.token(DANA)
    url = practice.url + PAGE

    browser = Browser(tmp_path / "profile")
    try:
        browser.goto(url)
        assert browser.evaluate("!document.getElementById('signin').hidden")
        assert browser.evaluate("document.querySelectorAll('#steps li').length") == 0

        # A token that is not valid: told so, and still signed out.
        browser.type("#token", "shs_0123456789abcdef_" + "A" * 43)
        browser.click("#signin-button")
        said = browser.wait_for("document.getElementById('status').textContent")
        assert "Not signed in: [unauthorized]" in said
        assert browser.evaluate("document.getElementById('token').value") == ""

        # Dana's token, typed and sent with Enter.
        browser.type("#token", token)
        browser.press_enter()
        browser.wait_for(f"document.querySelectorAll('#steps li').length === {len(steps)}")
        assert browser.evaluate("document.getElementById('who').textContent") == (
            f"Signed in as {DANA} (scope apply), practice {practice.name}.")
        listed = browser.evaluate("""[...document.querySelectorAll('#steps li')].map(li => ({
            id: li.dataset.step, where: li.querySelector('.where').textContent,
            due: li.querySelector('.due').textContent, overdue: li.classList.contains('overdue'),
            button: !!li.querySelector('button.done')}))""")
        assert [x["id"] for x in listed] == [s["id"] for s in steps]
        for x, step in zip(listed, steps, strict=True):
            assert x["where"] == shown_text[step["id"]]  # as text, escaped as the CLI does
            assert x["overdue"] == step["overdue"] and x["button"]
            assert step["due"] in x["due"]
            assert x["due"].startswith("OVERDUE: was due ") == step["overdue"]
        summary = browser.evaluate("document.getElementById('summary').textContent")
        assert summary.startswith(f"{len(steps)} step(s) to carry out in Sessions Health, "
                                  f"{len(overdue)} overdue, as of {later}")

        # The hostile names are text: no element, no script ran, control characters visible.
        hostile = browser.evaluate(f"""document.querySelector(
            "li[data-step='{malory['id']}'] .where").textContent""")
        assert HOSTILE_FIRST in hostile and HOSTILE_LAST in hostile
        assert "\\x1b[2J\\u202eevil\\u2028" in hostile and "<b>bold</b>" in hostile
        assert browser.evaluate("document.querySelectorAll('#steps img, #steps script, "
                                "#steps b').length") == 0
        assert browser.evaluate("document.title") == f"Runbook: {practice.name}"
        text = browser.evaluate("document.body.innerText")
        assert not any(ch in text for ch in "\x1b\u202e\u2028")

        # A step that waits for an invitation is refused, said in its place, and stays.
        browser.click(f"li[data-step='{waiting}'] button.done")
        refusal = browser.wait_for(f"""document.querySelector(
            "li[data-step='{waiting}'] .refused").textContent""")
        assert refusal.startswith("Not recorded: [step-refused]") and VICTOR in refusal

        # Tick two steps Done, the first with a note: each disappears.
        browser.type(f"li[data-step='{first}'] input.note", "removed at 10:05, checked twice")
        browser.click(f"li[data-step='{first}'] button.done")
        browser.wait_for(f"""!document.querySelector("li[data-step='{first}']") &&
            document.querySelectorAll('#steps li').length === {len(steps) - 1}""")
        assert browser.evaluate("document.getElementById('status').textContent") == (
            f"{first} recorded as carried out in Sessions Health (audit entry #4).")
        browser.click(f"li[data-step='{second}'] button.done")
        browser.wait_for(f"""!document.querySelector("li[data-step='{second}']") &&
            document.querySelectorAll('#steps li').length === {len(steps) - 2}""")
        remaining = browser.evaluate(
            "[...document.querySelectorAll('#steps li')].map(li => li.dataset.step)")
        assert remaining == [s["id"] for s in steps if s["id"] not in (first, second)]

        # The token was never in an address, a cookie or storage, and went only to this
        # server, as a header of each call for data.
        assert browser.evaluate("location.href") == url
        assert browser.evaluate("[document.cookie, localStorage.length, "
                                "sessionStorage.length]") == ["", 0, 0]
        sent = browser.requests()
        assert all(r["url"].startswith(server.base + "/") for r in sent), sent
        assert not any(token in r["url"] or token[8:] in r["url"] for r in sent)
        calls = [r for r in sent if r["url"] != url]
        assert [r["method"] for r in calls if r["url"].endswith("/done")] == ["POST"] * 3
        assert all(r["headers"].get("Authorization") in (f"Bearer {token}",
                                                         "Bearer shs_0123456789abcdef_"
                                                         + "A" * 43) for r in calls)
        page_request = next(r for r in sent if r["url"] == url)
        assert "Authorization" not in page_request["headers"]
        # Nothing logged but the two refusals the test asked for (401, then 409).
        complaints = browser.complaints()
        assert len(complaints) == 2, complaints
        assert "status of 401" in complaints[0] and complaints[0].endswith("/whoami")
        assert "status of 409" in complaints[1]
        assert complaints[1].endswith(f"/runbook/{waiting}/done")

        # The policy holds in the browser: no request elsewhere, no markup from a string.
        assert browser.evaluate("""fetch("http://127.0.0.2:9/x").then(() => "sent",
            (e) => "blocked")""") == "blocked"
        assert browser.evaluate("""(() => { try { document.body.innerHTML = "<b>x</b>";
            return "assigned"; } catch (e) { return e.name; } })()""") == "TypeError"
        later_complaints = browser.complaints()[2:]
        assert any("Content Security Policy" in c for c in later_complaints), later_complaints
        assert not any("127.0.0.2" in r["url"] for r in browser.requests())

        # Signing out forgets the token: the list goes, and the form is back.
        browser.click("#signout")
        browser.wait_for("!document.getElementById('signin').hidden && "
                         "document.querySelectorAll('#steps li').length === 0")
    finally:
        browser.close()

    # One `done` audit entry per click, with the right step, as Dana; nothing for the refusal.
    entries = history(practice)
    assert [(e["kind"], e["actor"]) for e in entries] == [
        ("seed", "test"), ("apply", "test"), ("apply", DANA), ("done", DANA),
        ("done", DANA)]
    assert entries[3]["details"] == {"steps": [first], "note": "removed at 10:05, checked twice"}
    assert entries[4]["details"] == {"steps": [second]}
    held = everything(practice)
    assert (held[first]["state"], held[first]["by"], held[first]["confirmed_in"]) == (
        "done", DANA, 4)
    assert (held[second]["state"], held[second]["note"], held[second]["confirmed_in"]) == (
        "done", None, 5)
    assert held[waiting]["state"] == "pending"


def pending(practice: Any) -> list[dict[str, Any]]:
    """The pending steps, as the API answers them now."""
    with practice.as_member(DANA, "read") as reader:
        return reader.get("/runbook").json()["steps"]

"""The runbook checklist page (`GET /practices/NAME/runbook/page`): one static page for the
administrator sitting at Sessions Health's screen, with each outstanding step, its screen and
control, its deadline, and a Done button (a note optional).

The page holds no data, so serving it needs no token; every call it makes for data does. Its
script asks for a token in a form, keeps it in the page's memory only (never in the URL, a
cookie or storage), and sends it as an `Authorization` header with `fetch` to this same server,
under the path the page was served from (so nothing of the request is written into the page).
Everything shown is built as DOM text nodes (`textContent`), with control and format characters
made visible as `render.escape.visible` does; the Content-Security-Policy allows only this
page's own script and style (by hash), requests only to this server, no form submission (a
token typed into the form can never end up in an address, whatever the script does), and Trusted
Types with no policy, so no string can ever reach `innerHTML`.
"""

from __future__ import annotations

import base64
import hashlib

from starlette.responses import Response

from shsync.render.report import STYLE

PAGE_STYLE = STYLE + """
.signin, .session { border: 1px solid #d0d7de; border-radius: .3rem; padding: .6rem .8rem;
  margin: .8rem 0; background: #f6f8fa; }
.signin input { width: 28rem; max-width: 100%; font: 13px ui-monospace, monospace; }
.status { min-height: 1.3rem; } .status.bad, .refused { color: #cf222e; font-weight: 600; }
.steps { list-style: none; padding: 0; }
.step { border: 1px solid #d0d7de; border-radius: .3rem; padding: .5rem .7rem; margin: .5rem 0; }
.step.overdue { border: 2px solid #cf222e; }
.step .where { font-size: 15px; margin: .2rem 0 .3rem; white-space: pre-wrap; }
.step .due { color: #57606a; } .step.overdue .due { color: #cf222e; font-weight: 600; }
.step form { margin-top: .4rem; } .step input.note { width: 24rem; max-width: 70%; }
.flag { display: inline-block; border-radius: .6rem; padding: 0 .45rem; font-size: 12px;
  background: #ffebe9; color: #a40e26; margin-left: .3rem; }
"""

SCRIPT = r"""
"use strict";
(() => {
  // The practice's API is where this page was served from: /practices/NAME/runbook/page.
  const practice = location.pathname.replace(/\/runbook\/page\/?$/, "");
  let token = null;  // in this page's memory only
  const $ = (id) => document.getElementById(id);
  const HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Cn}]/gu;

  // Control, format and separator characters shown as escapes (as shsync's own output does).
  function visible(value) {
    return String(value ?? "").replace(HIDDEN, (ch) => {
      const n = ch.codePointAt(0);
      if (n < 0x100) return "\\x" + n.toString(16).padStart(2, "0");
      if (n < 0x10000) return "\\u" + n.toString(16).padStart(4, "0");
      return "\\U" + n.toString(16).padStart(8, "0");
    });
  }

  // An element whose children are elements or text: data is only ever a text node.
  function el(tag, className, ...children) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    for (const child of children) {
      node.append(typeof child === "string" ? document.createTextNode(visible(child)) : child);
    }
    return node;
  }

  function say(text, bad) {
    const status = $("status");
    status.textContent = visible(text);
    status.className = bad ? "status bad" : "status";
  }

  function problemText(status, body) {
    if (body && typeof body === "object" && typeof body.detail === "string") {
      const reasons = Array.isArray(body.errors) ? body.errors.map((e) => e && e.message)
        .filter((m) => typeof m === "string") : [];
      const code = typeof body.code === "string" ? `[${body.code}] ` : "";
      return code + (reasons.length > 1 ? reasons.join("; ") : body.detail);
    }
    return `the server answered ${status}`;
  }

  async function call(method, path, body) {
    const headers = {"Authorization": "Bearer " + token, "Accept": "application/json"};
    const init = {method, headers, cache: "no-store", credentials: "omit", redirect: "error",
                  referrerPolicy: "no-referrer"};
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(practice + path, init);
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      if (response.status === 401) signOut();
      const error = new Error(problemText(response.status, data));
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function signOut() {
    token = null;
    $("steps").replaceChildren();
    $("summary").textContent = "";
    $("session").hidden = true;
    $("signin").hidden = false;
  }

  function describe(step) {
    const parts = [];
    if (step.state === "pending") {
      parts.push((step.overdue ? "OVERDUE: was due " : "due ") + step.due);
    }
    if (step.effect === "narrows") parts.push("takes access away");
    if (step.effect === "widens") parts.push("gives access");
    if (step.member) parts.push("member " + step.member);
    if (step.client) parts.push("client " + step.client);
    if (step.waits_for) parts.push(`waits for ${step.waits_for} to accept their invitation`);
    parts.push(`recorded ${step.recorded_at} in audit entry #${step.entry}`);
    return parts.join(" \u00b7 ");
  }

  function item(step) {
    const label = String(step.id);
    const note = el("input", "note");
    note.type = "text";
    note.maxLength = 2000;
    note.placeholder = "note (optional): what you did";
    note.setAttribute("aria-label", `note for ${visible(label)}`);
    const button = el("button", "done", "Done");
    button.type = "submit";
    const refused = el("div", "refused");
    const form = el("form", null, note, " ", button, refused);
    const title = el("strong", "label", label);
    const head = el("div", "head", title);
    if (step.overdue) head.append(el("span", "flag", "overdue"));
    const li = el("li", step.overdue ? "step overdue" : "step", head,
                  el("div", "where", step.step), el("div", "due", describe(step)), form);
    li.dataset.step = visible(label);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      button.disabled = true;
      refused.textContent = "";
      const text = note.value.trim();
      let done;
      try {
        done = await call("POST", "/runbook/" + encodeURIComponent(label) + "/done",
                          {note: text || null});
      } catch (error) {
        refused.textContent = visible("Not recorded: " + error.message);
        button.disabled = false;
        return;
      }
      li.remove();
      const seq = done && done.audit_entry ? done.audit_entry.seq : "?";
      say(`${label} recorded as carried out in Sessions Health (audit entry #${seq}).`);
      load(true).catch((error) => say(error.message, true));
    });
    return li;
  }

  async function load(quiet) {
    const runbook = await call("GET", "/runbook?all=false");
    const steps = Array.isArray(runbook.steps) ? runbook.steps : [];
    $("steps").replaceChildren(...steps.map(item));
    const overdue = runbook.overdue ? `, ${runbook.overdue} overdue` : "";
    const asOf = `as of ${runbook.now}`;
    $("summary").textContent = visible(steps.length ?
      `${runbook.pending} step(s) to carry out in Sessions Health${overdue}, ${asOf}.` :
      `Nothing outstanding, ${asOf}.`);
    if (!quiet) say("");
  }

  $("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const field = $("token");
    const given = field.value.trim();
    field.value = "";
    if (!given) { say("Paste a token first.", true); return; }
    token = given;
    try {
      const me = await call("GET", "/whoami");
      $("who").textContent = visible(`Signed in as ${me.actor} (scope ${me.scope}), ` +
                                     `practice ${me.practice}.`);
      document.title = visible(`Runbook: ${me.practice}`);
      $("signin").hidden = true;
      $("session").hidden = false;
      await load(false);
    } catch (error) {
      signOut();
      say("Not signed in: " + error.message, true);
    }
  });
  $("signout").addEventListener("click", () => { signOut(); say("Signed out."); });
  $("reload").addEventListener("click", () => {
    load(false).catch((error) => say(error.message, true));
  });
})();
"""

BODY = """<h1>Runbook checklist</h1>
<p class="meta">What people must still do in Sessions Health for this practice, oldest first.
shsync has already recorded these changes in its own store; Sessions Health changes only when
you carry out each step there. Press Done once you have: it is recorded in the audit log, as
you.</p>
<section class="signin" id="signin">
<form id="signin-form" autocomplete="off">
<label for="token">shsync token</label>
<input id="token" type="password" autocomplete="off" spellcheck="false"
       placeholder="shs_...">
<button type="submit" id="signin-button">Sign in</button>
</form>
<p class="meta">The token (from <code>shsync token create</code>) stays in this page's memory:
it is sent only to this server, as a header, never in the address, and is forgotten when you
sign out or close the page. Recording a step needs scope <code>apply</code>.</p>
</section>
<section class="session" id="session" hidden>
<span id="who"></span>
<button type="button" id="reload">Reload</button>
<button type="button" id="signout">Sign out</button>
</section>
<p class="status" id="status" role="status" aria-live="polite"></p>
<p id="summary"></p>
<ol class="steps" id="steps"></ol>
"""


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


CSP = "; ".join([
    "default-src 'none'",
    f"script-src {_hash(SCRIPT)}",
    f"style-src {_hash(PAGE_STYLE)}",
    "connect-src 'self'",
    "img-src 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
])

HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}

PAGE = "\n".join([
    "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    "<title>Runbook checklist</title>", f"<style>{PAGE_STYLE}</style>", "</head>", "<body>",
    BODY, f"<script>{SCRIPT}</script>", "</body>", "</html>", ""])


def response() -> Response:
    """The page, the same for every practice and every caller."""
    return Response(PAGE, media_type="text/html; charset=utf-8", headers=HEADERS)

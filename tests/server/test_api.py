"""`shsync serve` over a real socket: tokens are the only identity, scopes and the member's own
rights bound every endpoint, errors are problem+json with the CLI's codes, and an apply is one
stored plan, applied once."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.server.conftest import DANA, ELLEN, SAM, VICTOR, org_text

YAML = {"Content-Type": "application/yaml"}
READS = ["/whoami", "/state", "/export", "/access?client=C-1001", "/history",
         "/history?verify=true", "/plans/p-000000000000"]


def is_problem(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert {"type", "title", "status", "detail", "code"} <= set(body)
    assert (body["status"], body["code"], body["type"]) == (status, code,
                                                          f"urn:shsync:error:{code}")
    return body


def plan(client: httpx.Client, text: bytes | None = None) -> httpx.Response:
    return client.post("/plans", content=text or org_text(), headers=YAML)


# --- who is asking ------------------------------------------------------------------------------

def test_health_needs_no_token_and_nothing_else_answers_without_one(practice, server):
    assert httpx.get(server.base + "/healthz").json()["status"] == "ok"
    with practice.client(None) as anonymous:
        for path in READS:
            body = is_problem(anonymous.get(path), 401, "unauthorized")
            assert "bearer token" in body["detail"]
        assert anonymous.get("/whoami").headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("token", ["nonsense", "shs_0123456789abcdef_" + "A" * 43])
def test_a_bad_token_is_401_everywhere(practice, token):
    with practice.client(token) as bad:
        for path in READS:
            is_problem(bad.get(path), 401, "unauthorized")
        is_problem(plan(bad), 401, "unauthorized")


def test_a_token_for_one_practice_cannot_read_another(practice, server):
    other = practice_of(server)
    with httpx.Client(base_url=other.url,
                      headers={"Authorization": f"Bearer {practice.token()}"}) as wrong:
        for path in READS:
            is_problem(wrong.get(path), 401, "unauthorized")
    with httpx.Client(base_url=server.url("no-such-practice"),
                      headers={"Authorization": f"Bearer {practice.token()}"}) as nowhere:
        is_problem(nowhere.get("/state"), 401, "unauthorized")


def practice_of(server):
    from tests.server.conftest import seeded
    from tests.served import practice_name

    return seeded(server, practice_name("other"))


def test_a_revoked_token_fails_at_once(practice):
    token = practice.token()
    with practice.client(token) as client:
        assert client.get("/whoami").json()["actor"] == DANA
        store = practice.store()
        store.revoke_token(token.split("_")[1], "2026-01-01T00:00:00Z")
        store.close()
        assert "revoked" in is_problem(client.get("/whoami"), 401, "unauthorized")["detail"]


def test_an_expired_token_is_refused(practice):
    from datetime import UTC, datetime, timedelta

    from shsync.core import tokens

    store = practice.store()
    text, _ = tokens.create(store, actor=DANA, operator=False, scope="read", expires="1h",
                            created_by="test", now=datetime.now(UTC) - timedelta(hours=2))
    store.close()
    with practice.client(text) as client:
        assert "expired" in is_problem(client.get("/state"), 401, "unauthorized")["detail"]


def test_a_token_of_a_member_not_yet_active_is_refused(practice):
    with practice.as_member(VICTOR) as victor:
        is_problem(victor.get("/state"), 401, "unauthorized")


# --- what a token may ask for -------------------------------------------------------------------

def test_scopes_bound_what_a_token_may_ask_for(practice):
    with practice.as_member(DANA, "read") as reader:
        assert reader.get("/access", params={"client": "C-1001"}).status_code == 200
        is_problem(plan(reader), 403, "insufficient-scope")
    with practice.as_member(DANA, "plan") as planner:
        made = plan(planner)
        assert made.status_code == 201, made.text
        is_problem(planner.post(f"/plans/{made.json()['id']}/apply"), 403, "insufficient-scope")
        is_problem(planner.post("/seed", content=b"{}"), 403, "insufficient-scope")


def test_a_member_token_cannot_claim_another_member(practice):
    with practice.as_member(SAM) as sam:
        body = is_problem(sam.get("/whoami", headers={"X-Shsync-Actor": DANA}), 403,
                          "forbidden")
        assert "cannot act as anyone else" in body["detail"]
        is_problem(sam.post("/plans", content=org_text(),
                            headers={**YAML, "X-Shsync-Actor": DANA}), 403, "forbidden")


def test_a_member_cannot_escalate_through_a_plan_the_server_makes(practice):
    # The example org changes members and roles: a practitioner who is not an administrator
    # may do none of it, so the plan is refused with the CLI's `forbidden` errors.
    with practice.as_member(SAM) as sam:
        body = is_problem(plan(sam), 422, "plan-has-errors")
        assert body["errors"] and {e["code"] for e in body["errors"]} == {"forbidden"}


def test_a_member_cannot_escalate_through_a_plan_they_send(practice):
    from shsync.core.operations import op
    from shsync.core.plan import Plan, Summary
    from shsync.core.state import fingerprint, state_from_dict

    with practice.as_member(SAM) as sam:
        live = state_from_dict(sam.get("/state").json())
        forged = Plan(practice.name, fingerprint(live), (op("set_admin", SAM, admin=True),),
                      Summary(), actor=SAM)
        # Refused when sent, so it is never listed as a plan to approve or apply...
        body = is_problem(sam.post("/plans", content=forged.to_file(), headers=PLAN_FILE),
                          403, "forbidden")
        assert "needs an administrator" in body["detail"] and "nothing was stored" in \
            body["detail"]
        assert sam.get("/plans").json() == []
        # ...and refused when applied, had a store kept it anyway.
        kept = _kept_past_the_check(practice, forged, SAM)
        body = is_problem(sam.post(f"/plans/{kept}/apply"), 403, "forbidden")
        assert "needs an administrator" in body["detail"]
        assert [e["kind"] for e in sam.get("/history").json()["entries"]] == ["seed"]


def test_only_its_author_applies_a_stored_plan(practice):
    with practice.as_member(DANA) as dana, practice.as_member(ELLEN) as ellen:
        made = plan(dana).json()
        is_problem(ellen.post(f"/plans/{made['id']}/apply"), 403, "forbidden")
        assert ellen.get(f"/plans/{made['id']}").json()["author"] == DANA


# --- the org file, its errors, and the plan -----------------------------------------------------

def test_org_errors_are_every_diagnostic_in_the_callers_own_files(practice):
    files = {"org.yaml": "version: 1\nmembers:\n  - email: sam@p.example\n    first_nme: Sam\n",
             "members/more.yaml": "version: 2\n"}
    with practice.as_member() as dana:
        response = dana.post("/plans", json={"files": files})
    body = is_problem(response, 422, "invalid-input")
    places = {(e["code"], e["file"], e["line"], e["column"]) for e in body["errors"]}
    assert ("unknown-key", "org.yaml", 4, 5) in places
    assert any(e[0] == "unsupported-version" and e[1] == "members/more.yaml" for e in places)
    assert "shsync-serve-" not in response.text and "/tmp" not in response.text


@pytest.mark.parametrize("files", [
    {"../x.yaml": "v"}, {"/etc/x.yaml": "v"}, {"a/./b.yaml": "v"}, {}, {"a.yaml": 1},
    # a file and a directory of one name, in either order (was FileExistsError, IsADirectoryError)
    {"a": "v", "a/b.yaml": "v"}, {"a/b.yaml": "v", "A": "v"},
    # lone surrogates in a name or in a file's text (was UnicodeEncodeError)
    {"\ud800.yaml": "v"}, {"a.yaml": "version: 1\n# \udfff\n"},
    # a name longer than the file system allows once encoded (195 characters, 765 bytes)
    {"\U0001f600" * 190 + ".yaml": "v"}])
def test_a_malformed_directory_body_is_refused(practice, files):
    # Sent as JSON text (escapes kept), as a hostile client would: httpx cannot encode a lone
    # surrogate itself.
    body = json.dumps({"files": files}).encode()
    with practice.as_member() as dana:
        response = dana.post("/plans", content=body, headers={"Content-Type": "application/json"})
    is_problem(response, 422, "invalid-body")


@pytest.mark.parametrize("path", ["/accepted", "/reviews"])
def test_a_json_body_that_does_not_parse_is_422(practice, path):
    with practice.as_member() as dana:
        response = dana.post(path, content=b"`\xff\x06p{",
                             headers={"Content-Type": "application/json"})
    is_problem(response, 422, "invalid-body")


@pytest.mark.parametrize(("path", "body"), [
    ("/reviews", {"entry": "1", "note": "checked"}),
    ("/reviews", {"entry": True, "note": "checked"}),
    ("/reviews", {"entry": 0, "note": "checked"}),
    ("/reviews", {"entry": 1, "note": 5}),
    ("/accepted", {"emails": [""]}),
    ("/accepted", {"emails": [7]}),
    ("/accepted", {"emails": "victor.okafor@riverbend.example"}),
])
def test_a_body_of_the_wrong_types_is_422_not_coerced(practice, path, body):
    with practice.as_member() as dana:
        is_problem(dana.post(path, json=body), 422, "invalid-request")
        assert [e["kind"] for e in dana.get("/history").json()["entries"]] == ["seed"]


def test_an_org_sent_in_another_format_is_415(practice):
    with practice.as_member() as dana:
        is_problem(dana.post("/plans", content=b"x", headers={"Content-Type": "text/csv"}),
                   415, "unsupported-media-type")


def test_plan_get_apply_history_round_trip(practice):
    with practice.as_member() as dana:
        made = plan(dana)
        assert made.status_code == 201, made.text
        kept = made.json()
        assert kept["author"] == DANA and kept["plan"]["actor"] == DANA
        assert dana.get(f"/plans/{kept['id']}").json()["plan"] == kept["plan"]
        applied = dana.post(f"/plans/{kept['id']}/apply")
        assert applied.status_code == 200, applied.text
        entry = applied.json()["audit_entry"]
        assert (entry["actor"], entry["seq"], entry["kind"]) == (DANA, 2, "apply")
        assert entry["fingerprint"] == kept["plan"]["fingerprint"]
        again = dana.post(f"/plans/{kept['id']}/apply")
        is_problem(again, 409, "already-applied")
        verified = dana.get("/history", params={"verify": "true"}).json()
        assert verified["verified"] and verified["entries"] == 2 and verified["replayed"]
        is_problem(dana.get("/plans/p-ffffffffffff"), 404, "no-such-plan")


def test_an_apply_that_removes_a_member_revokes_their_tokens(practice):
    jo = "jo.former@riverbend.example"  # the example org removes her
    with practice.as_member(jo, "read") as leaving, practice.as_member() as dana:
        assert leaving.get("/whoami").status_code == 200
        kept = plan(dana).json()
        assert dana.post(f"/plans/{kept['id']}/apply").status_code == 200
        assert "revoked" in is_problem(leaving.get("/whoami"), 401, "unauthorized")["detail"]
    store = practice.store()
    try:
        (hers,) = [t for t in store.tokens() if t.actor == jo]
        assert hers.revoked_reason == "the member was removed from the practice"
    finally:
        store.close()


def test_eight_concurrent_applies_of_one_plan_have_one_winner(practice):
    with practice.as_member() as dana:
        kept = plan(dana).json()

    def attempt(_):
        with practice.client(practice.token()) as client:
            return client.post(f"/plans/{kept['id']}/apply")

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(attempt, range(8)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [409] * 7, [a.text for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 409} <= {
        "already-applied", "stale-plan"}
    with practice.as_member() as dana:
        assert [e["kind"] for e in dana.get("/history").json()["entries"]] == ["seed", "apply"]


def test_access_export_and_refusals_by_client_or_member(practice):
    with practice.as_member(SAM, "read") as sam:
        rows = sam.get("/access", params={"client": "C-1001"}).json()["rows"]
        assert {r["member"] for r in rows} >= {SAM} and all(r["client"] in ("C-1001", None)
                                                            for r in rows)
        assert sam.get("/access", params={"member": SAM}).json()["rows"]
        is_problem(sam.get("/access", params={"client": "C-9999"}), 404, "unknown-client")
        is_problem(sam.get("/access"), 422, "usage")
        exported = sam.get("/export")
        assert exported.headers["content-type"].startswith("application/yaml")
        assert exported.text.startswith("# Exported by shsync")


def test_a_change_that_changes_nothing_is_not_recorded(practice):
    # An apply-scope token must not move the audit head for nothing: no emails is a mistake
    # (as `shsync accepted` with none is), and a plan without steps answers with no entry.
    with practice.as_member() as dana:
        is_problem(dana.post("/accepted", json={"emails": []}), 422, "usage")
        live = dana.get("/export").text.encode()
        kept = dana.post("/plans", content=live, headers=YAML)
        assert kept.status_code == 201 and kept.json()["plan"]["changes"] == [], kept.text
        applied = dana.post(f"/plans/{kept.json()['id']}/apply")
        assert applied.status_code == 200 and applied.json()["audit_entry"] is None, applied.text
        assert [e["kind"] for e in dana.get("/history").json()["entries"]] == ["seed"]


def test_unknown_emails_are_echoed_bounded_and_escaped(practice):
    sent = [f"\x1b[2J{i:04}" + "x" * 1000 + "@riverbend.example" for i in range(1000)]
    with practice.as_member() as dana:
        body = is_problem(dana.post("/accepted", json={"emails": sent}), 422, "not-invited")
    detail = body["detail"]
    assert len(detail) < 1000 and "(and 995 more)" in detail
    assert "\x1b" not in detail and detail.count("\\x1b[2j") == 5  # lower case
    assert "x" * 65 not in detail  # each cut to its first 64 characters


def test_accepted_is_recorded_as_the_token_member(practice):
    with practice.as_member() as dana:
        done = dana.post("/accepted", json={"emails": [VICTOR]})
        assert done.status_code == 200, done.text
        assert done.json()["audit_entry"]["kind"] == "accepted"
        is_problem(dana.post("/accepted", json={"emails": [VICTOR]}), 422, "not-invited")


# --- what the server says about itself ----------------------------------------------------------

def test_each_request_is_one_json_log_line_without_token_or_query(practice, server):
    token = practice.token()
    with practice.client(token) as dana:
        dana.get("/access", params={"client": "C-1001"}, headers={"X-Request-Id": "probe-42"})
    # The line is written once the response has been sent, so the client can be first: wait.
    deadline = time.monotonic() + 30
    while True:
        lines = [json.loads(x) for x in server.log.read_text().splitlines() if x.startswith("{")]
        found = [x for x in lines if x["request_id"] == "probe-42"]
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    (mine,) = found
    assert mine["path"] == f"/practices/{practice.name}/access" and mine["status"] == 200
    assert mine["actor"] == DANA and mine["method"] == "GET" and mine["duration_ms"] >= 0
    text = server.log.read_text()
    assert token not in text and token.split("_", 2)[2] not in text and "C-1001" not in text


def test_a_long_path_is_cut_in_its_log_line(practice, server):
    with practice.as_member() as dana:
        dana.post("/plans/" + "E" * 60_000 + "/approve", headers={"X-Request-Id": "long-path"})
    deadline = time.monotonic() + 30
    while True:
        found = [x for x in server.log.read_text().splitlines() if '"long-path"' in x]
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    (line,) = found
    path = json.loads(line)["path"]
    assert len(line) < 1000 and path.endswith(" chars)") and path.startswith("/practices/")


def test_a_malformed_request_is_logged_as_a_json_line_too(server):
    import socket
    from urllib.parse import urlsplit

    where = urlsplit(server.base)
    with socket.create_connection((where.hostname, where.port), timeout=10) as raw:
        raw.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n")
        assert raw.recv(100).startswith(b"HTTP/1.1 400")
    deadline = time.monotonic() + 30
    while "Invalid HTTP request" not in server.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = [x for x in server.log.read_text().splitlines() if x.strip()]
    said = [json.loads(x) for x in lines if "Invalid HTTP request" in x]  # each line is JSON
    assert said and said[0]["level"] == "warning"
    assert all(x.startswith("{") for x in lines if not x.startswith("shsync serving")), lines


def test_metrics_are_prometheus_text_by_route_template(practice, server):
    with practice.as_member() as dana:
        dana.get("/state")
    text = httpx.get(server.base + "/metrics").text
    assert 'route="/practices/{practice}/state"' in text
    assert "shsync_http_request_duration_seconds_bucket" in text
    assert practice.name not in text


def test_unknown_paths_and_methods_are_problems_too(server):
    is_problem(httpx.get(server.base + "/nowhere"), 404, "not-found")
    is_problem(httpx.delete(server.base + "/healthz"), 405, "method-not-allowed")


def test_a_change_made_beside_the_server_is_read_at_once(practice):
    # The server reuses a practice it has read while the audit log's head is unchanged; a
    # change made by another process (here the operator's own CLI path) moves the head.
    from shsync.jobs.app import Shsync
    from shsync.core.authorize import Actor

    with practice.as_member() as dana:
        before = dana.get("/state").json()
        assert len(dana.get("/history").json()["entries"]) == 1
        store = practice.store()
        Shsync(store, Actor.operator("op")).apply(
            Shsync(store, Actor.operator("op")).plan_acceptance([VICTOR]))
        store.close()
        after = dana.get("/state").json()
        assert after != before
        assert [e["kind"] for e in dana.get("/history").json()["entries"]] == ["seed",
                                                                               "accepted"]


# --- a store's refusals are the caller's problem, never an outage -------------------------------

PLAN_FILE = {"Content-Type": "application/vnd.shsync.plan+json"}


def _forged(practice, client, operations, summary=None):
    """A plan file made by hand against the live practice."""
    from shsync.core.plan import Plan, Summary
    from shsync.core.state import fingerprint, state_from_dict

    live = state_from_dict(client.get("/state").json())
    seats = live.practitioner_count()
    return Plan(practice.name, fingerprint(live), tuple(operations),
                summary or Summary(seats_before=seats, seats_after=seats), actor=DANA)


def _kept_past_the_check(practice, plan, author):
    """`plan` written straight into the store, as a store changed outside shsync may hold it:
    what an apply by id meets when storing did not check it."""
    from shsync.core.approvals import plan_id

    store = practice.store()
    try:
        with store._transaction():
            store._insert_plan(plan_id(plan), plan.digest(), plan.to_file(), author,
                               "2026-11-26T12:00:00Z")
    finally:
        store.close()
    return plan_id(plan)


def test_a_plan_that_does_not_fit_the_practice_is_409_with_every_reason(practice):
    from shsync.core.operations import op

    with practice.as_member() as dana:
        forged = _forged(practice, dana, [op("grant_role", "nobody@riverbend.example",
                                             role="biller"),
                                          op("grant_role", "noone@riverbend.example",
                                             role="biller")])
        sent = is_problem(dana.post("/plans", content=forged.to_file(), headers=PLAN_FILE),
                          409, "refused")
        applied = is_problem(dana.post(f"/plans/{_kept_past_the_check(practice, forged, DANA)}"
                                       "/apply"), 409, "refused")
        for body in (sent, applied):
            assert [e["code"] for e in body["errors"]] == ["refused", "refused"]
            assert "nobody@riverbend.example" in body["errors"][0]["message"]
            assert "noone@riverbend.example" in body["errors"][1]["message"]
        assert [e["kind"] for e in dana.get("/history").json()["entries"]] == ["seed"]


def test_a_plan_whose_summary_does_not_match_its_steps_is_422(practice):
    from shsync.core.operations import op
    from shsync.core.plan import Summary

    with practice.as_member() as dana:
        forged = _forged(practice, dana, [op("grant_role", SAM, role="biller")],
                         Summary(change=7))
        sent = is_problem(dana.post("/plans", content=forged.to_file(), headers=PLAN_FILE),
                          422, "plan-summary-mismatch")
        applied = is_problem(dana.post(f"/plans/{_kept_past_the_check(practice, forged, DANA)}"
                                       "/apply"), 422, "plan-summary-mismatch")
        for body in (sent, applied):
            assert body["errors"][0]["code"] == "plan-summary-mismatch"


def _plan_file(plan_dict: dict) -> str:
    """A plan as GET /plans/ID shows it, as its saved file (with its hash)."""
    import hashlib

    from shsync.core.plan import canonical

    digest = hashlib.sha256(canonical(plan_dict).encode()).hexdigest()
    return json.dumps({**plan_dict, "plan_hash": f"sha256:{digest}"})


def test_a_plan_the_practice_moved_on_from_is_not_stored_nor_shown_as_waiting(practice):
    from shsync.core.operations import op

    with practice.as_member() as dana:
        made = plan(dana).json()
        forged = _forged(practice, dana, [op("grant_role", SAM, role="biller")])
        assert dana.post("/accepted", json={"emails": [VICTOR]}).status_code == 200
        body = is_problem(dana.post("/plans", content=forged.to_file(), headers=PLAN_FILE),
                          409, "stale-plan")
        assert "nothing was stored" in body["detail"]
        # The one stored before the change, sent again: its status is what the store would do.
        again = dana.post("/plans", content=_plan_file(made["plan"]), headers=PLAN_FILE)
        assert (again.json()["id"], again.json()["status"]) == (made["id"], "stale"), again.text


def test_an_access_answer_is_the_live_practice_at_its_head(practice):
    # Access answers are worked out once per audit head (handles.Answers); a change between
    # two queries, here emergency access taken beside the server, is in the second answer.
    from shsync.jobs.app import Shsync
    from shsync.core.authorize import Actor

    omar = "omar.haddad@riverbend.example"
    with practice.as_member() as dana:
        def seen(**query: str) -> set[tuple[str, str | None, str]]:
            rows = dana.get("/access", params=query).json()["rows"]
            return {(r["member"], r["client"], r["reason"]) for r in rows}

        assert (omar, "C-1001", "break_glass") not in seen(client="C-1001")
        assert (omar, "C-1001", "break_glass") not in seen(member=omar)
        store = practice.store()
        try:
            taker = Shsync(store, Actor.member(omar))
            taker.apply(taker.plan_break_glass("C-1001", "crisis", "1h"))
        finally:
            store.close()
        assert (omar, "C-1001", "break_glass") in seen(client="C-1001")
        assert (omar, "C-1001", "break_glass") in seen(member=omar)


def test_a_store_changed_outside_shsync_is_found_and_the_next_plan_reads_it(practice):
    # A row edited with the sqlite3 CLI writes no audit entry, so the log's head does not move:
    # the server's reuse of what it read must not hide the change from `?verify=true`, nor keep
    # planning from the practice as it was (each such plan refused stale, for ever).
    import sqlite3

    grace = "grace.kim@riverbend.example"
    with practice.as_member() as dana:
        assert dana.get("/history", params={"verify": "true"}).json()["verified"]
        first = plan(dana).json()  # the server has now read (and kept) the practice
        with sqlite3.connect(practice.server.db) as db:
            db.execute("UPDATE members SET last_name = 'Edited' WHERE practice = ? AND "
                       "email = ?", (practice.name, grace))
        db.close()
        is_problem(dana.get("/history", params={"verify": "true"}), 409, "audit-broken")
        assert is_problem(dana.post(f"/plans/{first['id']}/apply"), 409,
                          "stale-plan")["detail"].count("changed outside shsync") == 1
        # "Make a new plan: it will read the practice as it is" -- through the server too.
        again = plan(dana).json()
        assert again["plan"]["fingerprint"] != first["plan"]["fingerprint"]
        assert again["status"] == "ready"
        applied = dana.post(f"/plans/{again['id']}/apply")
        assert applied.status_code == 200, applied.text


def test_a_problem_names_the_practice_never_the_database(practice, server):
    from tests.server.conftest import practice_name, seeded

    other = seeded(server, practice_name("o"))
    with practice.as_member() as dana, other.as_member() as dana_there:
        text = _plan_file(plan(dana).json()["plan"])
        body = is_problem(dana_there.post("/plans", content=text, headers=PLAN_FILE), 409,
                          "wrong-practice")
    assert f"not {other.name!r} at this server's store" in body["detail"], body["detail"]
    assert "sqlite" not in body["detail"] and "/tmp" not in body["detail"]


@pytest.mark.parametrize("path", ["/access?client=%1b%5b31mC-9", "/history?expect_head=%1b%5b2Jx",
                                  "/plans/p-%1b%5b2J"])
def test_what_a_caller_sent_is_echoed_escaped_in_every_problem(practice, path):
    with practice.as_member() as dana:
        response = dana.get(path)
    assert 400 <= response.status_code < 500, response.text
    body = response.json()
    said = body["detail"] + "".join(e["message"] for e in body.get("errors", []))
    assert "\x1b" not in said and "\\x1b" in said, said


@pytest.mark.parametrize(("path", "body"), [("/reviews", {}), ("/accepted", {"emails": "x"}),
                                            ("/reviews", None)])
@pytest.mark.parametrize("token", [None, "shs_0123456789abcdef_" + "A" * 43])
def test_who_asks_is_checked_before_what_they_sent(practice, path, body, token):
    with practice.client(token) as anyone:
        response = (anyone.post(path, json=body) if body is not None else
                    anyone.post(path, content=b"{", headers={"Content-Type": "application/json"}))
    is_problem(response, 401, "unauthorized")
    with practice.as_member() as dana:  # with a valid token, the body's mistake
        assert dana.post(path, json=body or {}).status_code == 422


def test_a_seed_sent_as_yaml_is_415_and_seeds_nothing(server):
    from tests.server.conftest import Practice, practice_name

    empty = Practice(server, practice_name("e"))
    token = server.token(empty.name, "tester", scope="admin")
    with empty.client(token) as admin:
        is_problem(admin.post("/seed", content=b"members: []\n", headers=YAML), 415,
                   "unsupported-media-type")
        assert admin.get("/history").json()["entries"] == []

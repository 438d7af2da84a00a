"""Every CLI command works unchanged against a server: `--backend http://127.0.0.1:PORT/
practices/NAME` with SHSYNC_TOKEN. The token is the identity and is never printed."""

from __future__ import annotations

import json

from tests.conftest import run_cli
from tests.server.conftest import DANA, ORG, SAM, VICTOR


def shsync(practice, token, *args):
    # The CLI plans at the suite's NOW (run_cli's), the server's clock: a saved plan's promises
    # (how many future appointments a removal cancels) are judged at that one time.
    result = run_cli(*args, env={"SHSYNC_BACKEND": practice.url, "SHSYNC_TOKEN": token})
    assert token not in result.output and token not in (result.stderr or "")
    return result


def test_plan_apply_and_read_through_a_server(practice, tmp_path):
    token = practice.token(DANA)
    planned = shsync(practice, token, "plan", str(ORG), "-o", str(tmp_path / "plan.json"))
    assert planned.exit_code == 0, planned.output + planned.stderr
    assert json.loads((tmp_path / "plan.json").read_text())["actor"] == DANA
    applied = shsync(practice, token, "apply", str(tmp_path / "plan.json"))
    assert applied.exit_code == 0, applied.stderr
    assert "Audit entry #2" in applied.stdout
    again = shsync(practice, token, "apply", str(tmp_path / "plan.json"))
    assert again.exit_code == 1 and "error[already-applied]" in again.stderr
    assert shsync(practice, token, "accepted", VICTOR).exit_code == 0
    history = shsync(practice, token, "history", "--format", "json")
    entries = json.loads(history.stdout)["entries"]
    assert [(e["kind"], e["actor"]) for e in entries] == [
        ("seed", "test"), ("apply", DANA), ("accepted", DANA)]
    verified = shsync(practice, token, "history", "--verify")
    assert verified.exit_code == 0 and "intact" in verified.stdout
    assert "C-1001" in shsync(practice, token, "access", "--client", "C-1001").stdout
    assert shsync(practice, token, "export").stdout.startswith("# Exported by shsync")


def test_a_member_token_plans_only_what_the_member_may_do(practice):
    token = practice.token(SAM)
    refused = shsync(practice, token, "apply", str(ORG), "--auto-approve")
    assert refused.exit_code == 1 and "forbidden" in refused.output + refused.stderr
    claimed = shsync(practice, token, "plan", str(ORG), "--actor", DANA)
    assert claimed.exit_code == 1 and "cannot act as anyone else" in claimed.stderr


def test_a_missing_token_or_a_plain_http_host_is_refused(practice):
    missing = run_cli("history", "--backend", practice.url, env={"SHSYNC_TOKEN": None})
    assert missing.exit_code == 1 and "error[no-token]" in missing.stderr
    remote = run_cli("history", "--backend", "http://shsync.example/practices/rb",
                     env={"SHSYNC_TOKEN": "shs_x"})
    assert remote.exit_code == 1 and "only on loopback" in remote.stderr
    bad = shsync(practice, "shs_0123456789abcdef_" + "A" * 43, "history")
    assert bad.exit_code == 1 and "error[unauthorized]" in bad.stderr


def test_a_token_with_a_line_break_or_non_ascii_is_refused_and_never_printed(practice):
    token = practice.token(DANA)
    for pasted in (token + "\r\nX", token + " X", token[:10] + "é" + token[10:]):
        result = run_cli("plans", "--backend", practice.url, env={"SHSYNC_TOKEN": pasted})
        said = result.output + (result.stderr or "")
        assert result.exit_code == 1 and "error[bad-token]" in said, said
        assert token[8:] not in said and "Traceback" not in said
    # A trailing line break, as a pasted secret often has, is only whitespace.
    assert shsync(practice, token + "\n", "plans").exit_code == 0


def test_a_query_in_the_server_url_is_named_but_not_shown(practice):
    url = practice.url + "?token=hunter2secret"
    result = run_cli("plans", "--backend", url, env={"SHSYNC_TOKEN": "shs_x"})
    assert result.exit_code == 1 and "query string" in result.stderr
    assert "hunter2secret" not in result.output + result.stderr
    assert f":{url.split(':')[2].split('/')[0]}/" in result.stderr  # the port is shown

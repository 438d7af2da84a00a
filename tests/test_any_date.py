"""The suite passes on any date: its clock-sensitive parts, run again under a machine clock moved
to other years (libfaketime, Debian's `faketime`).

Every test plans at the suite's one `NOW` (tests/conftest.py), but the real clock still reaches
shsync where it is meant to (token expiry and the store's `written_at` are real time), and a test
that forgot to pin the clock would only fail on some days. Moving the machine clock finds those
today. Outside CI a missing faketime skips with its reason; CI=true or
SHSYNC_REQUIRE_FAKETIME=1 (as `.ci/run` sets) fails instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Whatever plans, applies, expires, mints tokens or judges a deadline: the parts whose answers
# depend on a time. The pure and store-level ones are quick, the CLI and server ones are not.
QUICK = (
    "tests/core/test_break_glass.py", "tests/model/test_clock.py", "tests/stores/test_expiry.py",
    "tests/stores/test_tokens.py", "tests/core/test_expiry.py", "tests/format/test_until.py",
    "tests/core/test_runbook.py", "tests/stores/test_runbook.py",
)
THROUGH_THE_CLI = (
    "tests/server/test_remote_cli.py", "tests/server/test_api.py", "tests/cli/test_plan_apply.py",
    "tests/cli/test_emergency.py", "tests/cli/test_approvals.py", "tests/cli/test_tokens.py",
    "tests/cli/test_runbook.py",
)
CLOCK_SENSITIVE = QUICK + THROUGH_THE_CLI

# A leap day late in the evening, and the last minute of the range the issue names. Both run
# the quick parts; the CLI and server parts run once each, half on each date, so neither run is
# the suite's long pole (`make test` stays under its 6 minutes on 2 cores).
DATES = {"2028-02-29 23:30:00": QUICK + THROUGH_THE_CLI[::2],
         "2030-12-31 23:59:00": QUICK + THROUGH_THE_CLI[1::2]}


def test_every_clock_sensitive_part_runs_under_a_shifted_clock():
    assert sorted({f for files in DATES.values() for f in files}) == sorted(CLOCK_SENSITIVE)


def _faketime() -> str:
    found = shutil.which("faketime")
    if found:
        return found
    message = "faketime is not installed (Debian: apt-get install faketime); the suite was not run "
    message += "under a shifted clock"
    if os.environ.get("CI") == "true" or os.environ.get("SHSYNC_REQUIRE_FAKETIME") == "1":
        pytest.fail(message + ", and CI=true or SHSYNC_REQUIRE_FAKETIME=1 requires it")
    pytest.skip(message)


@pytest.mark.parametrize("date", sorted(DATES))
def test_the_clock_sensitive_tests_pass_under_another_machine_clock(date):
    faketime = _faketime()
    result = subprocess.run(
        [faketime, "-f", f"@{date}", sys.executable, "-m", "pytest", "-q", "-p",
         "no:cacheprovider", "-n", "0", *DATES[date]],
        cwd=ROOT, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    tail = result.stdout[-3000:] + result.stderr[-2000:]
    assert result.returncode == 0, tail
    # The clock really moved in there, and every selected test ran: none skipped, none missing.
    summary = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ passed in [0-9.]+s(?: \(.*\))?", summary), tail
    probe = subprocess.run([faketime, "-f", f"@{date}", "date", "-u", "+%Y"],
                           capture_output=True, text=True, check=True)
    assert probe.stdout.strip() == date[:4]

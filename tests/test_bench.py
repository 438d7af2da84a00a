"""The benchmark script: it runs end to end at size S (its timings are not asserted), says how to
run it when shsync's dependencies are missing, and never overwrites the committed results unless
asked."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = str(ROOT / "bench" / "run.py")


def test_the_benchmark_runs_at_size_s_and_writes_its_table(tmp_path):
    out = tmp_path / "results.md"
    result = subprocess.run([sys.executable, SCRIPT, "--sizes", "S", "--no-pg", "--out",
                             str(out)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    table = out.read_text()
    for step in ("parse floor", "validate", "plan (1% drift)", "apply onboarding, SQLite",
                 "no-change plan after apply"):
        assert f"| {step} |" in table
    assert "Python 3." in table and "cores" in table


def test_without_the_venv_it_says_how_to_run_it_instead_of_a_traceback():
    # -S: no site-packages, as with a system Python that lacks shsync's dependencies
    result = subprocess.run([sys.executable, "-S", SCRIPT, "--sizes", "S"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "Run it from the project's venv: `make bench`" in result.stderr


def test_results_go_to_a_new_file_unless_replace_results_is_given():
    from bench.run import HERE, destination

    assert destination(None, False, "20261126-120000") == \
        HERE / "out" / "results-20261126-120000.md"
    assert destination(None, True, "20261126-120000") == HERE / "results.md"
    assert destination(Path("x.md"), False, "stamp") == Path("x.md")


def test_out_and_replace_results_together_are_refused():
    result = subprocess.run([sys.executable, SCRIPT, "--out", "x.md", "--replace-results"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "give one" in result.stderr


def serve_bench(tmp_path: Path, generator: str) -> str:
    out = tmp_path / "serve.md"
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "serve.py"), "--size", "S",
                             "--requests", "60", "--concurrency", "5", "--plans", "1",
                             "--workers", "1,2", "--seconds", "1", "--generator", generator,
                             "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return out.read_text()


def test_the_server_benchmark_runs_at_size_s_with_httpx(tmp_path):
    table = serve_bench(tmp_path, "httpx")
    for row in ("| httpx | 1 | access query | 60 |", "| httpx | 2 | access query | 60 |",
                "| httpx | 1 | history |", "| over HTTP", "| CLI (`shsync plan`"):
        assert row in table


def test_the_server_benchmark_runs_at_size_s_with_wrk(tmp_path):
    # wrk is the preferred load generator (compiled: it leaves the CPU to the server); .ci/run
    # installs it, so there this test fails rather than skips without it.
    if not shutil.which("wrk"):
        message = "wrk is not installed (Debian: apt-get install wrk)"
        if os.environ.get("CI") == "true" or os.environ.get("SHSYNC_REQUIRE_WRK") == "1":
            pytest.fail(message + " and CI=true or SHSYNC_REQUIRE_WRK=1 requires it")
        pytest.skip(message)
    table = serve_bench(tmp_path, "wrk")
    for row in ("| wrk | 1 | access query |", "| wrk | 2 | history |"):
        assert row in table


WRK = """Running 10s test @ http://127.0.0.1:18787
  1 threads and 50 connections
  Latency Distribution
     50%  151.47ms
     75%  171.26ms
     90%  199.95ms
     99%    1.35s
  3206 requests in 10.04s, 120.97MB read
Requests/sec:    319.26
"""


def test_wrk_reports_are_read_in_their_units_and_failures_stop_the_run():
    from bench.serve import parse_wrk

    got = parse_wrk(WRK)
    assert (got.count, got.seconds, got.p50, got.p99) == (3206, 10.04, 0.15147, 1.35)
    with pytest.raises(SystemExit, match="failed"):
        parse_wrk(WRK + "  Non-2xx or 3xx responses: 12\n")


def test_the_start_up_benchmark_runs_and_compares_every_target():
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "startup.py"), "--runs", "2"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    for name in ("python -c pass", "shsync --version", "shsync --help", "shsync plan --help",
                 "shsync validate examples/org.yaml"):
        assert f"| `{name}` |" in result.stdout
    assert result.stdout.count("above the floor, under 60: ") == 2
    assert "above the floor, under 120: " in result.stdout and ", under 150: " in result.stdout


def test_the_verify_benchmark_replays_its_log_at_size_s(capsys):
    """bench/verify.py builds a log whose replay must reproduce its practice (its own assert),
    and prints the rate: the figure docs/benchmarks.md reports is measured by it at M."""
    from bench import verify

    verify.main("S", 20)
    said = capsys.readouterr().out
    assert said.startswith("S: 21 entries replayed in ") and "entries/s" in said

"""The benchmark script: it runs end to end at size S (its timings are not asserted), says how to
run it when shsync's dependencies are missing, and never overwrites the committed results unless
asked."""

import subprocess
import sys
from pathlib import Path

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


def test_the_server_benchmark_runs_at_size_s(tmp_path):
    out = tmp_path / "serve.md"
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "serve.py"), "--size", "S",
                             "--requests", "60", "--concurrency", "5", "--plans", "1",
                             "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    table = out.read_text()
    for row in ("| access query | 60 |", "| history |", "| over HTTP", "| CLI (`shsync plan`"):
        assert row in table

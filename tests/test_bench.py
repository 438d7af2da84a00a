"""The benchmark script works end to end at size S (its timings are not asserted)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_benchmark_runs_at_size_s_and_writes_its_table(tmp_path):
    out = tmp_path / "results.md"
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--sizes", "S",
                             "--no-pg", "--out", str(out)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    table = out.read_text()
    for step in ("parse floor", "validate", "plan (1% drift)", "apply onboarding, SQLite",
                 "no-change plan after apply"):
        assert f"| {step} |" in table
    assert "Python 3." in table and "cores" in table

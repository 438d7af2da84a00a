"""CPU time against the parse floor, for a shared machine: `python bench/cpu.py N ROOT ORG DB`.

Runs the parse floor (PyYAML's C loader), `shsync validate ORG` and `shsync plan ORG` against the
SQLite store DB, N times each, interleaved, each a fresh process with ROOT first on the path (a
checkout, or a commit unpacked with `git archive COMMIT | tar -x -C DIR`, to compare before and
after with the same venv). Prints the minimum wall and CPU (user+sys, from `os.wait4`) time of
each and their ratios to the floor's, and the peak memory (max RSS). On a machine other jobs
share, wall time follows their load; the minimum CPU time of several runs is the steadier figure.
Plans against the SQLite store DB (nothing is applied there; seed it first with `shsync seed`),
and applies ORG as an onboarding into a new SQLite file beside DB, made afresh for each run.
Not a test.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
import sys
import time

FLOOR = ("import yaml, sys; yaml.load(open(sys.argv[1], 'rb'), "
         "Loader=getattr(yaml, 'CSafeLoader', yaml.SafeLoader))")


def main() -> None:
    n, root, org, db = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    env = {**os.environ, "PYTHONPATH": root, "SHSYNC_NOW": "2026-11-26T12:00:00Z",
           "SHSYNC_BACKEND": f"sqlite:///{db}"}
    commands = {
        "parse floor": [sys.executable, "-c", FLOOR, org],
        "validate": [sys.executable, "-m", "shsync", "validate", org],
        "plan": [sys.executable, "-m", "shsync", "plan", org, "--allow-mass-removal",
                 "--assume-accepted"],
        "apply": [sys.executable, "-m", "shsync", "apply", org, "--auto-approve",
                  "--assume-accepted"],
    }
    onboard = Path(db).with_name("cpu-onboard.db")
    fresh = {"apply": {**env, "SHSYNC_BACKEND": f"sqlite:///{onboard}"}}
    runs: dict[str, list[tuple[float, float, float]]] = {k: [] for k in commands}
    for _ in range(n):
        for name, args in commands.items():
            for suffix in ("", "-wal", "-shm"):
                Path(f"{onboard}{suffix}").unlink(missing_ok=True)
            started = time.perf_counter()
            proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    env=fresh.get(name, env), cwd=root)
            _, status, usage = os.wait4(proc.pid, 0)
            if os.waitstatus_to_exitcode(status) not in (0, 2):
                raise SystemExit(f"{name} failed: {' '.join(args)}")
            runs[name].append((time.perf_counter() - started, usage.ru_utime + usage.ru_stime,
                               usage.ru_maxrss / 1024))
    floor = runs["parse floor"]
    wall0, cpu0 = min(r[0] for r in floor), min(r[1] for r in floor)
    peak0 = max(r[2] for r in floor)
    for name, measured in runs.items():
        wall, cpu, peak = (min(r[0] for r in measured), min(r[1] for r in measured),
                           max(r[2] for r in measured))
        print(f"{name:12} wall {wall:6.2f} s ({wall / wall0:.2f}x)  CPU {cpu:6.2f} s "
              f"({cpu / cpu0:.2f}x)  peak {peak:5.0f} MB ({peak / peak0:.2f}x)")


if __name__ == "__main__":
    main()

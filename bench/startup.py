"""Start-up against issue #24's targets: `python bench/startup.py [--runs N] [--program PATH]`.

Runs `python -c pass` (the interpreter's own start, the floor), `shsync --version`, `--help`,
`plan --help` and `validate examples/org.yaml`, N rounds of one fresh process each, and prints
the minimum and median wall time of each, its ratio to the floor's minimum, and the target:
`--version` and `--help` under 60 ms and `COMMAND --help` under 120 ms above the floor (the
lazy group imports click and one command's module), `validate` of the example under 150 ms.
PROGRAM is the `shsync` console script (default: the one beside this Python, as `make` installs
it); its own interpreter is the floor's. Standard output goes to a pipe, which click formats as
80 columns. Not a test: a shared machine's load moves every figure, the ratios less.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# name -> (milliseconds, measured above the floor's minimum?)
TARGETS_MS = {"shsync --version": (60, True), "shsync --help": (60, True),
              "shsync plan --help": (120, True), "shsync validate examples/org.yaml": (150, False)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="rounds (default 20)")
    parser.add_argument("--program", type=Path, default=Path(sys.executable).with_name("shsync"),
                        help="the shsync console script")
    options = parser.parse_args()
    program = str(options.program)
    python = _interpreter(options.program)
    commands = {"python -c pass": [python, "-c", "pass"],
                **{name: [program, *name.split()[1:]] for name in TARGETS_MS}}
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(options.runs):
        for name, argv in commands.items():
            started = time.perf_counter()
            subprocess.run(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           check=True)
            times[name].append((time.perf_counter() - started) * 1000)
    floor = min(times["python -c pass"])
    print(f"{options.runs} rounds, {program}\n")
    print("| command | min | median | min / floor | target |")
    print("|---|---|---|---|---|")
    for name, measured in times.items():
        verdict = ""
        if name in TARGETS_MS:
            limit, above = TARGETS_MS[name]
            took = min(measured) - (floor if above else 0)
            verdict = (f"{took:.1f} ms{' above the floor' if above else ''}, under {limit}: "
                       f"{'met' if took < limit else 'NOT met'}")
        print(f"| `{name}` | {min(measured):.1f} ms | {statistics.median(measured):.1f} ms | "
              f"{min(measured) / floor:.2f}x | {verdict} |")


def _interpreter(program: Path) -> str:
    """The Python on the console script's `#!` line."""
    first = program.read_bytes().split(b"\n", 1)[0]
    return first.removeprefix(b"#!").decode().strip() if first.startswith(b"#!") else sys.executable


if __name__ == "__main__":
    main()

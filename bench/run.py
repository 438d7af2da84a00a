"""The scale benchmark: `python bench/run.py [--sizes S,M,L] [--repeat N] [--no-pg]`.

For each size it generates a practice (S: 100 members / 2,000 clients, M: 1,000 / 20,000,
L: 10,000 / 200,000; every client with 0-3 grants, about a third of members supervised), seeds a
live state that differs by about 1%, and times each command in a fresh process, with its peak
memory (max RSS), in rounds of one run of each (so each is measured over the same minutes as
the floor it is compared with): the parse floor (PyYAML's C loader on the same file), validate,
plan, apply of the full onboarding into an empty SQLite store and into PostgreSQL, and a
no-change plan after apply. It prints one markdown table and writes it, with the machine and versions, to a new file
bench/out/results-DATE-TIME.md; `--replace-results` writes the committed bench/results.md instead,
so a partial or exploratory run never overwrites the published figures. Run it from the project's
venv (`make bench`). This is a script, not a test: timings are never asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def _require_venv() -> None:
    """Outside the venv the imports below fail with a traceback; say how to run it instead."""
    missing = []
    for module in ("yaml", "pydantic", "click", "psycopg", "jsonschema_rs"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise SystemExit(f"bench/run.py needs shsync's dependencies ({', '.join(missing)} not "
                         f"found for {sys.executable}). Run it from the project's venv: "
                         "`make bench`, or `.venv/bin/python bench/run.py` after `make test`.")


_require_venv()

from bench.generate import SIZES, drifted, org, write  # noqa: E402

PG_URL = os.environ.get("SHSYNC_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
NOW = "2026-11-26T12:00:00Z"
FLOOR = ("import yaml, sys; yaml.load(open(sys.argv[1], 'rb'), "
         "Loader=getattr(yaml, 'CSafeLoader', yaml.SafeLoader))")


TARGETS = ("Targets (2 cores): at L, validate within 1.3x the floor, plan within 1.5x and its "
           "peak memory within 1.5x of the floor's; L/M time within 8-13x for every command; "
           "the L onboarding into SQLite under 30 s and into PostgreSQL under 60 s.")


@dataclass
class Measure:
    seconds: float
    peak_mb: float
    code: int


def run(args: list[str], env: dict[str, str], cwd: Path) -> Measure:
    started = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 2):
        raise SystemExit(f"{' '.join(args)} failed ({code}):\n{err}")
    return Measure(elapsed, usage.ru_maxrss / 1024, code)


def interleaved(steps: list[tuple[str, list[str], dict[str, str], object]], cwd: Path,
                repeat: int) -> dict[str, Measure]:
    """Each step `repeat` times, in rounds of one run of every step (its `before` first): the
    machine's speed drifts from minute to minute, and a step's ratio to the floor is only fair
    when both were measured over the same minutes. Median seconds, largest peak."""
    runs: dict[str, list[Measure]] = {name: [] for name, *_ in steps}
    for _ in range(repeat):
        for name, args, env, before in steps:
            if callable(before):
                before()
            runs[name].append(run(args, env, cwd))
    return {name: Measure(statistics.median(r.seconds for r in measured),
                          max(r.peak_mb for r in measured), measured[-1].code)
            for name, measured in runs.items()}


def pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001 - no server: the PostgreSQL column is left out
        return False


def drop_pg_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def generate(size: str, work: Path) -> tuple[Path, Path]:
    """Write the org and live files. Called in a child process: a child's peak memory counts
    its parent's at fork, so this process must never hold a large practice itself."""
    members, clients = SIZES[size]
    doc = org(members, clients)
    return (write(work / f"{size}.yaml", doc), write(work / f"{size}-live.yaml", drifted(doc)))


def measure_size(size: str, work: Path, repeat: int, with_pg: bool) -> dict[str, Measure]:
    base_env = {**os.environ, "SHSYNC_NOW": NOW, "PYTHONPATH": str(HERE.parent)}
    subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; "
                    "from bench.run import generate; generate(sys.argv[1], Path(sys.argv[2]))",
                    size, str(work)], env=base_env, check=True)
    org_file, live_file = work / f"{size}.yaml", work / f"{size}-live.yaml"
    shsync = [sys.executable, "-m", "shsync"]
    drift_db = work / f"{size}-drift.db"
    drift_env = {**base_env, "SHSYNC_BACKEND": f"sqlite:///{drift_db}"}
    run([*shsync, "seed", str(live_file)], drift_env, work)
    onboard_db = work / f"{size}-onboard.db"
    onboard_env = {**base_env, "SHSYNC_BACKEND": f"sqlite:///{onboard_db}"}
    apply = [*shsync, "apply", str(org_file), "--auto-approve", "--assume-accepted"]

    def fresh_sqlite() -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{onboard_db}{suffix}").unlink(missing_ok=True)

    steps: list[tuple[str, list[str], dict[str, str], object]] = [
        ("parse floor", [sys.executable, "-c", FLOOR, str(org_file)], base_env, None),
        ("validate", [*shsync, "validate", str(org_file)], base_env, None),
        ("plan (1% drift)", [*shsync, "plan", str(org_file), "--allow-mass-removal",
                             "--assume-accepted"], drift_env, None),
        ("apply onboarding, SQLite", apply, onboard_env, fresh_sqlite),
        # after each apply, in the same round: the practice it has just written
        ("no-change plan after apply", [*shsync, "plan", str(org_file)], onboard_env, None),
    ]
    schema = f"shsync_bench_{uuid.uuid4().hex[:8]}"
    if with_pg:
        pg_env = {**base_env, "SHSYNC_BACKEND": f"{PG_URL}?schema={schema}"}
        steps.append(("apply onboarding, PostgreSQL", apply, pg_env,
                      lambda: drop_pg_schema(schema)))
    try:
        results = interleaved(steps, work, repeat)
    finally:
        if with_pg:
            drop_pg_schema(schema)
    results["file size (MB)"] = Measure(org_file.stat().st_size / 1e6, 0, 0)
    return results


def machine() -> list[str]:
    import psycopg
    import pydantic
    import yaml

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return [f"- machine: {os.cpu_count()} cores, {cpu}, {platform.platform()}",
            f"- Python {platform.python_version()}, PyYAML {yaml.__version__} "
            f"(libyaml: {yaml.__with_libyaml__}), pydantic {pydantic.VERSION}, "
            f"SQLite {sqlite3.sqlite_version}, psycopg {psycopg.__version__}"]


def table(results: dict[str, dict[str, Measure]]) -> list[str]:
    sizes = list(results)
    steps = [s for s in next(iter(results.values())) if s != "file size (MB)"]
    head = "| step | " + " | ".join(f"{s}: s (x floor), peak MB" for s in sizes)
    ratio = "M" in results and "L" in results
    lines = [head + (" | L/M time |" if ratio else " |"),
             "|---" * (len(sizes) + 1 + ratio) + "|"]
    for step in steps:
        cells = []
        for size in sizes:
            m = results[size].get(step)
            floor = results[size]["parse floor"].seconds
            cells.append("–" if m is None else
                         f"{m.seconds:.2f} ({m.seconds / floor:.2f}x), {m.peak_mb:.0f}")
        line = f"| {step} | " + " | ".join(cells)
        if ratio and step in results["M"] and step in results["L"]:
            line += f" | {results['L'][step].seconds / results['M'][step].seconds:.1f}x"
        elif ratio:
            line += " | –"
        lines.append(line + " |")
    sizes_mb = ", ".join(f"{s} {results[s]['file size (MB)'].seconds:.1f} MB" for s in sizes)
    lines.append("")
    lines.append(f"Org file sizes: {sizes_mb}.")
    return lines


def destination(out: Path | None, replace: bool, stamp: str) -> Path:
    """Where the table goes: --out, the committed results with --replace-results, else a new
    file under bench/out/ (ignored by git) so that no run overwrites the published figures."""
    if out is not None:
        return out
    return HERE / "results.md" if replace else HERE / "out" / f"results-{stamp}.md"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="S,M,L", help="comma-separated: S, M, L")
    parser.add_argument("--repeat", type=int, default=1, help="runs per step (median)")
    parser.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write the table "
                             "[default: a new bench/out/results-DATE-TIME.md]")
    parser.add_argument("--replace-results", action="store_true",
                        help="write bench/results.md, the figures the README quotes")
    args = parser.parse_args()
    if args.out is not None and args.replace_results:
        parser.error("--out and --replace-results name two different files; give one")
    args.out = destination(args.out, args.replace_results, time.strftime("%Y%m%d-%H%M%S"))
    sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        raise SystemExit(f"unknown size(s): {', '.join(unknown)}; use S, M, L")
    with_pg = not args.no_pg and pg_available()
    work = Path(tempfile.mkdtemp(prefix="shsync-bench-"))
    try:
        results = {}
        for size in sizes:
            print(f"measuring {size} ...", file=sys.stderr, flush=True)
            results[size] = measure_size(size, work, args.repeat, with_pg)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines = ["# shsync benchmark", "",
             f"`python bench/run.py --sizes {','.join(sizes)} --repeat {args.repeat}`, "
             f"{time.strftime('%Y-%m-%d')}. Each step is a fresh process, run in rounds of "
             f"one run of every step; wall seconds (median of {args.repeat}), the ratio to the "
             "parse floor (PyYAML's C loader on the same file), and peak memory (max RSS).", "", *machine(), "", *table(results)]
    if not with_pg:
        lines += ["", "PostgreSQL was not measured (no server, or --no-pg)."]
    lines += ["", TARGETS]
    # One results file, as issue #13 asks: the server's figures (bench/serve.py, measured on
    # their own because they need a running server) and the octodns peer's are carried along.
    for extra in ("results-serve.md", "results-octodns.md", "notes.md"):
        if (HERE / extra).exists():
            lines += ["", (HERE / extra).read_text().rstrip()]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"Wrote {args.out}.", file=sys.stderr)


if __name__ == "__main__":
    main()

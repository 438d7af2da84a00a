"""The server benchmark: `python bench/serve.py [--size M] [--concurrency 50] [--workers 1,2]`.

Generates a practice of the given size (bench/generate.py), seeds it into a SQLite store, starts
`shsync serve` on a free loopback port (once per `--workers` value), and measures with 50
concurrent clients: requests per second, p50/p99 latency and the server's CPU time per request
of access queries (`GET /access?client=...`, random clients) and of the history (`GET
/history`); then the latency of one plan of the whole org over HTTP (`POST /plans`, the org as
YAML) against the same plan from the CLI (`shsync plan`, a fresh process).

The load comes from `wrk` when it is installed (Debian: `apt-get install wrk`; compiled, so the
generator takes little of the CPU the server needs, on the same cores), else from httpx's async
client (`--generator httpx`; it costs about as much CPU per request as the server does, so its
figures are the server's and the generator's together). The table says which produced each row.
Writes a markdown table to bench/results-serve.md (or --out). A script, not a test: timings are
never asserted. Run it from the project's venv.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

try:
    import httpx

    from bench.generate import SIZES, drifted, org, write
    from shsync.core import tokens
    from shsync.stores.sqlite import SqliteBackend
except ImportError as exc:  # outside the venv: say how to run it, no traceback
    raise SystemExit(f"bench/serve.py needs shsync's dependencies ({exc.name} not found for "
                     f"{sys.executable}): run it with .venv/bin/python after `make test`.") from None

SHSYNC = [sys.executable, "-m", "shsync"]


@dataclass(frozen=True)
class Measured:
    count: int
    seconds: float
    p50: float  # seconds
    p99: float
    cpu: float | None  # the server's CPU seconds (all its processes), where /proc tells


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def server_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) of a process and its descendants, from /proc (Linux)."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total = (int(fields[11]) + int(fields[12])) / ticks
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += server_cpu(int(child)) or 0.0
        return total
    except (OSError, ValueError, IndexError):
        return None


def httpx_load(base: str, token: str, paths: list[str], concurrency: int) -> Measured:
    return asyncio.run(_httpx_load(base, token, paths, concurrency))


async def _httpx_load(base: str, token: str, paths: list[str], concurrency: int) -> Measured:
    """Send every path, `concurrency` at a time."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for p in paths:
        queue.put_nowait(p)
    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120,
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        async def worker() -> None:
            nonlocal failures
            while not queue.empty():
                path = queue.get_nowait()
                started = time.perf_counter()
                response = await client.get(path)
                latencies.append(time.perf_counter() - started)
                failures += response.status_code != 200
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{failures} requests failed")
    return Measured(len(latencies), wall, percentile(latencies, 50), percentile(latencies, 99),
                    None)


def wrk_load(base: str, token: str, paths: list[str], concurrency: int, seconds: float,
             work: Path) -> Measured:
    """The paths in turn, over `concurrency` connections for `seconds` (wrk, one thread)."""
    script = work / "paths.lua"
    url = httpx.URL(base)
    root, prefix = f"{url.scheme}://{url.host}:{url.port}", url.path  # wrk sends whole paths
    quoted = ",\n".join('"' + (prefix + p).replace("\\", "\\\\").replace('"', '\\"') + '"'
                         for p in paths)
    script.write_text(f"local paths = {{{quoted}}}\nlocal i = 0\n"
                      "request = function()\n  i = i % #paths + 1\n"
                      "  return wrk.format('GET', paths[i])\nend\n")
    done = subprocess.run(["wrk", "-t1", f"-c{concurrency}", f"-d{seconds:g}s", "--latency",
                           "--timeout", "60s", "-H", f"Authorization: Bearer {token}", "-s",
                           str(script), root],
                          capture_output=True, text=True, check=True)
    return parse_wrk(done.stdout)


_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def parse_wrk(text: str) -> Measured:
    """wrk's --latency report as figures; SystemExit when a request failed."""
    if "Non-2xx" in text or "Socket errors" in text:
        raise SystemExit("requests failed under wrk:\n" + text)
    found = {}
    for pct in ("50", "99"):
        match = re.search(rf"^\s+{pct}%\s+([0-9.]+)(us|ms|s|m)\s*$", text, re.M)
        if match is None:
            raise SystemExit("wrk printed no latency distribution:\n" + text)
        found[pct] = float(match.group(1)) * _UNITS[match.group(2)]
    count = re.search(r"^\s*([0-9]+) requests in ([0-9.]+)(us|ms|s|m),", text, re.M)
    if count is None:
        raise SystemExit("wrk printed no request count:\n" + text)
    return Measured(int(count.group(1)), float(count.group(2)) * _UNITS[count.group(3)],
                    found["50"], found["99"], None)


def start_server(url: str, workers: int, work: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    server = subprocess.Popen([*SHSYNC, "serve", "--backend", url, "--port", str(port),
                               "--workers", str(workers)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work)
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server, port
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("shsync serve did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="M", choices=sorted(SIZES))
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000,
                        help="httpx: requests sent; wrk: distinct paths sent in turn")
    parser.add_argument("--seconds", type=float, default=10.0, help="wrk: seconds per row")
    parser.add_argument("--workers", default="1,2", help="server processes, one run each")
    parser.add_argument("--generator", choices=("auto", "wrk", "httpx", "both"), default="auto",
                        help="auto: wrk when installed, else httpx; both: every row each way")
    parser.add_argument("--repeat", type=int, default=1, help="rows measured per setting")
    parser.add_argument("--plans", type=int, default=3, help="plans timed each way (best kept)")
    parser.add_argument("--out", type=Path, default=HERE / "results-serve.md")
    args = parser.parse_args()
    generators = {"auto": ["wrk" if shutil.which("wrk") else "httpx"], "wrk": ["wrk"],
                  "httpx": ["httpx"], "both": ["wrk", "httpx"]}[args.generator]
    if "wrk" in generators and not shutil.which("wrk"):
        raise SystemExit("--generator wrk: wrk is not installed (Debian: apt-get install wrk)")
    workers_list = [int(w) for w in args.workers.split(",")]

    work = Path(tempfile.mkdtemp(prefix="shsync-bench-serve-"))
    members, clients = SIZES[args.size]
    doc = org(members, clients)
    org_file = write(work / "org.yaml", doc)
    live_file = write(work / "live.yaml", drifted(doc))
    url = f"sqlite:///{work / 'practice.db'}"
    env = {**os.environ, "SHSYNC_BACKEND": url + "?practice=bench"}
    env.pop("SHSYNC_ACTOR", None)
    subprocess.run([*SHSYNC, "seed", str(live_file)], env=env, check=True,
                   capture_output=True, cwd=work)
    store = SqliteBackend(str(work / "practice.db"), "bench")
    token, _ = tokens.create(store, actor="bench", operator=True, scope="admin",
                             expires="1d", created_by="bench", now=datetime.now(UTC))
    store.close()

    rng = random.Random(3)
    access = [f"/access?client=C-{rng.randrange(clients):06d}" for _ in range(args.requests)]
    history = ["/history"] * max(50, args.requests // 10)
    load_before = os.getloadavg()
    rows = []
    http_times: list[float] = []
    for workers in workers_list:
        server, port = start_server(url, workers, work)
        base = f"http://127.0.0.1:{port}/practices/bench"
        try:
            for label, paths in (("access query", access), ("history", history)):
                httpx_load(base, token, paths[:200], args.concurrency)  # warm up every worker
                for _ in range(args.repeat):
                    for generator in generators:
                        cpu_before = server_cpu(server.pid)
                        if generator == "wrk":
                            got = wrk_load(base, token, paths, args.concurrency, args.seconds,
                                           work)
                        else:
                            got = httpx_load(base, token, paths, args.concurrency)
                        cpu_after = server_cpu(server.pid)
                        cpu = (cpu_after - cpu_before
                               if cpu_before is not None and cpu_after is not None else None)
                        rows.append((generator, workers, label, got, cpu))
            if not http_times:
                http_times = time_http_plans(base, token, org_file, args.plans)
        finally:
            server.terminate()
            server.wait(timeout=60)
    cli_times = []
    for _ in range(args.plans):
        started = time.perf_counter()
        subprocess.run([*SHSYNC, "plan", str(org_file), "--format", "json"], env=env,
                       check=True, capture_output=True, cwd=work)
        cli_times.append(time.perf_counter() - started)
    report(args, generators, rows, http_times, cli_times, load_before, os.getloadavg())


def time_http_plans(base: str, token: str, org_file: Path, plans: int) -> list[float]:
    body = org_file.read_bytes()
    times = []
    with httpx.Client(base_url=base, timeout=600,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        for _ in range(plans):
            started = time.perf_counter()
            made = client.post("/plans", content=body, headers={"Content-Type": "application/yaml"})
            times.append(time.perf_counter() - started)
            if made.status_code != 201:
                raise SystemExit(f"plan over HTTP failed: {made.text[:300]}")
    return times


def report(args: argparse.Namespace, generators: list[str], rows: list, http_times: list[float],
           cli_times: list[float], load_before: tuple[float, ...],
           load_after: tuple[float, ...]) -> None:
    members, clients = SIZES[args.size]
    lines = [f"# `shsync serve` benchmark ({args.size}: {members:,} members, {clients:,} "
             "clients)", "",
             f"Command: `.venv/bin/python bench/serve.py --size {args.size} --concurrency "
             f"{args.concurrency} --requests {args.requests} --workers {args.workers} "
             f"--generator {args.generator} --repeat {args.repeat}`"
             + (f" (wrk: {args.seconds:g} s per row)" if "wrk" in generators else ""), "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
             f"{platform.python_version()}, {platform.system()}; store: SQLite; server and "
             f"load generator on the same machine; load average {load_before[0]:.1f} before, "
             f"{load_after[0]:.1f} after.", "",
             "| generator | workers | request | count | requests/s | p50 ms | p99 ms "
             "| server CPU ms/request |", "|---|---|---|---|---|---|---|---|"]
    for gen, workers, label, got, cpu in rows:
        per = f"{cpu / got.count * 1000:.2f}" if cpu is not None else "-"
        lines.append(f"| {gen} | {workers} | {label} | {got.count:,} | "
                     f"{got.count / got.seconds:,.0f} | {got.p50 * 1000:.1f} | "
                     f"{got.p99 * 1000:.1f} | {per} |")
    best_http, best_cli = min(http_times), min(cli_times)
    lines += ["", "| plan of the whole org | best of " + str(args.plans) + " (s) | median (s) |",
              "|---|---|---|",
              f"| over HTTP (`POST /plans`, YAML body) | {best_http:.2f} | "
              f"{statistics.median(http_times):.2f} |",
              f"| CLI (`shsync plan`, a fresh process) | {best_cli:.2f} | "
              f"{statistics.median(cli_times):.2f} |", "",
              f"HTTP / CLI: {best_http / best_cli:.2f}x (the HTTP plan also stores the plan; the "
              "CLI's includes its start-up).", ""]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()

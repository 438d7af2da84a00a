"""The server benchmark: `python bench/serve.py [--size M] [--concurrency 50] [--requests 2000]`.

Generates a practice of the given size (bench/generate.py), seeds it into a SQLite store, starts
`shsync serve` on a free loopback port, and measures with 50 concurrent clients (httpx, async):
requests per second and p50/p99 latency of access queries (`GET /access?client=...`) and of
the history (`GET /history`); then the latency of one plan of the whole org over HTTP (`POST
/plans`, the org as YAML) against the same plan from the CLI (`shsync plan`, a fresh process).
Writes a markdown table to bench/results-serve.md (or --out). A script, not a test: timings are
never asserted. Run it from the project's venv.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

try:
    import httpx

    from bench.generate import SIZES, drifted, org, write
    from shsync import tokens
    from shsync.backends.sqlite import SqliteBackend
except ImportError as exc:  # outside the venv: say how to run it, no traceback
    raise SystemExit(f"bench/serve.py needs shsync's dependencies ({exc.name} not found for "
                     f"{sys.executable}): run it with .venv/bin/python after `make test`.") from None

SHSYNC = [sys.executable, "-m", "shsync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def load(base: str, token: str, paths: list[str], concurrency: int) -> tuple[float, list]:
    """Send every path, `concurrency` at a time; (wall seconds, latencies in seconds)."""
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
    return wall, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="M", choices=sorted(SIZES))
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--plans", type=int, default=3, help="plans timed each way (best kept)")
    parser.add_argument("--out", type=Path, default=HERE / "results-serve.md")
    args = parser.parse_args()

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

    port = free_port()
    server = subprocess.Popen([*SHSYNC, "serve", "--backend", url, "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work)
    base = f"http://127.0.0.1:{port}/practices/bench"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        rng = random.Random(3)
        access = [f"/access?client=C-{rng.randrange(clients):06d}" for _ in range(args.requests)]
        history = ["/history"] * max(50, args.requests // 10)
        rows = []
        for label, paths in (("access query", access), ("history", history)):
            asyncio.run(load(base, token, paths[:100], args.concurrency))  # warm up
            wall, lat = asyncio.run(load(base, token, paths, args.concurrency))
            rows.append((label, len(paths), len(paths) / wall, percentile(lat, 50) * 1000,
                         percentile(lat, 99) * 1000))

        body = org_file.read_bytes()
        http_times = []
        with httpx.Client(base_url=base, timeout=600,
                          headers={"Authorization": f"Bearer {token}"}) as client:
            for _ in range(args.plans):
                started = time.perf_counter()
                made = client.post("/plans", content=body,
                                   headers={"Content-Type": "application/yaml"})
                http_times.append(time.perf_counter() - started)
                if made.status_code != 201:
                    raise SystemExit(f"plan over HTTP failed: {made.text[:300]}")
        cli_times = []
        for _ in range(args.plans):
            started = time.perf_counter()
            subprocess.run([*SHSYNC, "plan", str(org_file), "--format", "json"], env=env,
                           check=True, capture_output=True, cwd=work)
            cli_times.append(time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait(timeout=60)

    lines = [f"# `shsync serve` benchmark ({args.size}: {members:,} members, {clients:,} "
             "clients)", "",
             f"Command: `.venv/bin/python bench/serve.py --size {args.size} --concurrency "
             f"{args.concurrency} --requests {args.requests}`", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
             f"{platform.python_version()}, {platform.system()}; store: SQLite; server and "
             "clients on the same machine.", "",
             f"| request | count | requests/s | p50 ms | p99 ms |", "|---|---|---|---|---|"]
    lines += [f"| {label} | {n:,} | {rps:,.0f} | {p50:.1f} | {p99:.1f} |"
              for label, n, rps, p50, p99 in rows]
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

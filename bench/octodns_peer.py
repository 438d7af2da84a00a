"""octodns as a peer: `python bench/octodns_peer.py [--sizes M] [--repeat 3]`.

Issue #15 asks for shsync's plan at M to be at least 20x faster than octodns's on the same number
of entities. octodns is installed in its own environment (bench/.peers/octodns, created on first
run with `pip install octodns==VERSION`; never a dependency of shsync), so the two never share
packages. The same generated practice (bench/generate.py) is written both ways:

- for shsync, the org file and a live store seeded with the 1%-drifted snapshot, exactly as
  bench/run.py does;
- for octodns, one zone in which each member and each client is one TXT record (a member's
  record holds its roles and attributes, a client's its practitioner and grants), in a
  YamlProvider directory as the source, and the drifted snapshot in another YamlProvider
  directory as the target. `octodns-sync` without `--doit` computes and prints the plan, as
  `shsync plan` does.

Each tool runs as a fresh process; wall seconds, median of --repeat. Writes a markdown table to
bench/out/octodns-DATE-TIME.md (or --out). A script, not a test: timings are never asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

try:
    import yaml

    from bench.generate import SIZES, drifted, org, write
except ImportError as exc:  # outside the venv: say how to run it, no traceback
    raise SystemExit(f"bench/octodns_peer.py needs shsync's dependencies ({exc.name} not found "
                     f"for {sys.executable}): run it with .venv/bin/python after `make test`.") \
        from None

OCTODNS = "octodns==1.22.0"
PEER_ENV = HERE / ".peers" / "octodns"
NOW = "2026-11-26T12:00:00Z"
ZONE = "bench.example."


def peer() -> Path:
    """octodns-sync from its own venv, created once."""
    sync = PEER_ENV / "bin" / "octodns-sync"
    if not sync.exists():
        print(f"installing {OCTODNS} into {PEER_ENV} ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(PEER_ENV)], check=True)
        done = subprocess.run([str(PEER_ENV / "bin" / "pip"), "install", "--quiet", OCTODNS])
        if done.returncode != 0 or not sync.exists():
            raise SystemExit(f"could not install {OCTODNS} into {PEER_ENV} (no network?); "
                             "the peer is optional and was not measured")
    return sync


def records(doc: dict[str, Any]) -> dict[str, Any]:
    """The practice as one zone: a TXT record per member and per client, keys sorted (octodns's
    YamlProvider refuses unsorted keys)."""
    zone: dict[str, Any] = {}
    for m in doc["members"]:
        values = [f"name {m['first_name']} {m['last_name']}",
                  *(f"role {r}" for r in m["roles"])]
        for key in ("admin", "owner", "npi", "taxonomy", "billing_access", "supervised_by"):
            if key in m:
                values.append(f"{key} {m[key]}")
        zone[m["email"].split("@")[0]] = {"type": "TXT", "values": values}
    for c in doc["clients"]:
        values = [f"practitioner {c['practitioner']}",
                  *(f"access {e}" for e in c.get("access", []))]
        zone[c["id"].lower()] = {"type": "TXT", "values": values}
    return dict(sorted(zone.items()))


def write_octodns(work: Path, doc: dict[str, Any], live: dict[str, Any]) -> Path:
    for name, data in (("config", doc), ("live", live)):
        (work / name).mkdir()
        with (work / name / f"{ZONE}yaml").open("w") as fh:  # "bench.example.yaml"
            yaml.dump(records(data), fh, Dumper=yaml.CSafeDumper, sort_keys=False, width=200)
    config = {
        "providers": {
            "config": {"class": "octodns.provider.yaml.YamlProvider",
                       "directory": str(work / "config")},
            "live": {"class": "octodns.provider.yaml.YamlProvider",
                     "directory": str(work / "live")},
        },
        "zones": {ZONE: {"sources": ["config"], "targets": ["live"]}},
    }
    path = work / "octodns.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def timed(args: list[str], env: dict[str, str], cwd: Path, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run(args, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
        runs.append(time.perf_counter() - started)
        if done.returncode not in (0, 2):
            raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n"
                             f"{done.stderr.decode(errors='replace')[-2000:]}")
    return statistics.median(runs)


def measure(size: str, work: Path, repeat: int, sync: Path) -> tuple[int, float, float]:
    members, clients = SIZES[size]
    doc = org(members, clients)
    live = drifted(doc)
    work = work / size
    work.mkdir()
    org_file = write(work / "org.yaml", doc)
    live_file = write(work / "live.yaml", live)
    env = {**os.environ, "SHSYNC_NOW": NOW,
           "SHSYNC_BACKEND": f"sqlite:///{work / 'practice.db'}"}
    env.pop("SHSYNC_ACTOR", None)
    shsync = [sys.executable, "-m", "shsync"]
    subprocess.run([*shsync, "seed", str(live_file)], env=env, cwd=work, check=True,
                   capture_output=True)
    config = write_octodns(work, doc, live)
    ours = timed([*shsync, "plan", str(org_file), "--allow-mass-removal", "--assume-accepted"],
                 env, work, repeat)
    theirs = timed([str(sync), f"--config-file={config}"], {**os.environ}, work, repeat)
    return members + clients, ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="M", help="comma-separated: S, M (L takes octodns "
                                                     "many minutes)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool (median)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        raise SystemExit(f"unknown size(s): {', '.join(unknown)}; use S, M, L")
    sync = peer()
    version = subprocess.run([str(PEER_ENV / "bin" / "python"), "-c",
                              "import octodns; print(octodns.__version__)"],
                             capture_output=True, text=True).stdout.strip()
    lines = ["| size | entities | `shsync plan` (s) | `octodns-sync` plan (s) | octodns / shsync |",
             "|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="shsync-octodns-") as tmp:
        for size in sizes:
            print(f"measuring {size} ...", file=sys.stderr, flush=True)
            entities, ours, theirs = measure(size, Path(tmp), args.repeat, sync)
            lines.append(f"| {size} | {entities:,} | {ours:.2f} | {theirs:.2f} | "
                         f"{theirs / ours:.1f}x |")
    text = "\n".join([
        "# shsync and octodns, the same entities planned", "",
        f"`python bench/octodns_peer.py --sizes {','.join(sizes)} --repeat {args.repeat}`, "
        f"{time.strftime('%Y-%m-%d')}; octodns {version} in its own venv; wall seconds, median "
        f"of {args.repeat} fresh processes each, 1% drift.", "", *lines]) + "\n"
    print(text)
    out = args.out or HERE / "out" / f"octodns-{time.strftime('%Y%m%d-%H%M%S')}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(f"Wrote {out}.", file=sys.stderr)


if __name__ == "__main__":
    main()

"""The store's read of one practice: `python bench/read.py STORE_URL [N]`.

Reads the whole live practice (`_read()` in one snapshot, as a plan does) N times (3) with the
garbage collector off, as a plan runs it (shsync/gcpause.py), and prints the minimum CPU time.
From the project's venv; to compare two versions, put each first on the path
(`PYTHONPATH=DIR`). Not a test.
"""

from __future__ import annotations

import gc
import sys
import time

from shsync.stores import open_backend


def main() -> None:
    url, runs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3
    gc.disable()
    backend = open_backend(url, 60.0)
    best, clients = float("inf"), 0
    for _ in range(runs):
        started = time.process_time()
        with backend._snapshot():
            clients = len(backend._read().clients)
        best = min(best, time.process_time() - started)
    backend.close()
    print(f"read {best:.2f} s CPU (min of {runs}), {clients} clients")


if __name__ == "__main__":
    main()

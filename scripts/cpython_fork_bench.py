#!/usr/bin/env python3
"""Times os.fork() + os._exit(0) in the child + os.waitpid() in the parent
while N threads spin, with a given amount of live heap. Prints one JSON line:
{"threads", "heap_mib", "p50_ms", "p90_ms", "p99_ms", "n", "python"}, and with
--samples each round trip in run order ("samples_ms").
The baseline the Wasm fork bridge is compared against (npm run bench)."""
import argparse
import json
import os
import sys
import threading
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--heap-mib", type=int, default=0)
    ap.add_argument("--loops", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--spin-chunk", type=int, default=1000)
    ap.add_argument("--samples", action="store_true")
    a = ap.parse_args()

    heap = bytearray(os.urandom(1024)) * (a.heap_mib * 1024)  # touched, non-zero pages
    stop = False

    def spin() -> None:
        x = 0
        while not stop:
            for _ in range(a.spin_chunk):
                x += 1

    threads = [threading.Thread(target=spin, daemon=True) for _ in range(a.threads)]
    for t in threads:
        t.start()
    lat = []
    for i in range(a.warmup + a.loops):
        t0 = time.perf_counter_ns()
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        dt = (time.perf_counter_ns() - t0) / 1e6
        if i >= a.warmup:
            lat.append(dt)
    stop = True
    in_order = [round(x, 3) for x in lat]
    lat.sort()
    pct = lambda p: lat[min(len(lat) - 1, max(0, -(-p * len(lat) // 100) - 1))]
    out = {
        "threads": a.threads, "heap_mib": a.heap_mib, "p50_ms": round(pct(50), 3), "p90_ms": round(pct(90), 3),
        "p99_ms": round(pct(99), 3), "n": len(lat), "python": sys.version.split()[0], "heap_len": len(heap),
    }
    if a.samples:
        out["samples_ms"] = in_order
    print(json.dumps(out))


if __name__ == "__main__":
    main()

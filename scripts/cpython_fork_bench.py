#!/usr/bin/env python3
"""Times os.fork() + os._exit(0) in the child + os.waitpid() in the parent
while N threads spin, with a given amount of live heap. Prints one JSON line:
{"threads", "heap_mib", "p50_ms", "p90_ms", "p99_ms", "n", "python"}, and with
--samples each round trip in run order ("samples_ms"). With threads, "pause_p50_ms"
and "pause_max_ms": per fork, the longest stretch of its round trip in which no
spinning thread finished a chunk (the pause the other threads see; under the
GIL it includes the switch interval a spinner waits for the GIL).
The baseline the Wasm fork bridge is compared against (npm run bench)."""
import argparse
import bisect
import json
import os
import sys
import threading
import time


def longest_gap(ticks: list[int], t0: int, t1: int) -> float:
    """The longest time in [t0, t1] between two spinner ticks (or an end), in ms."""
    i = bisect.bisect_left(ticks, t0)
    j = bisect.bisect_right(ticks, t1)
    edges = [t0, *ticks[i:j], t1]
    return max(b - a for a, b in zip(edges, edges[1:])) / 1e6


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

    ticks: list[int] = []  # list.append is atomic under the GIL

    def spin() -> None:
        x = 0
        while not stop:
            for _ in range(a.spin_chunk):
                x += 1
            ticks.append(time.perf_counter_ns())

    threads = [threading.Thread(target=spin, daemon=True) for _ in range(a.threads)]
    for t in threads:
        t.start()
    lat = []
    windows = []
    for i in range(a.warmup + a.loops):
        t0 = time.perf_counter_ns()
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        t1 = time.perf_counter_ns()
        if i >= a.warmup:
            lat.append((t1 - t0) / 1e6)
            windows.append((t0, t1))
    stop = True
    ticks.sort()  # a thread may be switched out between its clock read and its append
    pauses = [longest_gap(ticks, t0, t1) for t0, t1 in windows] if a.threads else []
    in_order = [round(x, 3) for x in lat]
    lat.sort()
    pct = lambda p: lat[min(len(lat) - 1, max(0, -(-p * len(lat) // 100) - 1))]
    out = {
        "threads": a.threads, "heap_mib": a.heap_mib, "p50_ms": round(pct(50), 3), "p90_ms": round(pct(90), 3),
        "p99_ms": round(pct(99), 3), "n": len(lat), "python": sys.version.split()[0], "heap_len": len(heap),
    }
    if pauses:
        pauses.sort()
        out["pause_p50_ms"] = round(pauses[(len(pauses) - 1) // 2], 3)
        out["pause_max_ms"] = round(pauses[-1], 3)
    if a.samples:
        out["samples_ms"] = in_order
    print(json.dumps(out))


if __name__ == "__main__":
    main()

"""CPU-bound Python threads for the bench's python "threads" part (scripts/bench-python-threads.ts).

    python3.11 bench_python_threads.py N SECONDS

N threads each run the same loop for SECONDS of wall time, started together by a barrier. Every iteration reads
the clock and notes which thread ran last; a thread that finds another one ran since its last iteration closes its
run (at that last iteration, before the switch) and opens a new one (at a fresh clock read, after it). The runs of all
threads in time order give the GIL hand-offs: the time from one thread's run's end to the next thread's run's start,
to within one iteration. Prints one JSON line: each thread's iteration count and the hand-off times in ms.
With N = 1 it is the one-thread baseline of the same build. With the environment variable READY set, each thread
prints "ready" once it runs (the host's stop-the-world measurement waits for it).
"""
import json
import os
import sys
import threading
import time


def run(n, seconds):
    clock = time.perf_counter
    stop = [False]
    owner = [-1]  # the thread that ran last
    runs = []  # (start, end, thread)
    counts = [0] * n
    barrier = threading.Barrier(n + 1)
    ready = "READY" in os.environ

    def work(i):
        barrier.wait()
        if ready:
            print("ready", flush=True)
        c = 0
        start = prev = clock()
        while not stop[0]:
            t = clock()
            if owner[0] != i:
                owner[0] = i
                runs.append((start, prev, i))
                start = t = clock()
            prev = t
            c += 1
        runs.append((start, prev, i))
        counts[i] = c

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    barrier.wait()
    start = clock()
    time.sleep(seconds)
    stop[0] = True
    elapsed = clock() - start
    for t in threads:
        t.join()
    runs.sort()
    handoffs = [b[0] - a[1] for a, b in zip(runs, runs[1:]) if a[2] != b[2] and b[0] >= a[1]]
    return {"threads": n, "seconds": round(elapsed, 4), "counts": counts,
            "handoffs_ms": [round(h * 1000, 4) for h in handoffs]}


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]), float(sys.argv[2]))))

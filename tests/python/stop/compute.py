"""Threads that compute in pure Python while the host stops the world (tests/python-stop.test.ts).

    python3.11 compute.py N FLAG

N threads run a loop that reads no clock, does no I/O and calls nothing that releases the GIL: the only way a stop
reaches them is through the GIL. The main thread prints "running" once they all run and waits (sleeping, the GIL
released) for the file FLAG, which the host creates after its stops. Then it waits until every thread has gone on
counting, stops them, and checks each thread's sum against its count.
"""
import os
import sys
import threading
import time


def expected(i, count):
    per = [(k * k + i) % 7 for k in range(7)]
    q, r = divmod(count, 7)
    return q * sum(per) + sum(per[:r])


def wait_until(ready, seconds):
    end = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > end:
            return False
        time.sleep(0.005)
    return True


def main(n, flag):
    stop = [False]
    counts, sums = [0] * n, [0] * n
    barrier = threading.Barrier(n + 1)

    def work(i):
        barrier.wait()
        c = s = 0
        while not stop[0]:
            s += (c * c + i) % 7
            c += 1
            counts[i] = c
        sums[i] = s

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    barrier.wait()
    print("running", flush=True)
    if not wait_until(lambda: os.path.exists(flag), 600):
        print("no flag")
        return 1
    seen = list(counts)
    grew = wait_until(lambda: all(c > s for c, s in zip(counts, seen)), 120)
    stop[0] = True
    for t in threads:
        t.join()
    right = all(sums[i] == expected(i, counts[i]) for i in range(n))
    print("grew after the stops:", grew)
    print("results", "right" if right else "wrong")
    return 0 if grew and right else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), sys.argv[2]))

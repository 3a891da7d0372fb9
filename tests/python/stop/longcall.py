"""One thread holds the GIL in a long C call while the host stops the world (tests/python-stop.test.ts).

    python3.11 longcall.py N FLAG

Thread A prints "calling", then computes sum(range(N)), in C from start to end: it looks at no eval breaker
until the call returns. Thread B computes in pure Python meanwhile, mostly waiting for the GIL. The main thread
waits (sleeping) for the file FLAG, which the host creates after its stops, then stops B and prints both results.
"""
import os
import sys
import threading
import time


def main(n, flag):
    stop = [False]
    result = {}

    def call():
        print("calling", flush=True)
        result["sum"] = sum(range(n))

    def compute():
        c = s = 0
        while not stop[0]:
            s += c % 3
            c += 1
        q, r = divmod(c, 3)
        result["b"] = s == 3 * q + r * (r - 1) // 2

    a, b = threading.Thread(target=call), threading.Thread(target=compute)
    b.start()
    a.start()
    end = time.monotonic() + 600
    while not os.path.exists(flag) and time.monotonic() < end:
        time.sleep(0.005)
    a.join()
    stop[0] = True
    b.join()
    print("sum", result["sum"], result["sum"] == n * (n - 1) // 2)
    print("b right", result["b"])
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), sys.argv[2]))

"""The single-thread Python benchmark set (npm run bench -- --only python).

`python3.11 bench_python.py NAME [ROUNDS]` runs program NAME ROUNDS times (default 3) and prints one line of JSON:
{"name": ..., "ms": [per-round wall times]}. Each program does a fixed amount of work and checks its result, so a
wrong answer fails the benchmark instead of timing it. Sized for ~0.1-0.3 s a round under native python3.11.
"""
import json
import math
import sys
import time


def recursion():
    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)
    assert fib(25) == 75025


def loops():
    x = 0
    for i in range(2_000_000):
        x += i % 7
    assert x == 5999995


def strings():
    parts = [str(i) + "," for i in range(200_000)]
    s = "".join(parts)
    assert s.count(",") == 200_000
    f = ["%d:%.3f" % (i, i / 7) for i in range(60_000)]
    g = [f"{i:>8}|{i * 3:x}" for i in range(60_000)]
    assert len(f) + len(g) == 120_000 and s.split(",")[12345] == "12345"


def dict_list():
    d = {}
    for i in range(200_000):
        d[(i * 7919) % 100003] = i
    keys = sorted(d)
    lst = [d[k] for k in keys]
    lst.sort(reverse=True)
    words = {}
    for i in range(100_000):
        w = "w" + str(i % 5000)
        words[w] = words.get(w, 0) + 1
    assert len(keys) == 100003 and words["w42"] == 20 and lst[0] == 199999


def classes():
    class Vec:
        __slots__ = ("x", "y")

        def __init__(self, x, y):
            self.x, self.y = x, y

        def __add__(self, o):
            return Vec(self.x + o.x, self.y + o.y)

        def scale(self, k):
            return Vec(self.x * k, self.y * k)

    class Body:
        def __init__(self, p, v):
            self.p, self.v = p, v

        def step(self, dt):
            self.p = self.p + self.v.scale(dt)

    bodies = [Body(Vec(i, -i), Vec(1, 0.5)) for i in range(100)]
    for _ in range(1000):
        for b in bodies:
            b.step(0.01)
    assert abs(bodies[0].p.x - 10.0) < 1e-6


def exceptions():
    class Oops(Exception):
        pass

    def f(i):
        if i % 2:
            raise Oops(i)
        return i

    n = 0
    for i in range(200_000):
        try:
            n += f(i)
        except Oops:
            n -= 1
    assert n == sum(range(0, 200_000, 2)) - 100_000


def generators():
    def gen(n):
        for i in range(n):
            yield i * i

    def chain(g):
        yield from g

    total = sum(chain(gen(500_000)))
    evens = sum(1 for x in gen(300_000) if x % 2 == 0)
    assert total == sum(i * i for i in range(500_000)) and evens == 150_000


def floats():
    # n-body, 2 bodies' worth of floating point in plain Python
    x, y, vx, vy = 1.0, 0.0, 0.0, 1.0
    dt = 0.001
    for _ in range(200_000):
        r = math.sqrt(x * x + y * y)
        a = -1.0 / (r * r * r)
        vx += a * x * dt
        vy += a * y * dt
        x += vx * dt
        y += vy * dt
    assert abs(math.hypot(x, y) - 1.0) < 1e-2


PROGRAMS = {f.__name__: f for f in (recursion, loops, strings, dict_list, classes, exceptions, generators, floats)}

if __name__ == "__main__":
    name = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    ms = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        PROGRAMS[name]()
        ms.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({"name": name, "ms": ms}))

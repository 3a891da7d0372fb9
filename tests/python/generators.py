# Generators, coroutines and async generators driven by a scheduler of their own.
import itertools


def counter(n):
    i = 0
    while i < n:
        received = yield i
        if received is not None:
            i = received
        else:
            i += 1
    return "done"


g = counter(10)
print(next(g), next(g), g.send(7), next(g), list(g))


def delegator():
    result = yield from counter(3)
    print("delegated result", result)
    yield "last"


print(list(delegator()))


def closing():
    try:
        yield 1
        yield 2
    finally:
        print("generator closed")


c = closing()
print(next(c))
c.close()


def thrower():
    try:
        yield 1
    except ValueError as e:
        yield f"caught {e}"


t = thrower()
next(t)
print(t.throw(ValueError("inside")))
print(sum(x * x for x in range(100)), [x for x in range(20) if x % 3 == 0], {k: v for k, v in zip("abc", range(3))})
print(list(itertools.islice(itertools.count(5, 3), 5)), list(itertools.accumulate([1, 2, 3, 4], lambda a, b: a * b)))
print(list(itertools.chain.from_iterable([[1, 2], [3]])), list(itertools.product("ab", repeat=2)), list(itertools.permutations(range(3), 2)))
print([list(g) for k, g in itertools.groupby("aaabbcaa")], list(itertools.zip_longest("ab", "xyz", fillvalue="-")))
print(list(itertools.combinations_with_replacement("abc", 2)), list(itertools.pairwise(range(5))), list(itertools.starmap(pow, [(2, 5), (3, 2)])))


class Yield:
    """An awaitable that hands control back to the scheduler once."""

    def __await__(self):
        yield


def run_all(*coros):
    """A round-robin scheduler over coroutines (asyncio's event loop needs a socketpair, which WASI lacks)."""
    results = [None] * len(coros)
    ready = list(enumerate(coros))
    while ready:
        i, c = ready.pop(0)
        try:
            c.send(None)
            ready.append((i, c))
        except StopIteration as stop:
            results[i] = stop.value
    return results


async def worker(name, n, log):
    for i in range(n):
        log.append(f"{name}{i}")
        await Yield()
    return name * n


async def agen(n):
    for i in range(n):
        yield i * i
        await Yield()


async def collect(n):
    return [x async for x in agen(n)]


class AsyncCM:
    async def __aenter__(self):
        print("aenter")
        return self

    async def __aexit__(self, *exc):
        print("aexit", exc[0].__name__ if exc[0] else None)
        return True


async def main():
    log = []
    inner = run_all(worker("a", 3, log), worker("b", 2, log), worker("c", 4, log))
    print(inner, log)
    print(await collect(5))
    async with AsyncCM():
        raise KeyError("inside async with")
    try:
        await worker(None, 1, log)
    except TypeError as e:
        print("TypeError:", e)
    return "main done"


print(run_all(main()))
coro = worker("z", 1, [])
print(type(coro).__name__, coro.__qualname__)
coro.close()

class Countdown:
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return self

    def __next__(self):
        if self.n <= 0:
            raise StopIteration
        self.n -= 1
        return self.n


print(list(Countdown(5)), list(reversed(range(3))), list(enumerate("xyz", 1)), list(map(str.upper, "ab")), list(filter(None, [0, 1, "", "a"])))

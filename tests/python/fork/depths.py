# os.fork under C frames: a sorted() key, map(), __init__ (type_call ->
# slot_tp_init), __repr__ (repr() -> slot_tp_repr), __del__ (a dealloc), a
# generator, a nested function three Python calls deep, exec(). In each the
# child returns through every frame above the fork and exits with its own code.
import os


def fork_here(where, code):
    pid = os.fork()
    if pid == 0:
        print(f"child: {where}", flush=True)
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    print(f"parent: {where} -> {os.waitstatus_to_exitcode(status)}", flush=True)
    return pid


def key(x):
    if x == 2:
        fork_here("sorted key", 11)
    return -x


print(sorted([1, 2, 3], key=key))
print(list(map(lambda x: x * 10 if x != 2 else (fork_here("map", 12), 20)[1], [1, 2, 3])))


class Init:
    def __init__(self):
        fork_here("__init__", 13)
        self.ok = True


print("init ok", Init().ok)


class Repr:
    def __repr__(self):
        fork_here("__repr__", 14)
        return "<Repr>"


print(repr([Repr()]))


class Del:
    def __del__(self):
        fork_here("__del__", 15)


d = Del()
del d


def gen():
    yield 1
    fork_here("generator", 16)
    yield 2


print(list(gen()))


def a():
    return b() + 1


def b():
    return c() + 1


def c():
    fork_here("three deep", 17)
    return 1


print("deep", a())
exec("fork_here('exec', 18)")
print("done")

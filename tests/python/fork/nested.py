# Forks three deep, each from a method called on a thread other than the
# process's main one: every child is a process of its own (its pid is not its
# parent's, its getppid() is), keeps only the forking thread, and exits with
# its own child's status plus one.
import os
import threading


class Level:
    def __init__(self, depth):
        self.depth = depth

    def fork(self, out):
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            print(f"depth {self.depth}: own pid", os.getpid() != parent, "parent's", os.getppid() == parent,
                  "threads", threading.active_count(), flush=True)
            os._exit(descend(self.depth + 1) + 1 if self.depth < 3 else 0)
        _, status = os.waitpid(pid, 0)
        out.append(os.waitstatus_to_exitcode(status))


def descend(depth):
    out = []
    forker = threading.Thread(target=Level(depth).fork, args=(out,))
    forker.start()
    forker.join()
    print(f"depth {depth - 1}: child exit {out[0]}", flush=True)
    return out[0]


descend(1)

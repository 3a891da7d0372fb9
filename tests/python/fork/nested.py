# Forks nested three deep, each from one frame deeper than its parent's: every
# level is its parent's child (getppid), and each level's exit status puts its
# own number before its child's: 123 at the top.
import os


def level(n, depth):
    if depth < n:
        return level(n, depth + 1)
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        print("level", n, "is its parent's child", os.getppid() == parent, flush=True)
        os._exit(n if n == 3 else n * 10 ** (3 - n) + level(n + 1, 0))
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


print("statuses from three levels down", level(1, 0))

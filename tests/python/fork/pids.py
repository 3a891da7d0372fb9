# A process's own pids: in a child os.getpid() is what os.fork returned in the
# parent and os.getppid() the parent's os.getpid(); a grandchild's parent is
# the child. (A child tells its pid through its exit status: the low byte.)
import os

parent = os.getpid()
pid = os.fork()
if pid == 0:
    me = os.getpid()
    print("child: its own pid, not its parent's", me != parent, flush=True)
    print("child: getppid() is the parent's getpid()", os.getppid() == parent, flush=True)
    grandchild = os.fork()
    if grandchild == 0:
        print("grandchild: getppid() is the child's getpid()", os.getppid() == me, flush=True)
        os._exit(os.getpid() & 0xff)
    _, status = os.waitpid(grandchild, 0)
    print("child: the grandchild's getpid() is what fork returned", os.WEXITSTATUS(status) == grandchild & 0xff, flush=True)
    os._exit(me & 0xff)
_, status = os.waitpid(pid, 0)
print("parent: the child's getpid() is what fork returned", os.WEXITSTATUS(status) == pid & 0xff)
print("parent: its own pid unchanged", os.getpid() == parent)

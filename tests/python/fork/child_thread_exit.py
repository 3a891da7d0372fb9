# os._exit from a thread of a fork child other than its main one ends the
# child with that status while the main thread joins that thread (a join that
# never returns: the thread does not finish, the process ends). The next fork
# works, and so does a child's exit from a thread that a thread started.
import os
import threading


def child_exits_from(depth, code):
    def leaf():
        print(f"child thread {depth}: exiting with {code}", flush=True)
        os._exit(code)

    def start(d):
        if d == 0:
            leaf()
            return
        t = threading.Thread(target=start, args=(d - 1,))
        t.start()
        t.join()

    t = threading.Thread(target=start, args=(depth - 1,))
    t.start()
    t.join()
    print("child: the join returned", flush=True)
    os._exit(1)


for depth, code in ((1, 9), (2, 7)):
    pid = os.fork()
    if pid == 0:
        child_exits_from(depth, code)
    _, status = os.waitpid(pid, 0)
    print("parent: child exit", os.waitstatus_to_exitcode(status), flush=True)

pid = os.fork()
if pid == 0:
    print("child: a next fork runs", flush=True)
    os._exit(0)
_, status = os.waitpid(pid, 0)
print("parent: child exit", os.waitstatus_to_exitcode(status))

# A fork child starts threads of its own: two that it joins, then one that
# forks again (the grandchild's main thread is that thread) and reaps its
# child while the child's main thread waits for it.
import os
import threading

pid = os.fork()
if pid == 0:
    out = []
    lock = threading.Lock()

    def work(i):
        with lock:
            out.append((i, threading.current_thread().name))

    ts = [threading.Thread(target=work, args=(i,), name=f"child-{i}") for i in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("child's threads:", sorted(out), threading.active_count(), flush=True)

    result = []

    def forker():
        me = threading.current_thread()
        gpid = os.fork()
        if gpid == 0:
            print("grandchild:", threading.active_count(), threading.current_thread() is threading.main_thread(),
                  me.name, os.getppid() == ppid, flush=True)
            os._exit(5)
        _, status = os.waitpid(gpid, 0)
        result.append(os.waitstatus_to_exitcode(status))

    ppid = os.getpid()
    t = threading.Thread(target=forker, name="child-forker")
    t.start()
    t.join()
    print("child: grandchild exit", result, threading.active_count(), flush=True)
    os._exit(3)
_, status = os.waitpid(pid, 0)
print("parent: child exit", os.waitstatus_to_exitcode(status))

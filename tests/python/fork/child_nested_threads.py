# In a fork child, a thread started by a thread other than the child's main
# one starts at once: the main thread starts A, A starts B, the main thread
# joins A while A joins B. Then a thread of the child's exits it.
import os
import threading

pid = os.fork()
if pid == 0:
    out = []

    def b():
        out.append(("B", threading.current_thread().name))

    def a():
        t = threading.Thread(target=b, name="child-B")
        t.start()
        t.join()
        out.append(("A joined B", threading.active_count()))

    t = threading.Thread(target=a, name="child-A")
    t.start()
    t.join()
    print("child:", out, threading.active_count(), flush=True)
    os._exit(4)
_, status = os.waitpid(pid, 0)
print("parent: child exit", os.waitstatus_to_exitcode(status))

# A fork with other threads alive: only the forking thread lives in the child,
# and it is the child's main thread; the parent's threads go on. Then a fork
# from a worker thread while the main thread waits.
import os
import threading

stop = threading.Event()
started = threading.Barrier(3)


def spin():
    started.wait()
    n = 0
    while not stop.is_set():
        n += 1


workers = [threading.Thread(target=spin, name=f"spin-{i}") for i in range(2)]
for w in workers:
    w.start()
started.wait()
pid = os.fork()
if pid == 0:
    print("child threads", threading.active_count(), threading.current_thread() is threading.main_thread(), flush=True)
    os._exit(3)
_, status = os.waitpid(pid, 0)
print("parent threads", threading.active_count(), "child exit", os.waitstatus_to_exitcode(status))
stop.set()
for w in workers:
    w.join()

result = []


def forker():
    pid = os.fork()
    if pid == 0:
        me = threading.current_thread()
        print("child of a worker:", threading.active_count(), me is threading.main_thread(), me.name, flush=True)
        os._exit(4)
    _, status = os.waitpid(pid, 0)
    result.append(os.waitstatus_to_exitcode(status))


t = threading.Thread(target=forker, name="forker")
t.start()
t.join()
print("worker's child exit", result)

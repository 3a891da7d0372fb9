# A thread's life: sys.setswitchinterval, time.sleep and blocking waits releasing the GIL, join with a timeout,
# names and idents, enumerate, a cancelled Timer, a daemon thread blocked at exit, a thread that outlives main's code.
import sys
import threading
import time

print("switch interval", sys.getswitchinterval())
sys.setswitchinterval(0.001)
print("set", sys.getswitchinterval())

# time.sleep releases the GIL: a counting thread runs while the main thread sleeps
progress = 0
stop = threading.Event()


def count():
    global progress
    while not stop.is_set():
        progress += 1


t = threading.Thread(target=count)
t.start()
time.sleep(0.2)
seen = progress
stop.set()
t.join()
print("counted while main slept", seen > 0)

ev = threading.Event()
w = threading.Thread(target=ev.wait, name="waiter")
w.start()
w.join(0.05)
print("join timed out, still alive", w.is_alive(), w.name, w.ident != threading.get_ident())
print("enumerate", sorted(th.name for th in threading.enumerate()))
ev.set()
w.join()
print("after set", w.is_alive(), threading.active_count())

tm = threading.Timer(30, print, args=("never",))
tm.start()
tm.cancel()
tm.join(5)
print("timer cancelled", tm.is_alive(), tm.finished.is_set())

# blocking in a lock from another thread releases the GIL too
lk = threading.Lock()
lk.acquire()
got = []
h = threading.Thread(target=lambda: got.append(lk.acquire(timeout=5)))
h.start()
time.sleep(0.05)
lk.release()
h.join()
print("lock handed over", got)

forever = threading.Event()
d = threading.Thread(target=forever.wait, daemon=True, name="daemon")
d.start()
print("daemon", d.daemon, d.is_alive())

go = threading.Event()


def late():
    go.wait()
    print("late thread done, after main's last line")


threading.Thread(target=late).start()
print("main done")
go.set()

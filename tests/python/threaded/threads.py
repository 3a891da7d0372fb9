# Threads: locks, RLock, Condition, Event, Semaphore, Barrier, queue, threading.local, excepthook, a pool.
# Deterministic output: every result is joined or sorted before it is printed.
import concurrent.futures
import queue
import threading
import time

counter = 0
lock = threading.Lock()


def add(n):
    global counter
    for _ in range(n):
        with lock:
            counter += 1


threads = [threading.Thread(target=add, args=(5000,), name=f"adder-{i}") for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("counter", counter, [t.is_alive() for t in threads])

print("acquire with timeout", lock.acquire(timeout=0.01), lock.acquire(timeout=0.05))
lock.release()

r = threading.RLock()
with r:
    with r:
        print("rlock reentered")

items = []
cond = threading.Condition()


def producer():
    for i in range(5):
        with cond:
            items.append(i)
            cond.notify()


def consumer(out):
    got = 0
    while got < 5:
        with cond:
            while not items:
                cond.wait(1)
            out.append(items.pop(0))
            got += 1


out = []
c = threading.Thread(target=consumer, args=(out,))
c.start()
producer()
c.join()
print("condition", out)

ev = threading.Event()
threading.Timer(0.02, ev.set).start()
print("event", ev.wait(5), threading.Event().wait(0.01))

sem = threading.BoundedSemaphore(2)
inside = []
max_inside = [0]
guard = threading.Lock()


def limited(i):
    with sem:
        with guard:
            inside.append(i)
            max_inside[0] = max(max_inside[0], len(inside))
        time.sleep(0.01)
        with guard:
            inside.remove(i)


ts = [threading.Thread(target=limited, args=(i,)) for i in range(5)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("semaphore held by at most 2", 1 <= max_inside[0] <= 2)

barrier = threading.Barrier(3)
order = []


def at_barrier(i):
    order.append(("before", i))
    barrier.wait(5)
    order.append(("after", i))


ts = [threading.Thread(target=at_barrier, args=(i,)) for i in range(3)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("barrier", all(kind == "before" for kind, _ in order[:3]), sorted(i for kind, i in order if kind == "after"))

q = queue.Queue()


def worker():
    while (item := q.get()) is not None:
        results.append(item * item)
        q.task_done()
    q.task_done()


results = []
ws = [threading.Thread(target=worker) for _ in range(3)]
for w in ws:
    w.start()
for i in range(10):
    q.put(i)
for _ in ws:
    q.put(None)
q.join()
for w in ws:
    w.join()
print("queue", sorted(results))

local = threading.local()


def set_local(v, out):
    local.value = v
    time.sleep(0.01)
    out.append(local.value)


vals = []
ts = [threading.Thread(target=set_local, args=(i, vals)) for i in range(4)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("local", sorted(vals), hasattr(local, "value"))

seen = []
threading.excepthook = lambda args: seen.append((args.exc_type.__name__, str(args.exc_value), args.thread.name))
t = threading.Thread(target=lambda: 1 / 0, name="failing")
t.start()
t.join()
print("excepthook", seen)

with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
    print("pool", list(pool.map(lambda x: x * 10, range(8))))
    fut = pool.submit(pow, 2, 100)
    print("future", fut.result(5))

old = threading.current_thread().name
print("main thread", old, threading.main_thread() is threading.current_thread(), threading.active_count())

# Pipes across os.fork: a child has its parent's pipe descriptors, on the
# same pipes. test_thread's TestForkInThread (a thread forks, its child writes,
# the main thread reads); bytes both ways, more than a pipe holds; a child
# that closes its read end unread takes nothing; a grandchild writing to its
# grandparent's pipe; os.pipe2's O_NONBLOCK kept; subprocess-style status
# pipes (a child reporting through a pipe while the parent waits on select).
import os
import select
import threading

BIG = bytes((i * 131 + 7) & 0xFF for i in range(200 * 1024))


def reap(pid):
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def read_all(fd):
    chunks = []
    while True:
        b = os.read(fd, 65536)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


# the test of test_thread, as CPython's runner runs it
r, w = os.pipe()
pid = None


def fork_thread(read_fd, write_fd):
    global pid
    pid = os.fork()
    if pid:
        return
    try:
        os.close(read_fd)
        os.write(write_fd, b"OK")
    finally:
        os._exit(0)


t = threading.Thread(target=fork_thread, args=(r, w))
t.start()
print("fork in thread", os.read(r, 2), flush=True)
os.close(w)
t.join()
print("exit", reap(pid), "then eof", os.read(r, 1), flush=True)
os.close(r)

# the child writes more than a pipe holds, the parent reads it all
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r)
    with os.fdopen(w, "wb") as f:
        f.write(BIG)
    os._exit(0)
os.close(w)
got = read_all(r)
os.close(r)
print("child wrote", len(got), got == BIG, "exit", reap(pid), flush=True)

# the parent writes, the child reads to end of file
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(w)
    got = read_all(r)
    os._exit(0 if got == BIG else 3)
os.close(r)
os.write(w, BIG[:10])
with os.fdopen(w, "wb") as f:
    f.write(BIG[10:])
print("parent wrote, child read it all:", reap(pid) == 0, flush=True)

# bytes in the pipe at the fork stay the parent's when the child does not read
r, w = os.pipe()
os.write(w, b"mine")
pid = os.fork()
if pid == 0:
    os.close(r)
    os.close(w)
    os._exit(0)
reap(pid)
os.close(w)
print("unread", read_all(r), flush=True)
os.close(r)

# a grandchild, then the child, write to the pipe made here
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r)
    g = os.fork()
    if g == 0:
        os.write(w, b"grandchild ")
        os._exit(0)
    reap(g)
    os.write(w, b"child")
    os._exit(0)
os.close(w)
print("nested", read_all(r), "exit", reap(pid), flush=True)
os.close(r)

# O_NONBLOCK is the descriptor's: the child's read of the empty pipe does not wait
r, w = os.pipe2(os.O_NONBLOCK)
pid = os.fork()
if pid == 0:
    try:
        os.read(r, 1)
        os._exit(1)
    except BlockingIOError:
        os._exit(0 if not os.get_blocking(r) else 2)
print("nonblocking in the child", reap(pid), flush=True)
os.close(r)
os.close(w)

# a child reports through a pipe while the parent waits in select
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r)
    os.write(w, b"ready")
    os._exit(0)
os.close(w)
readable, _, _ = select.select([r], [], [], 30)
print("select", readable == [r], os.read(r, 5), read_all(r), "exit", reap(pid), flush=True)
os.close(r)

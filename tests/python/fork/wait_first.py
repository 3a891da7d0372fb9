# A blocking os.wait() returns the first child to exit, not the first forked:
# the first child runs until the parent has reaped the second. waitpid with
# WNOHANG answers (0, 0) while the child runs, then its pid and status.
import os
import tempfile
import time

d = tempfile.mkdtemp()
go = os.path.join(d, "go")
first = os.fork()
if first == 0:
    deadline = time.monotonic() + 60
    while not os.path.exists(go):
        if time.monotonic() > deadline:
            os._exit(99)
        time.sleep(0.01)
    os._exit(1)
second = os.fork()
if second == 0:
    os._exit(2)
pid, status = os.wait()
print("os.wait: the second child, exit status", pid == second, os.WEXITSTATUS(status))
print("WNOHANG while the first runs:", os.waitpid(first, os.WNOHANG))
open(go, "w").close()
deadline = time.monotonic() + 60
while True:
    pid, status = os.waitpid(first, os.WNOHANG)
    if pid:
        break
    assert time.monotonic() < deadline, "the first child did not exit"
    time.sleep(0.01)
print("WNOHANG: then the first, exit status", pid == first, os.WEXITSTATUS(status))
os.remove(go)
os.rmdir(d)
try:
    os.wait()
except ChildProcessError:
    print("os.wait: no children left")

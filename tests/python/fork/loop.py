# Many forks, each reaped: statuses in order, WNOHANG polling, os.wait().
import os
import time

codes = []
for i in range(6):
    pid = os.fork()
    if pid == 0:
        os._exit(i)
    _, status = os.waitpid(pid, 0)
    codes.append(os.WEXITSTATUS(status))
print("codes", codes)

pids = []
for i in range(3):
    pid = os.fork()
    if pid == 0:
        os._exit(40 + i)
    pids.append(pid)
seen = {}
while len(seen) < 3:
    pid, status = os.wait()
    seen[pid] = os.WEXITSTATUS(status)
print("os.wait codes", sorted(seen.values()), sorted(seen) == sorted(pids))

pid = os.fork()
if pid == 0:
    time.sleep(0.2)
    os._exit(5)
deadline = time.monotonic() + 60
while True:
    got, status = os.waitpid(pid, os.WNOHANG)
    if got:
        break
    assert time.monotonic() < deadline, "the child did not exit"
    time.sleep(0.01)
print("WNOHANG", got == pid, os.WEXITSTATUS(status))
try:
    os.waitpid(-1, os.WNOHANG)
except ChildProcessError:
    print("no children left")

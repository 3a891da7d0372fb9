# os.fork at module level: the parent gets the child's pid, the child 0; each
# side sees only its own changes; the child's exit status reaches waitpid.
import os
import sys

data = {"shared": 1}
print("before fork", flush=True)
pid = os.fork()
if pid == 0:
    data["child"] = 2
    print("child sees", sorted(data), flush=True)
    os._exit(7)
data["parent"] = 3
got, status = os.waitpid(pid, 0)
print("parent sees", sorted(data))
print("reaped the child:", got == pid, pid > 0)
print("WIFEXITED", os.WIFEXITED(status), "WEXITSTATUS", os.WEXITSTATUS(status), "WIFSIGNALED", os.WIFSIGNALED(status))
print("exit code", os.waitstatus_to_exitcode(status))
try:
    os.waitpid(pid, 0)
except ChildProcessError as e:
    print("second wait:", type(e).__name__, e.errno == 10 or e.errno == 12)
try:
    os.wait()
except ChildProcessError as e:
    print("wait without children:", type(e).__name__)
sys.exit(0)

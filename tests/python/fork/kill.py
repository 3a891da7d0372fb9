# os.kill of a child: SIGTERM and SIGKILL end it and its wait status names the
# signal; signal 0 only checks the child is there; a reaped child is gone.
import os
import signal
import time

for sig in (signal.SIGTERM, signal.SIGKILL):
    pid = os.fork()
    if pid == 0:
        # runs until killed; the deadline ends a child no kill reached
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.05)
        os._exit(99)
    os.kill(pid, 0)
    os.kill(pid, sig)
    got, status = os.waitpid(pid, 0)
    print(sig.name, got == pid, "signaled", os.WIFSIGNALED(status), "termsig", os.WTERMSIG(status) == sig,
          "exited", os.WIFEXITED(status), "exit code", os.waitstatus_to_exitcode(status))
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        print(sig.name, "again: no such process")

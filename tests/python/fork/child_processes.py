# A fork child starts processes of its own through subprocess, and its threads
# share its pipes, as a root process does (docs/PYTHON.md "Processes").
import os
import subprocess
import sys
import threading

pid = os.fork()
if pid == 0:
    r = subprocess.run([sys.executable, "-c", "import sys; print('grandchild', sys.argv[1:])", "a b"], capture_output=True, text=True)
    print("child ran:", r.returncode, r.stdout.strip(), flush=True)
    print("child's echo:", subprocess.check_output(["echo", "from the child"]), flush=True)
    rfd, wfd = os.pipe()
    t = threading.Thread(target=os.write, args=(wfd, b"from the child's thread"))
    t.start()
    t.join()
    print("child's pipe:", os.read(rfd, 100), flush=True)
    os._exit(3)
_, status = os.waitpid(pid, 0)
print("child exit", os.waitstatus_to_exitcode(status))

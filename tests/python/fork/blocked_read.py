# A fork while another thread is blocked reading stdin (the line comes only
# after the parent has reaped its child): the reader is not a thread of the
# child, the child runs and exits, and the reader's read completes in the
# parent afterwards.
import os
import sys
import threading

reading = threading.Event()
got = []


def reader():
    reading.set()
    got.append(sys.stdin.readline())


t = threading.Thread(target=reader, name="reader")
t.start()
reading.wait()
pid = os.fork()
if pid == 0:
    print("child threads", threading.active_count(), [th.name for th in threading.enumerate()], flush=True)
    os._exit(5)
_, status = os.waitpid(pid, 0)
print("child exit", os.waitstatus_to_exitcode(status), flush=True)
t.join()
print("the reader read", repr(got[0]))

# os.register_at_fork: before hooks in reverse order of registration, after
# hooks in order, in the parent and in the child.
import os

log = []
os.register_at_fork(before=lambda: log.append("before 1"), after_in_parent=lambda: log.append("parent 1"),
                    after_in_child=lambda: log.append("child 1"))
os.register_at_fork(before=lambda: log.append("before 2"), after_in_parent=lambda: log.append("parent 2"),
                    after_in_child=lambda: log.append("child 2"))
pid = os.fork()
if pid == 0:
    print("child log", log, flush=True)
    os._exit(0)
os.waitpid(pid, 0)
print("parent log", log)

# sys.argv, stdin, exit status through sys.exit, an uncaught exception's traceback at the end.
import sys

print(sys.argv[1:], len(sys.argv), sys.argv[0].endswith("argv_exit.py"))
print(sys.version_info[:2], sys.byteorder, sys.getdefaultencoding(), sys.flags.optimize, sys.stdout.encoding)
data = sys.stdin.read()
print(repr(data))
if "exit" in sys.argv:
    sys.exit(int(sys.argv[-1]))


def fail(n):
    if n == 0:
        raise ValueError(f"bad value {n}")
    fail(n - 1)


if "raise" in sys.argv:
    fail(3)
print("end")

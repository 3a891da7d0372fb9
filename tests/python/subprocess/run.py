# subprocess as a user runs it: a fresh interpreter through sys.executable and
# other programs, with pipes, input, text mode, a directory, an environment,
# errors, timeouts, kills, and from several threads at once.
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

PY = sys.executable

r = subprocess.run([PY, "-c", "import sys; print('out', sys.argv[1:]); print('err', file=sys.stderr); sys.exit(3)", "a", "b c"],
                   capture_output=True)
print("run:", r.returncode, r.stdout, r.stderr)

data = bytes(range(256)) * 800
r = subprocess.run([PY, "-c", "import sys; d = sys.stdin.buffer.read(); sys.stdout.buffer.write(d[::-1])"],
                   input=data, stdout=subprocess.PIPE)
print("input:", r.returncode, len(r.stdout), r.stdout == data[::-1])

out = subprocess.check_output([PY, "-c", "import os; print(os.getcwd()); print(os.environ['PROBE'])"],
                              cwd="/", env={**os.environ, "PROBE": "yes"}, text=True)
print("cwd and env:", repr(out))

r = subprocess.run([PY, "-c", "import sys; print('a', flush=True); print('b', file=sys.stderr, flush=True); print('c')"],
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
print("stderr to stdout:", repr(r.stdout))

try:
    subprocess.check_call([PY, "-c", "raise SystemExit(5)"])
except subprocess.CalledProcessError as e:
    print("CalledProcessError:", e.returncode, e.cmd[1:])

print("echo:", subprocess.run(["echo", "hello", "world"], capture_output=True).stdout)
print("shell:", subprocess.run("echo $((6 * 7)) | tr 4 x", shell=True, capture_output=True, text=True).stdout)
print("getoutput:", subprocess.getstatusoutput("printf 'one\\ntwo'; exit 2"))

for missing in (["/nonexistent/program"], ["no-such-program-here"]):
    try:
        subprocess.run(missing)
    except FileNotFoundError as e:
        print("FileNotFoundError:", e.strerror, e.filename)

p = subprocess.Popen([PY, "-c", "import time; time.sleep(60)"])
print("poll while running:", p.poll())
p.terminate()
print("terminated:", p.wait())
p = subprocess.Popen(["sleep", "60"])
p.kill()
print("killed:", p.wait(), p.returncode)

p = subprocess.Popen([PY, "-c", "import os; print(os.getpid())"], stdout=subprocess.PIPE)
out, _ = p.communicate()
print("child's pid is Popen.pid:", int(out) == p.pid, p.returncode)

try:
    subprocess.run(["sleep", "60"], timeout=0.5)
except subprocess.TimeoutExpired as e:
    print("TimeoutExpired:", 0 < e.timeout <= 0.5)

with subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as p:
    out, err = p.communicate("through cat\n" * 3, timeout=30)
print("communicate:", repr(out), err, p.returncode)

with ThreadPoolExecutor(3) as pool:
    outs = list(pool.map(lambda i: subprocess.run([PY, "-c", f"print({i} * 7)"], capture_output=True, text=True).stdout, range(3)))
print("from threads:", outs)

r, w = os.pipe()
os.write(w, b"through a pipe")
os.close(w)
print("os.pipe:", os.read(r, 100), os.read(r, 100))
os.close(r)

sys.stdout.flush()
status = subprocess.call([PY, "-c", "print('inherited stdout')"])
print("call:", status)
print('os.popen:', os.popen('echo popen').read(), os.popen('exit 3').close())

print("spawnv:", os.spawnv(os.P_WAIT, PY, [PY, "-c", "raise SystemExit(4)"]))
pid = os.spawnlp(os.P_NOWAIT, "sh", "sh", "-c", "exit 2")
print("spawnlp:", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
os.putenv("PUTENV_PROBE", "from putenv")
print("putenv reaches a child:", os.popen("echo $PUTENV_PROBE").read().strip())

import threading
r, w = os.pipe()
got = []
t = threading.Thread(target=lambda: got.append(os.read(r, 100)))
t.start()
os.write(w, b"to another thread")
t.join()
os.close(r)
os.close(w)
print("a pipe between threads:", got)
p = subprocess.Popen([PY, "-c", "import sys; print(sys.stdin.read().upper())"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
out = []
reader = threading.Thread(target=lambda: out.append(p.stdout.read()))
reader.start()
p.stdin.write(b"written on one thread, read on another\n")
p.stdin.close()
reader.join()
print("a child's stdout read on another thread:", out, p.wait())

p = subprocess.Popen(["true"], stdin=subprocess.PIPE)
p.wait()
try:
    for _ in range(100):
        p.stdin.write(b"x" * 100000)
        p.stdin.flush()
except BrokenPipeError:
    print("a child that exited: BrokenPipeError")
try:
    p.stdin.close()
except BrokenPipeError:
    pass

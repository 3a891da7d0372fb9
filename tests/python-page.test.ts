// The Python page's own cases (tests/browser/python-suite.ts) in Chromium
// and Firefox: start-up (whose time the test prints: docs/PYTHON.md "In a
// page"); a thread's uncaught exception and a stdin read by two threads, each
// page giving the Node run's output and status; the page's files — the
// library read-only at /usr, the rest one tree in the page's memory shared by
// every thread, given and read by the page — also with the page's waits
// relayed as in a browser without Atomics.waitAsync, processes refused; a
// process whose threads spin, killed from the page. tests/python-page-fork.test.ts
// runs the fork build's in-page children.
// tests/python-browser.test.ts runs the threads suite.
import { test } from 'uvu';
import { PAGE_ENV, ensurePythonPage, nodeCases, pythonPageTests } from './lib/python-page.js';
import type { PythonBrowserCase } from './browser/python-suite.js';
import { PAGE_FORK_REFUSAL } from '../vms/python/host/page-build.js';

/** Each browser's run of every case. */
const SUITE_DEADLINE_MS = 150_000;

const UNCAUGHT = `import sys, threading
def boom():
    raise ValueError("from a thread")
t = threading.Thread(target=boom, name="boom")
t.start()
t.join()
print("joined", t.is_alive())
print("to stderr", file=sys.stderr)
sys.exit(3)
`;

/** The page's stdin: one stream for every thread (the prompt of input() goes to stdout, as with a pipe). */
const STDIN = `import sys, threading
name = input("name? ")
print("hello", name)
nums = []
t = threading.Thread(target=lambda: nums.extend(map(int, sys.stdin.readline().split())))
t.start()
t.join()
print(sum(nums), repr(sys.stdin.read()))
try:
    input()
except EOFError:
    print("end of file")
`;


/**
 * The page's files (docs/PYTHON.md "In a page"): the standard library read-only at /usr; the rest in memory, one tree
 * for every thread, given and read by the page; no processes, and the default build's os.fork refused, naming the
 * option of the build that forks (tests/python-page-fork.test.ts runs that one).
 */
const FILES: PythonBrowserCase = {
  name: 'files and processes: the library read-only at /usr, the rest shared by the threads and the page; no subprocess, no fork',
  args: ['-c', `import errno, os, subprocess, sys, tempfile, threading
print(sys.executable, sys.prefix, os.getcwd(), os.environ["HOME"])
print(sorted(os.listdir("/")), "threading.py" in os.listdir(sys.prefix + "/lib/python3.11"))
print(threading.__file__)
with open(threading.__file__) as f:
    print(f.readline().rstrip())
print(open("input.txt").read().strip())
def work():
    with open("from-thread.txt", "w") as f:
        f.write("written by a thread\\n")
t = threading.Thread(target=work)
t.start()
t.join()
print(open("/home/user/from-thread.txt").read().strip())
with tempfile.TemporaryDirectory() as d:
    p = os.path.join(d, "x.bin")
    with open(p, "wb") as f:
        f.write(bytes(range(256)) * 4096)
    print(os.path.getsize(p), open(p, "rb").read()[1000:1003], os.listdir(d))
print(os.path.exists(d))
for path in ("/usr/lib/python3.11/threading.py", "/usr/new.txt"):
    try:
        open(path, "w")
    except OSError as e:
        print(path, type(e).__name__, errno.errorcode[e.errno])
for f in (lambda: os.mkdir("/usr/lib/d"), lambda: os.rename("from-thread.txt", "/usr/moved.txt")):
    try:
        f()
    except OSError as e:
        print(type(e).__name__, errno.errorcode[e.errno])
try:
    subprocess.run([sys.executable, "-c", "pass"])
except OSError as e:
    print("subprocess", type(e).__name__, e)
try:
    os.fork()
except OSError as e:
    print("fork", type(e).__name__, e)
`],
  env: PAGE_ENV,
  files: { '/home/user/input.txt': 'given by the page\n' },
  stdout: [
    '/usr/bin/python3.11 /usr /home/user /home/user',
    "['home', 'tmp', 'usr'] True",
    '/usr/lib/python3.11/threading.py',
    '"""Thread module emulating a subset of Java\'s threading model."""',
    'given by the page',
    'written by a thread',
    "1048576 b'\\xe8\\xe9\\xea' ['x.bin']",
    'False',
    '/usr/lib/python3.11/threading.py OSError EROFS',
    '/usr/new.txt OSError EROFS',
    'OSError EROFS',
    'OSError EXDEV',
    'subprocess OSError [Errno 58] wasi does not support processes.',
    `fork OSError [Errno 58] fork: this build cannot fork with C frames live (no asyncify); ${PAGE_FORK_REFUSAL}`,
    '',
  ].join('\n'),
  stderr: '',
  status: 0,
  wrote: { '/home/user/from-thread.txt': 'written by a thread\n' },
};

/** The page's Stop: threads that never call anything of the layer, ended from the page. */
const KILL: PythonBrowserCase = {
  name: 'kill: the page ends a process whose threads spin, with status 137',
  args: ['-c', `import threading
def spin():
    while True:
        pass
for _ in range(2):
    threading.Thread(target=spin, daemon=True).start()
print("spinning")
spin()
`],
  env: PAGE_ENV,
  stdout: 'spinning\n',
  stderr: '',
  status: 137,
  killAt: 'spinning\n',
};

/** `-c pass`, first in the page (python.wasm fetched and compiled): its time is the page's start-up. */
const STARTUP: PythonBrowserCase = { name: 'start-up: -c pass, first in the page', args: ['-c', 'pass'], stdout: '', stderr: '', status: 0 };

if (!ensurePythonPage()) {
  test('Python pages in browsers (skipped: clang-19 missing outside CI)', () => {});
} else {
  const fromNode = await nodeCases([
    { name: 'a thread\'s uncaught exception, stderr and the exit status', source: UNCAUGHT },
    { name: 'stdin: input() and sys.stdin on two threads read one stream, then end of file', source: STDIN, stdin: 'Ada\n1 2 3\nrest\n' },
  ]);
  const relayed = { ...FILES, name: `${FILES.name}, the page's waits relayed (no Atomics.waitAsync)`, relayWaits: true };
  await pythonPageTests('python page', [STARTUP, ...fromNode, KILL, FILES, relayed], SUITE_DEADLINE_MS);
}
test.run();

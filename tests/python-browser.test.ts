// The Python threads suite (tests/browser/python-suite.ts) in Chromium and
// Firefox, headless, on the cross-origin isolated server: CPython in a page,
// its main thread and every Python thread on module Workers, the standard
// library served read-only at /usr. The thread programs of
// tests/python/threaded/ (locks with timeouts, RLock, Condition, Event,
// Semaphore, Barrier, queue, threading.local, excepthook, a thread pool,
// daemon threads at exit, the switch interval) and a thread's uncaught
// exception run first under Node through the command; each
// page must print the same stdout and stderr and exit with the same status.
// The page's own cases: its files and processes, a process killed from the
// page, and start-up (whose times the test prints: docs/PYTHON.md "In a page").
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import { browserSuiteTests } from './lib/browser-suite.js';
import { ROOT } from './lib/embed-tools.js';
import { PYTHON_PROGRAMS, ensurePythonWasm, runPython } from './lib/python-run.js';
import type { PythonBrowserCase } from './browser/python-suite.js';

/** Both browsers' runs of every case: each case is a few seconds of a loaded machine. */
const SUITE_DEADLINE_MS = 150_000;
/** Unbuffered, as web/python.html runs a script: each print is a write of its own, in the order they happened. */
const ENV = { PYTHONUNBUFFERED: '1' };
/** Where the command finds the standard library, and where a page has it. */
const NODE_STDLIB = path.join(ROOT, 'build', 'python-lib');
const PAGE_STDLIB = '/usr';

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
 * for every thread, given and read by the page; no processes.
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
  env: ENV,
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
    'fork OSError [Errno 52] Function not implemented',
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
  env: ENV,
  stdout: 'spinning\n',
  stderr: '',
  status: 137,
  killAt: 'spinning\n',
};

/** `-c pass`, first in the page (python.wasm fetched and compiled): its time is the page's start-up. */
const STARTUP: PythonBrowserCase = { name: 'start-up: -c pass, first in the page', args: ['-c', 'pass'], stdout: '', stderr: '', status: 0 };

if (!ensurePythonWasm()) {
  test('Python in browsers (skipped: clang-19 missing outside CI)', () => {});
} else {
  // the page's view of the tree (build/python-lib.json), written by build:python; again when the tree is newer
  const index = path.join(ROOT, 'scripts', 'python-lib-index.mjs');
  try {
    execFileSync(process.execPath, [index, '--check'], { stdio: 'ignore' });
  } catch {
    execFileSync(process.execPath, [index], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const threaded = path.join(PYTHON_PROGRAMS, 'threaded');
  const programs = [
    ...fs.readdirSync(threaded).filter((f) => f.endsWith('.py')).sort()
      .map((f) => ({ name: `threaded/${f}`, source: fs.readFileSync(path.join(threaded, f), 'utf8') })),
    { name: 'a thread\'s uncaught exception, stderr and the exit status', source: UNCAUGHT },
    { name: 'stdin: input() and sys.stdin on two threads read one stream, then end of file', source: STDIN, stdin: 'Ada\n1 2 3\nrest\n' },
  ];
  // The Node run's output is what each page must print: bytes as UTF-8, paths into the standard library the page's.
  const utf8 = (s: string) => Buffer.from(s, 'latin1').toString('utf8').split(NODE_STDLIB).join(PAGE_STDLIB);
  const fromNode = await Promise.all(programs.map(async ({ name, source, stdin }: { name: string; source: string; stdin?: string }): Promise<PythonBrowserCase> => {
    const r = await runPython(['-c', source], { env: ENV, timeoutMs: 120_000, stdin });
    return { name, args: ['-c', source], env: ENV, stdin, stdout: utf8(r.stdout), stderr: utf8(r.stderr), status: r.status ?? -1 };
  }));
  const runs = await browserSuiteTests('python', 'tests/browser/python-suite.js', 'runPythonSuite', SUITE_DEADLINE_MS,
    [STARTUP, ...fromNode, KILL, FILES]);
  for (const run of runs) {
    if (typeof run.results === 'string') continue;
    console.log(`${run.version}: ${run.results.map((r) => `${r.name} ${Math.round(r.ms ?? 0)} ms`).join('; ')}`);
  }
}
test.run();

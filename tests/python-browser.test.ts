// The Python threads suite (tests/browser/python-suite.ts) in Chromium and
// Firefox, headless, on the cross-origin isolated server: CPython in a page,
// its main thread and every Python thread on module Workers. The thread
// programs of tests/python/threaded/ (locks with timeouts, RLock, Condition,
// Event, Semaphore, Barrier, queue, threading.local, excepthook, a thread
// pool, daemon threads at exit, the switch interval) run first under Node
// through the command; each page must print the same stdout and stderr and
// exit with the same status. The page's own cases are tests/python-page.test.ts
// (two files: each stays far from run.ts's deadline on a loaded machine).
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import { PYTHON_PROGRAMS } from './lib/python-run.js';
import { ensurePythonPage, nodeCases, pythonPageTests } from './lib/python-page.js';

/** Each browser's run of every case: each case is a few seconds of a loaded machine. */
const SUITE_DEADLINE_MS = 150_000;

if (!ensurePythonPage()) {
  test('Python in browsers (skipped: clang-19 missing outside CI)', () => {});
} else {
  const threaded = path.join(PYTHON_PROGRAMS, 'threaded');
  const cases = await nodeCases(fs.readdirSync(threaded).filter((f) => f.endsWith('.py')).sort()
    .map((f) => ({ name: `threaded/${f}`, source: fs.readFileSync(path.join(threaded, f), 'utf8') })));
  await pythonPageTests('python', cases, SUITE_DEADLINE_MS);
}
test.run();

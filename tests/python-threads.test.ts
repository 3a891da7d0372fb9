// Threads in Python: CPython on the pthread layer (build/python.wasm) runs
// tests/python/threaded/*.py — locks with timeouts, RLock, Condition, Event,
// Semaphore, Barrier, queue, threading.local, excepthook, a thread pool,
// daemon threads at exit, the switch interval, sleeps releasing the GIL — on
// real threads on workers, with the same stdout, stderr and exit status as
// Debian's python3.11.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import { PYTHON_PROGRAMS, ensurePythonWasm, hasNativePython, sameAsNative } from './lib/python-run.js';

const THREADED = path.join(PYTHON_PROGRAMS, 'threaded');

if (!ensurePythonWasm() || !hasNativePython()) {
  test('python threads (skipped: clang-19 or python3.11 missing outside CI)', () => {});
} else {
  for (const p of fs.readdirSync(THREADED).filter((f) => f.endsWith('.py')).sort()) {
    test(`threaded program ${p}`, () => sameAsNative([path.join(THREADED, p)], { timeoutMs: 150_000 }));
  }
}

test.run();

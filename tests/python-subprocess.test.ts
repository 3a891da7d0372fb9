// subprocess under Node (docs/PYTHON.md "Processes"): tests/python/subprocess/*.py
// run under Debian's python3.11 and under wasm-threads-python, byte-identical
// (sys.executable is each side's own command, which starts that Python again).
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import { PYTHON_PROGRAMS, ensurePythonWasm, hasNativePython, sameAsNative } from './lib/python-run.js';

const DIR = path.join(PYTHON_PROGRAMS, 'subprocess');

if (!(ensurePythonWasm() && hasNativePython())) {
  test('python subprocess (skipped: clang-19 or python3.11 missing outside CI)', () => {});
} else {
  for (const p of fs.readdirSync(DIR).filter((f) => f.endsWith('.py')).sort()) {
    test(`program ${p}`, () => sameAsNative([path.join(DIR, p)], { timeoutMs: 120_000 }));
  }
}

test.run();

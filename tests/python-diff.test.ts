// The differential suite, programs: every program in tests/python/ runs under
// Debian's native python3.11 and under the wasm-threads-python command
// (build/python.wasm on the core); stdout, stderr and the exit status must be
// byte-identical. Each run gets a fresh working directory. The command lines
// (options, exit statuses, stdin) are tests/python-cli.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PYTHON_PROGRAMS, ensurePythonWasm, hasNativePython, sameAsNative } from './lib/python-run.js';

const ready = ensurePythonWasm() && hasNativePython();
const programs = fs.readdirSync(PYTHON_PROGRAMS).filter((f) => f.endsWith('.py')).sort();

if (!ready) {
  test('python differential suite (skipped: clang-19 or python3.11 missing outside CI)', () => {});
} else {
  test('there are programs to compare', () => {
    assert.ok(programs.length >= 8, programs.join(' '));
  });
  for (const p of programs) {
    test(`program ${p}`, () => sameAsNative([path.join(PYTHON_PROGRAMS, p), '3', 'x'], { stdin: 'some input\n' }));
  }
}

test.run();

// The differential suite, command lines (the first half; tests/lib/python-cli-cases.ts):
// options, -c, -m, -, exit statuses, tracebacks and stdin under Debian's native
// python3.11 and under the wasm-threads-python command, byte-identical stdout,
// stderr and exit status. Two files, so that each stays well inside a file's deadline.
import { test } from 'uvu';
import { CLI_CASES } from './lib/python-cli-cases.js';
import { ensurePythonWasm, hasNativePython, sameAsNative } from './lib/python-run.js';

const ready = ensurePythonWasm() && hasNativePython();
const half = Math.ceil(CLI_CASES.length / 2);

if (!ready) {
  test('python command lines (skipped: clang-19 or python3.11 missing outside CI)', () => {});
} else {
  for (const [name, args, opts] of CLI_CASES.slice(0, half)) test(`command line: ${name}`, () => sameAsNative(args, opts));
}

test.run();

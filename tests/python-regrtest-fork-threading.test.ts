// CPython's own fork tests of test_threading on the fork-anywhere build (docs/PYTHON.md "fork"), by its own runner
// (tests/lib/python-regrtest.ts): every test whose name says fork runs, none skipped. Most start a fresh interpreter
// through subprocess (assert_python_ok, docs/PYTHON.md "Processes") that forks, from the main thread or another,
// at exit, with threads joining on shutdown.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import { ROOT } from './lib/embed-tools.js';
import { FORK_ANYWHERE } from './lib/python-fork.js';
import { regrtestSuite } from './lib/python-regrtest.js';

if (!fs.existsSync(path.join(ROOT, 'build', 'python-fork-anywhere.wasm'))) {
  test('CPython fork tests (skipped: build/python-fork-anywhere.wasm not built; npm run build:python)', () => {});
  test.run();
} else {
  regrtestSuite(['test_threading'], {}, { env: FORK_ANYWHERE, match: ['*[Ff]ork*'], skips: {} });
}

// CPython's own fork tests on the fork-anywhere build (docs/PYTHON.md "fork"), by its own runner
// (tests/lib/python-regrtest.ts), where test.support.has_fork_support is true: test_fork1 whole, and the tests of
// test_thread and test_os whose names say fork (test_threading's: python-regrtest-fork-threading.test.ts, apart for
// its time: each of its tests starts a fresh interpreter through subprocess).
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT } from './lib/embed-tools.js';
import { FORK_ANYWHERE } from './lib/python-fork.js';
import { regrtestSuite } from './lib/python-regrtest.js';
import { runPython } from './lib/python-run.js';

if (!fs.existsSync(path.join(ROOT, 'build', 'python-fork-anywhere.wasm'))) {
  test('CPython fork tests (skipped: build/python-fork-anywhere.wasm not built; npm run build:python)', () => {});
  test.run();
} else {
  test('test.support.has_fork_support is true on the fork-anywhere build only', async () => {
    const ask = ['-c', 'import test.support; print(test.support.has_fork_support)'];
    const [fork, plain] = await Promise.all([runPython(ask, { env: FORK_ANYWHERE, timeoutMs: 60_000 }), runPython(ask, { timeoutMs: 60_000 })]);
    assert.is(fork.stdout, 'True\n', fork.stderr);
    assert.is(plain.stdout, 'False\n', plain.stderr);
  });
  // test_thread's TestForkInThread: a thread forks, and its child writes to the main thread through an os.pipe()
  // made before the fork
  regrtestSuite(['test_fork1', 'test_thread', 'test_os'], {}, {
    env: FORK_ANYWHERE, match: ['*[Ff]ork*'],
    skips: {},
  });
}

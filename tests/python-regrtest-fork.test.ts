// CPython's own fork tests on the fork-anywhere build (docs/PYTHON.md "fork"), by its own runner
// (tests/lib/python-regrtest.ts), where test.support.has_fork_support is true: test_fork1 whole, and the tests of
// test_thread, test_threading and test_os whose names say fork.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT } from './lib/embed-tools.js';
import { FORK_ANYWHERE } from './lib/python-fork.js';
import { regrtestSuite } from './lib/python-regrtest.js';
import { runPython } from './lib/python-run.js';

// Each starts a fresh interpreter through subprocess (assert_python_ok), which this platform does not have.
const SUBPROCESS = ['test_dummy_thread_after_fork', 'test_fork_at_exit', 'test_main_thread_after_fork',
  'test_main_thread_after_fork_from_nonmain_thread'].map((t) => `test.test_threading.ThreadTests.${t}`);

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
  regrtestSuite(['test_fork1', 'test_thread', 'test_threading', 'test_os'], {
    // Its parent and child talk through os.pipe(), which WASI preview1 does not have (docs/PYTHON.md).
    test_thread: ['test.test_thread.TestForkInThread.test_forkinthread'],
  }, {
    env: FORK_ANYWHERE, match: ['*[Ff]ork*'],
    skips: {
      test_threading: [...SUBPROCESS, 'test.test_threading.ThreadJoinOnShutdown.test_2_join_in_forked_process',
        'test.test_threading.ThreadJoinOnShutdown.test_3_join_in_forked_from_thread'],
      test_os: ['test.test_os.ForkTests.test_fork'], // subprocess too
    },
  });
}

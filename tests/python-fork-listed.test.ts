// The fork build with a list (build/python-fork-listed.wasm, WASM_THREADS_PYTHON_FORK=listed; docs/PYTHON.md
// "fork"): asyncify on the functions of vms/python/fork-frames.txt only. Its forks at every depth of
// tests/python/fork/ give what Debian's python3.11 gives, CPython's own fork tests pass under its runner, and a fork
// under a C function outside the list (functools.reduce's callback) raises OSError naming that function and the build
// that forks there, after which the program goes on and forks again at the top.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT } from './lib/embed-tools.js';
import { FORK_LISTED, forkProgramTests } from './lib/python-fork.js';
import { regrtestSuite } from './lib/python-regrtest.js';
import { runPython } from './lib/python-run.js';

forkProgramTests(['top_level.py', 'depths.py', 'threads.py', 'pipes.py'], 'listed');

if (fs.existsSync(path.join(ROOT, 'build', 'python-fork-listed.wasm'))) {
  test('a fork under a C function outside the list raises OSError naming it and the build that forks there; the program goes on', async () => {
    const script = [
      'import functools, os',
      'def step(a, b):',
      '    try:',
      '        os.fork()',
      '    except OSError as e:',
      '        print("refused", e.errno, "under functools_reduce (wasm-function[" in str(e), "WASM_THREADS_PYTHON_FORK=anywhere" in str(e))',
      '    return a + b',
      'print(functools.reduce(step, [1, 2]))',
      'pid = os.fork()',
      'if pid == 0:',
      '    os._exit(4)',
      'print("then at the top", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))',
    ].join('\n');
    const r = await runPython(['-c', script], { env: FORK_LISTED, timeoutMs: 120_000 });
    assert.is(r.stderr, '');
    assert.is(r.stdout, 'refused 58 True True\n3\nthen at the top 4\n');
    assert.is(r.status, 0);
  });
  regrtestSuite(['test_fork1', 'test_thread', 'test_os'], {}, { env: FORK_LISTED, match: ['*[Ff]ork*'], skips: {} });
}

test.run();

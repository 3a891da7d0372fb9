// os.fork in CPython on the core (docs/PYTHON.md "fork"): the fork build
// (build/python-fork-anywhere.wasm, WASM_THREADS_PYTHON_FORK=anywhere) runs
// tests/python/fork/top_level.py (tests/lib/python-fork.ts;
// python-fork-depths, -hooks, -loop and -threads run the others) with the same
// stdout, stderr and exit status as Debian's python3.11, the children's
// output included. The default build, without the fork step, refuses os.fork
// with an OSError naming the switch, and the parent goes on: its locks
// (libc's, the import lock) were released.
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT } from './lib/embed-tools.js';
import { runPython } from './lib/python-run.js';
import { forkProgramTests } from './lib/python-fork.js';

const built = (f: string) => fs.existsSync(path.join(ROOT, 'build', f));

forkProgramTests(['top_level.py']);

if (built('python.wasm')) {
  test('the default build refuses os.fork with an OSError; the parent goes on', async () => {
    const script = [
      'import os, threading',
      'hooks = []',
      'os.register_at_fork(before=lambda: hooks.append("before"), after_in_parent=lambda: hooks.append("parent"))',
      'try:',
      '    os.fork()',
      'except OSError as e:',
      '    print("refused", type(e).__name__, e.errno, "WASM_THREADS_PYTHON_FORK=anywhere" in str(e))',
      'print("hooks", hooks)',
      'import json, decimal',  // the import lock was released
      'print(json.dumps([str(decimal.Decimal(1) / 3)] * 2))',  // malloc's lock too
      't = threading.Thread(target=lambda: print("thread runs", flush=True)); t.start(); t.join()',
      'print("again", end=" ")',
      'try:',
      '    os.fork()',
      'except OSError as e:',
      '    print(type(e).__name__)',
    ].join('\n');
    const r = await runPython(['-c', script], { env: { WASM_THREADS_PYTHON_FORK: 'default' }, timeoutMs: 120_000 });
    assert.is(r.stderr, '');
    assert.is(r.stdout, [
      'refused OSError 58 True', "hooks ['before', 'parent']", '["0.3333333333333333333333333333", "0.3333333333333333333333333333"]',
      'thread runs', 'again OSError', '',
    ].join('\n'));
    assert.is(r.status, 0);
  });
}

test.run();

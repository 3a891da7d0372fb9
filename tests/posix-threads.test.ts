// The pthread layer (vms/posix, docs/EMBEDDING.md "POSIX threads"): C programs
// (tests/posix/*.c) linked with it and run on workers over the core. Each
// program checks itself and exits non-zero with a FAIL line on a violation;
// these tests assert its status and the steps it reported.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { posixProgram, runPosix } from './lib/posix-run.js';
import { within } from './lib/helpers.js';

const posixTest = (name: string, program: string, ms: number, fn: (wasm: string) => Promise<void>): void => {
  test(name, async () => {
    const wasm = posixProgram(program);
    if (wasm) await within(ms, () => fn(wasm), name);
  });
};

function steps(out: string): string[] {
  return out.split('\n').filter((l) => l.startsWith('ok ')).map((l) => l.slice(3));
}

posixTest('create, join, detach, exit values, attributes, once, keys, per-thread errno, main\'s pthread_exit', 'threads', 120_000, async (wasm) => {
  const r = await runPosix(wasm);
  assert.is(r.status, 0, r.out);
  assert.equal(steps(r.out), ['create-join', 'exit', 'attributes', 'detach', 'self', 'once', 'keys', 'errno']);
  assert.ok(r.out.endsWith('done\n'), r.out);
});

posixTest('mutex kinds and their error codes, condvars on both clocks, rwlocks, semaphores', 'locks', 120_000, async (wasm) => {
  const r = await runPosix(wasm);
  assert.is(r.status, 0, r.out);
  assert.equal(steps(r.out), ['normal', 'errorcheck', 'recursive', 'contention', 'cond-timeout', 'cond-wake', 'rwlock', 'semaphore']);
});

posixTest('malloc storm, stdio lines and files from 4 threads at once', 'libc', 180_000, async (wasm) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posix-libc-'));
  try {
    const r = await runPosix(wasm, [dir]);
    assert.is(r.status, 0, r.out);
    assert.equal(steps(r.out), ['malloc-storm', 'stdio', 'files']);
    // every line whole, each thread's in its own order
    const lines = r.out.split('\n').filter((l) => l.startsWith('line '));
    assert.is(lines.length, 4 * 300);
    const next = [0, 0, 0, 0];
    for (const l of lines) {
      const m = /^line t(\d) n(\d+) abcdefghijklmnopqrstuvwxyz$/.exec(l);
      assert.ok(m, `torn line: ${JSON.stringify(l)}`);
      assert.is(Number(m![2]), next[Number(m![1])]++);
    }
    assert.equal(fs.readdirSync(dir), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

posixTest('a stop-the-world parks threads blocked in a mutex, a condvar, a semaphore and a join', 'stop', 120_000, async (wasm) => {
  const r = await runPosix(wasm);
  assert.is(r.status, 0, r.out);
  assert.equal(steps(r.out), ['blocked', 'stopped', 'resumed']);
});

posixTest('a fork while 3 threads hammer malloc and stdio: each child allocates and prints, the parent goes on', 'fork', 180_000, async (wasm) => {
  const r = await runPosix(wasm);
  assert.is(r.status, 0, r.out.slice(-2000));
  assert.equal(steps(r.out), ['forks', 'joined']);
  // the storm's lines stayed whole across the forks
  for (const l of r.out.split('\n').filter((x) => x.startsWith('storm'))) assert.match(l, /^storm \d \d+$/);
});

test.run();

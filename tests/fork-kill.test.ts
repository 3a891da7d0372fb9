// A parent's kill of its child and its wait for whichever child exits first
// (host/fork/exits.ts, docs/FORK.md "Exit statuses"), through the host API.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime } from '../host/node/index.js';
import { nodePlatform } from '../host/node/platform.js';
import { job, within } from './lib/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'fork-kill-'));
// a child that runs until a file that is never made exists (bounded by the job: 30 s): only a kill ends it sooner
const running = { untilFile: join(dir, 'never'), code: 0 };

/** `fn` on a runtime that forks the test job, its children killed at close whatever `fn` did. */
const onForkRuntime = (what: string, fn: (rt: Runtime) => void) => () =>
  within(120_000, async () => {
    const rt = await Runtime.create(nodePlatform, { capacity: 16, linked: ['diag'], fork: { continuation: job('fork-child'), pool: 0 } });
    try {
      fn(rt);
    } finally {
      await rt.close({ children: 'kill' });
    }
  }, what);

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
};

test('kill ends a running child: SIGTERM reads 143, SIGKILL 137, and the wait status names the signal', onForkRuntime('kill', (rt) => {
  const a = rt.fork({ data: running }).pid;
  rt.main.kill(a, 0);
  rt.main.kill(a, 15);
  assert.is(rt.waitpid(a), 143);
  const b = rt.fork({ data: running }).pid;
  rt.main.kill(b, 9);
  assert.is(rt.waitpid(b, { waitStatus: true }), 9);
  assert.is(codeOf(() => rt.main.kill(b, 15)), 'E_CHILD', 'a reaped child');
}));

test('kill refuses a bad signal or a pid that is no child before sending anything; the child runs on', onForkRuntime('kill refusals', (rt) => {
  const a = rt.fork({ data: running }).pid;
  for (const sig of [1, 2, 64, -1, 1.5, NaN, '15', undefined]) assert.is(codeOf(() => rt.main.kill(a, sig as number)), 'E_ARG', String(sig));
  for (const pid of [0, -1, 1.5, process.pid, a + 100000, Symbol('p')]) assert.is(codeOf(() => rt.main.kill(pid as number, 15)), 'E_CHILD', String(pid));
  assert.is(rt.waitpid(a, { noHang: true }), undefined, 'still running');
  rt.main.kill(a, 9);
  assert.is(rt.waitpid(a), 137);
}));

test('waitAny returns the first child to exit, not the first forked; none left: E_CHILD', onForkRuntime('waitAny', (rt) => {
  assert.is(codeOf(() => rt.main.waitAny()), 'E_CHILD', 'no children yet');
  const first = rt.fork({ data: running }).pid;
  const second = rt.fork({ data: { code: 5 } }).pid;
  assert.equal(rt.main.waitAny(), { pid: second, status: 5 });
  assert.is(rt.main.waitAny({ noHang: true }), undefined, 'the first still runs');
  rt.main.kill(first, 15);
  assert.equal(rt.main.waitAny({ waitStatus: true }), { pid: first, status: 15 });
  assert.is(codeOf(() => rt.main.waitAny()), 'E_CHILD', 'none left');
}));

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();

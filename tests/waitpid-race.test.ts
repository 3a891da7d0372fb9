// POSIX's answer to waiters racing for one child (README, ChildProcessError):
// exactly one waitpid gets the status, every other E_CHILD, and none waits past
// the child's exit — whatever mix of forms (blocking, async, noHang) and threads
// (the main thread, workers) waits. The child runs until the test releases it,
// so every waiter is started while it runs. The protocol is model-checked in
// assembly/model/waitpid.pml.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Runtime } from '../host/node/index.js';
import { ChildProcessError } from '../host/errors.js';
import { createRuntime, job, waitFor, within } from './lib/helpers.js';

const CODE = 6;

type Outcome = { status?: number; code?: string };
/** A waiter: `waiting` resolves once it is inside its wait, `result` with what its waitpid gave. */
type Waiter = (pid: number, ctx: Ctx) => { waiting: Promise<void>; result: Promise<Outcome> };
interface Ctx { rt: Runtime; release: () => void }

const settle = (p: () => Promise<number | undefined> | number | undefined): Promise<Outcome> =>
  Promise.resolve().then(p).then((status) => ({ status }), (e) => {
    assert.instance(e, ChildProcessError, String(e));
    return { code: (e as ChildProcessError).code };
  });

// On the main thread the async form has taken its first step when the call returns.
const mainAsync: Waiter = (pid, { rt }) => {
  const result = rt.waitpidAsync(pid).then((status) => ({ status }), (e) => settle(() => { throw e; }));
  return { waiting: Promise.resolve(), result };
};
const mainNoHang: Waiter = (pid, ctx) => {
  assert.is(ctx.rt.waitpid(pid, { noHang: true }), undefined, 'running: no status yet');
  return mainAsync(pid, ctx);
};
// The blocking form blocks the main thread, so it goes last and releases the
// child itself: the child needs a 5 ms poll and its exit report to end, the
// call a few µs to begin; either order must give the same answer.
const mainBlocking: Waiter = (pid, { rt, release }) => ({
  waiting: Promise.resolve(),
  result: settle(() => {
    release();
    return rt.waitpid(pid);
  }),
});
// A worker waiting with `mode`, seen inside its wait (detached, or a noHang
// poll seen the child running) before the child is released.
const worker = (mode: 'blocking' | 'async' | 'noHang'): Waiter => (pid, { rt }) => {
  const polled = new SharedArrayBuffer(4);
  const w = rt.spawn(job('waitpid-waiter'), { pid, mode, polled });
  const waiting = w.registered().then((h) => waitFor(() => (mode === 'noHang'
    ? Atomics.load(new Int32Array(polled), 0) === 1
    : rt.threadStates().find((t) => t.handle === h)?.state === 'DETACHED'), 10_000, `the ${mode} worker to wait`));
  return { waiting, result: w.join() as Promise<Outcome> };
};

async function race(waiters: Waiter[], isolation: 'process' | 'thread' = 'process'): Promise<void> {
  const rt = await createRuntime({ capacity: 16, fork: { continuation: job('fork-child'), pool: 0, isolation } });
  const dir = mkdtempSync(join(tmpdir(), 'waitpid-race-'));
  const file = join(dir, 'go');
  const release = () => writeFileSync(file, '');
  try {
    const { pid } = await rt.forkAsync({ data: { code: CODE, untilFile: file } });
    const ctx = { rt, release };
    // every waiter but a blocking main one is inside its wait before the child is released
    const started = waiters.filter((w) => w !== mainBlocking).map((w) => w(pid, ctx));
    await Promise.all(started.map((w) => w.waiting));
    assert.equal(rt.runningChildren(), [pid], 'the child still runs');
    const results = started.map((w) => w.result);
    if (waiters.includes(mainBlocking)) results.push(mainBlocking(pid, ctx).result);
    else release();
    const out = await Promise.all(results);
    assert.equal(out.filter((o) => o.status !== undefined), [{ status: CODE }], `exactly one waiter gets the status: ${JSON.stringify(out)}`);
    assert.equal(out.filter((o) => o.status === undefined).map((o) => o.code), Array(waiters.length - 1).fill('E_CHILD'),
      'every other gets E_CHILD');
    assert.throws(() => rt.waitpid(pid), (e: unknown) => (e as ChildProcessError).code === 'E_CHILD', 'reaped: E_CHILD afterwards');
    assert.equal(rt.runningChildren(), []);
  } finally {
    release();
    await rt.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const CASES: [string, Waiter[]][] = [
  ['async/async on the main thread', [mainAsync, mainAsync]],
  ['async/blocking on the main thread', [mainAsync, mainBlocking]],
  ['two blocking workers', [worker('blocking'), worker('blocking')]],
  ['an async and a blocking worker', [worker('async'), worker('blocking')]],
  ['a blocking worker and the main thread async', [worker('blocking'), mainAsync]],
  ['an async worker and the main thread blocking', [worker('async'), mainBlocking]],
  ['noHang mixed in: a polling worker, the main thread async after a noHang poll', [worker('noHang'), mainNoHang]],
  ['noHang mixed in: a polling worker, a blocking worker, the main thread blocking', [worker('noHang'), worker('blocking'), mainBlocking]],
  ['five waiters of every kind', [mainAsync, mainNoHang, worker('blocking'), worker('async'), worker('noHang')]],
];

for (const [name, waiters] of CASES) {
  test(`two waiters on one running child: exactly one status, every other E_CHILD, none waits past the exit (${name})`, () =>
    within(60_000, () => race(waiters)));
}

test('the same with thread isolation (async/async, a blocking worker and the main thread blocking)', () =>
  within(60_000, async () => {
    await race([mainAsync, mainAsync], 'thread');
    await race([worker('blocking'), mainBlocking], 'thread');
  }));

test.run();

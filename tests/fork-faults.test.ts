// fork() under failure: an ack timeout, a dying fork server, a forking thread
// that dies mid-fork, a stop held by another thread, a closed runtime. Every
// path ends promptly with a typed error, the world running, the import lock
// free, the service usable again and no process or worker left behind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Runtime, type RuntimeOptions } from '../host/node/index.js';
import { nodePlatform } from '../host/node/platform.js';
import { ClosedError, ForkRefusedError, WorkerError } from '../host/errors.js';
import type { ForkPhase } from '../host/fork/request.js';
import { DIAG_SCRATCH } from '../host/diag.js';
import { childProcesses, job, progressOf, shutdown, waitFor, within, workerIndexes, expectForkError } from './lib/helpers.js';
import { ForkFaults } from './lib/fork-faults.js';

const CONTINUATION = job('fork-child');
const faults = new ForkFaults();

function forkRuntime(opts: RuntimeOptions = {}, pool = 1): Promise<Runtime> {
  return Runtime.create(faults.platform(nodePlatform), { capacity: 16, linked: ['diag'], ...opts, fork: { continuation: CONTINUATION, pool } });
}

function assertWorldResumed(rt: Runtime, what = ''): void {
  assert.is(rt.core.is_stopped(), 0, `${what}: world resumed`);
  assert.ok(rt.threadStates().every((t) => !t.stopRequested && t.state !== 'SUSPENDED'), `${what}: nobody left suspended`);
  // released, or still held by a thread that is gone: the next acquirer takes it over (robust locks)
  const owner = rt.core.lock_owner(0);
  assert.ok(owner === 0 || !rt.main.isLive(owner), `${what}: import lock released or left by a dead thread (owner ${owner})`);
}

async function healthyFork(rt: Runtime, code: number): Promise<void> {
  const { pid } = rt.fork({ data: { code } });
  assert.is(await rt.waitpidAsync(pid), code);
}

test('an ack timeout shorter than the hand-off: E_ACK_TIMEOUT at once, both forms, world running, the next fork works', () =>
  within(90_000, async () => {
    const base = childProcesses().length;
    const rt = await forkRuntime({ threads: 2, job: job('spin') });
    try {
      await rt.forkPoolReady();
      const idx = workerIndexes(rt);
      // the transfer is held back past the ack deadline: no ack can come in time
      for (const [form, ackTimeoutMs] of [['sync', 1], ['async', 1], ['sync', 50], ['async', 50]] as const) {
        const fork = () => faults.inject('slow-transfer', (o) => (form === 'sync' ? rt.fork(o) : rt.forkAsync(o)), { ackTimeoutMs });
        await expectForkError(fork, 'E_ACK_TIMEOUT', `${form} ${ackTimeoutMs}`);
        assertWorldResumed(rt, `${form} ${ackTimeoutMs}`);
        const p = idx.map((i) => progressOf(rt, i));
        await waitFor(() => idx.every((i, k) => progressOf(rt, i) !== p[k]), 10_000, 'workers to run on');
      }
      await healthyFork(rt, 5);
    } finally {
      await shutdown(rt);
    }
    await waitFor(() => childProcesses().length === base, 10_000, 'no child process left behind');
  }));

test('the fork server dies mid-request (exit, uncaught throw): a typed error at once, and the service comes back', () =>
  within(120_000, async () => {
    const base = childProcesses().length;
    const rt = await forkRuntime({ threads: 2, job: job('spin') });
    try {
      await rt.forkPoolReady();
      for (const [form, fault] of [['sync', 'server-exit'], ['async', 'server-exit'], ['sync', 'server-throw'], ['async', 'server-throw']] as const) {
        await expectForkError(() => faults.inject(fault, (o) => (form === 'sync' ? rt.fork(o) : rt.forkAsync(o))), 'E_SERVER_DIED', `${form} ${fault}`);
        assertWorldResumed(rt, `${form} ${fault}`);
        rt.stopTheWorld({ timeoutMs: 5000 });
        rt.startTheWorld();
        await healthyFork(rt, 9);
      }
    } finally {
      await shutdown(rt);
    }
    await waitFor(() => childProcesses().length === base, 10_000, 'no child process left behind (the dead servers\' pools included)');
  }));

for (const phase of ['locked', 'stopped', 'copied'] as ForkPhase[]) {
  test(`the forking worker dies mid-fork (${phase}): the next stop succeeds, the import lock recovers, the next fork works`, () =>
    within(90_000, async () => {
      const base = childProcesses().length;
      const rt = await forkRuntime({ threads: 2, job: job('spin') });
      try {
        await rt.forkPoolReady();
        const workers = rt.workers.length;
        const w = rt.spawn(job('fork-dier'), { phase });
        await w.join().then(() => assert.unreachable('the worker finished its fork'), (e) => assert.instance(e, WorkerError));
        await waitFor(() => rt.workers.length === workers, 10_000, 'the dead worker to be gone');
        rt.stopTheWorld({ timeoutMs: 5000 });
        rt.startTheWorld();
        assertWorldResumed(rt, phase);
        await healthyFork(rt, 3);
        await rt.forkAsync({ data: { code: 4 } }).then(({ pid }) => rt.waitpidAsync(pid)).then((s) => assert.is(s, 4));
        assert.is(rt.workers.length, workers, 'no worker left behind');
      } finally {
        await shutdown(rt);
      }
      await waitFor(() => childProcesses().length === base, 10_000, 'no child process left behind');
    }));
}

test('another thread holds the stop past the fork\'s deadline: ForkRefusedError (E_AGAIN) while it still holds it', () =>
  within(60_000, async () => {
    const rt = await forkRuntime();
    try {
      const held = DIAG_SCRATCH + 896;
      const release = DIAG_SCRATCH + 900;
      const i32 = new Int32Array(rt.memory.buffer);
      for (const form of ['sync', 'async']) {
        Atomics.store(i32, held >> 2, 0);
        Atomics.store(i32, release >> 2, 0);
        const w = rt.spawn(job('stop-holder'), { held, release });
        await waitFor(() => Atomics.load(i32, held >> 2) === 1, 10_000, 'the other thread to hold the stop');
        let err: unknown;
        try {
          if (form === 'sync') rt.fork({ stopTimeoutMs: 100 });
          else await rt.forkAsync({ stopTimeoutMs: 100 });
        } catch (e) {
          err = e;
        }
        assert.is(rt.core.is_stopped(), 1, `${form}: refused while the other thread still held the stop`);
        assert.instance(err, ForkRefusedError, `${form}: ${String(err)}`);
        assert.is((err as ForkRefusedError).code, 'E_AGAIN');
        Atomics.store(i32, release >> 2, 1);
        await w.join();
        assertWorldResumed(rt, form);
      }
      await healthyFork(rt, 1);
    } finally {
      await shutdown(rt);
    }
  }));

test('every call on a closed runtime throws ClosedError at once', () =>
  within(60_000, async () => {
    const rt = await forkRuntime({}, 0);
    const { pid } = rt.fork({ data: { code: 0 } });
    await rt.close();
    const closed = (e: unknown) => e instanceof ClosedError && (e as ClosedError).code === 'E_CLOSED';
    const sync: [string, () => unknown][] = [
      ['fork', () => rt.fork()],
      ['stopTheWorld', () => rt.stopTheWorld()],
      ['startTheWorld', () => rt.startTheWorld()],
      ['withWorldStopped', () => rt.withWorldStopped(() => 0)],
      ['mutex(0)', () => rt.mutex(0)],
      ['main.mutex(0).lock', () => rt.main.lock(0)],
      ['createLock', () => rt.createLock()],
      ['destroyLock', () => rt.destroyLock(1)],
      ['waitpid', () => rt.waitpid(pid)],
      ['spawn', () => rt.spawn(job('spin'))],
      ['registerAtFork', () => rt.registerAtFork({})],
      ['allowThreads', () => rt.allowThreads(() => 0)],
      ['cache', () => rt.cache(0)],
      ['resetStats', () => rt.resetStats()],
    ];
    for (const [name, call] of sync) assert.throws(call, closed, name);
    const async: [string, () => Promise<unknown>][] = [
      ['forkAsync', () => rt.forkAsync()],
      ['stopTheWorldAsync', () => rt.stopTheWorldAsync()],
      ['waitpidAsync', () => rt.waitpidAsync(pid)],
      ['forkPoolReady', () => rt.forkPoolReady()],
    ];
    for (const [name, call] of async) {
      await call().then(() => assert.unreachable(name), (e) => assert.ok(closed(e), `${name}: ${String(e)}`));
    }
  }));

test.run();

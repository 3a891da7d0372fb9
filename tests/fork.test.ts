// fork(): snapshot, respawn, continue in the child; every failure path resumes
// the world and releases the import lock.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime, createRuntime, type RuntimeOptions } from '../host/node/index.js';
import { nodePlatform } from '../host/node/platform.js';
import { ChildProcessError, ForkError, ForkRefusedError, InvalidArgumentError } from '../host/errors.js';
import type { ForkOptions } from '../host/fork/request.js';
import { DIAG_SCRATCH } from '../host/diag.js';
import { job, progressOf, shutdown, waitFor, within, workerIndexes } from './lib/helpers.js';
import { ForkFaults } from './lib/fork-faults.js';

const CONTINUATION = job('fork-child');
const dir = mkdtempSync(join(tmpdir(), 'fork-test-'));
let reportNo = 0;
const reportPath = () => join(dir, `report-${reportNo++}.json`);
const readReport = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as Record<string, any>;

const faults = new ForkFaults();

function forkRuntime(opts: RuntimeOptions = {}, pool = 1, platform = nodePlatform): Promise<Runtime> {
  return Runtime.create(platform, { capacity: 16, linked: ['diag'], ...opts, fork: { continuation: CONTINUATION, pool } });
}

/** Child processes of this process (the fork server spawns them), but ps itself. */
function children(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out.split('\n').map((l) => l.trim().split(/\s+/)).filter(([p, c]) => Number(p) > 0 && c !== 'ps').map(([p]) => Number(p));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function assertWorldResumed(rt: Runtime): void {
  assert.is(rt.core.is_stopped(), 0, 'world resumed');
  assert.ok(rt.threadStates().every((t) => !t.stopRequested && t.state !== 'SUSPENDED'), 'nobody left suspended');
  assert.is(rt.core.lock_owner(0), 0, 'import lock released');
}

for (const threads of [0, 4]) {
  test(`fork with ${threads} spinning workers: the child sees the fork-point memory, one thread, and can spawn and fork`, () =>
    within(60_000, async () => {
      const rt = await forkRuntime(threads ? { threads, job: job('spin') } : {});
      try {
        const idx = workerIndexes(rt);
        if (threads) await waitFor(() => idx.every((i) => progressOf(rt, i) > 0), 10_000, 'workers to spin');
        const out = reportPath();
        const r = rt.fork({ verify: true, data: { out, code: 0, counters: idx, spawn: true, forkAgain: true } });
        assert.ok(r.pid > 0 && r.pid !== process.pid);
        assert.is(await rt.waitpidAsync(r.pid), 0);
        const rep = readReport(out);
        assert.is(rep.pid, r.pid);
        assert.is(rep.result, 0, 'fork returns 0 in the child');
        assert.is(rep.hookRan, true, 'after-fork-child hook ran');
        assert.is(rep.restoredChecksum, r.memoryChecksum, 'memory exactly as at the fork point');
        assert.equal(rep.threads, [{ handle: rt.handle, state: 'ATTACHED' }], 'only the forking thread');
        assert.is(rep.forkDepth, 1);
        assert.is(rep.stopped, 0);
        assert.is(rep.importLockOwner, 0);
        if (threads) assert.ok(rep.counters.every((c: number) => c > 0), 'workers had run before the fork');
        assert.is(rep.childThreadState, 'SUSPENDED', 'the child started a thread of its own and stopped it');
        assert.is(rep.grandchildStatus, 42, 'the child forked again and reaped its child');
        assertWorldResumed(rt);
        if (threads) {
          const before = idx.map((i) => progressOf(rt, i));
          await waitFor(() => idx.every((i, k) => progressOf(rt, i) !== before[k]), 10_000, 'parent workers to run on');
        }
      } finally {
        await shutdown(rt);
      }
    }));
}

test('exit codes reach waitpid, in both forms; unknown or reaped pids are ECHILD', () =>
  within(60_000, async () => {
    const rt = await forkRuntime();
    try {
      const a = await rt.forkAsync({ data: { code: 7 } });
      const b = rt.fork({ data: { code: 255 } });
      assert.is(await rt.waitpidAsync(a.pid), 7);
      assert.is(rt.waitpid(b.pid), 255);
      await rt.waitpidAsync(a.pid).then(() => assert.unreachable('reaped twice'), (e) => assert.instance(e, ChildProcessError));
      assert.throws(() => rt.waitpid(1), (e: unknown) => e instanceof ChildProcessError && (e as ChildProcessError).code === 'E_CHILD');
      assert.throws(() => rt.waitpid(-3), (e: unknown) => e instanceof ChildProcessError);
    } finally {
      await shutdown(rt);
    }
  }));

test('a lock held by another worker at fork time is free in the child', () =>
  within(60_000, async () => {
    const rt = await forkRuntime();
    try {
      const lock = rt.createLock('mutex');
      const holder = rt.spawn(job('locker'), { op: 'hold', lock });
      const h = await holder.registered();
      await waitFor(() => rt.core.lock_owner(lock) === h, 10_000, 'the worker to hold the lock');
      const out = reportPath();
      const r = rt.fork({ data: { out, lock } });
      assert.is(await rt.waitpidAsync(r.pid), 0);
      assert.is(readReport(out).lockOwner, 0, 'free in the child');
      assert.is(rt.core.lock_owner(lock), h, 'still held in the parent');
    } finally {
      await shutdown(rt);
    }
  }));

test('fork is refused when the stop times out; the world runs on and the import lock is free', () =>
  within(60_000, async () => {
    const rt = await forkRuntime();
    try {
      const straggler = rt.spawn(job('spin'), { noPoll: true });
      const h = await straggler.registered();
      await waitFor(() => progressOf(rt, h & 0xff) > 0, 10_000, 'the straggler to run');
      // the server up and its pool full: nothing is spawned in the background while the children are counted
      await rt.forkPoolReady();
      const before = children().length;
      let err: unknown;
      try {
        rt.fork({ stopTimeoutMs: 100 });
      } catch (e) {
        err = e;
      }
      assert.instance(err, ForkRefusedError);
      assert.is((err as ForkRefusedError).code, 'E_AGAIN');
      assert.equal((err as ForkRefusedError).stragglers, [h]);
      assertWorldResumed(rt);
      assert.is(children().length, before, 'no child was started');
      const p = progressOf(rt, h & 0xff);
      await waitFor(() => progressOf(rt, h & 0xff) !== p, 5000, 'the straggler to run on');
      await rt.forkAsync({ stopTimeoutMs: 100 }).then(() => assert.unreachable(), (e) => assert.instance(e, ForkRefusedError));
      assertWorldResumed(rt);
    } finally {
      await shutdown(rt);
    }
  }));

const FAULTS = [
  ['spawn', 'E_SPAWN'],
  ['die-before-ack', 'E_CHILD_DIED'],
  ['corrupt', 'E_SNAPSHOT'],
  ['truncate', 'E_SNAPSHOT'],
  ['abi', 'E_SNAPSHOT'],
] as const;

test('spawn failure, child death before ack, corrupt/truncated snapshot, ABI mismatch: typed errors, world resumed, nothing leaked', () =>
  within(120_000, async () => {
    const rt = await forkRuntime({ threads: 2, job: job('spin') }, 0, faults.platform(nodePlatform));
    try {
      const idx = workerIndexes(rt);
      let hooks = 0;
      rt.registerAtFork({ before: () => hooks++, afterInParent: () => hooks++ });
      for (const [fault, code] of FAULTS) {
        let err: unknown;
        try {
          faults.inject(fault, (o) => rt.fork(o), { ackTimeoutMs: 20_000 });
        } catch (e) {
          err = e;
        }
        assert.instance(err, ForkError, fault);
        assert.is((err as ForkError).code, code, `${fault}: ${(err as Error).message}`);
        assertWorldResumed(rt);
        await waitFor(() => children().length === 0, 10_000, `${fault}: no child process left`).catch((e) => {
          throw new Error(`${e.message}: ${execFileSync('ps', ['-o', 'pid=,stat=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' })}`);
        });
      }
      assert.is(hooks, 2 * FAULTS.length, 'before and after-in-parent hooks ran on every path');
      const before = idx.map((i) => progressOf(rt, i));
      await waitFor(() => idx.every((i, k) => progressOf(rt, i) !== before[k]), 10_000, 'workers to run on');
      // and a healthy fork still works afterwards
      const r = rt.fork();
      assert.is(await rt.waitpidAsync(r.pid), 0);
    } finally {
      await shutdown(rt);
    }
  }));

test('two threads forking at once are serialised and both succeed', () =>
  within(120_000, async () => {
    const rt = await forkRuntime();
    try {
      const go = DIAG_SCRATCH + 192; // test-owned word in the host scratch
      const w = rt.spawn(job('forker'), { n: 5, go });
      await w.registered();
      Atomics.store(new Int32Array(rt.memory.buffer), go >> 2, 1);
      const mine: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await rt.forkAsync({ data: { code: 20 + i } });
        mine.push(await rt.waitpidAsync(r.pid));
      }
      assert.equal(mine, [20, 21, 22, 23, 24]);
      assert.equal(await w.join(), [10, 11, 12, 13, 14]);
      assertWorldResumed(rt);
    } finally {
      await shutdown(rt);
    }
  }));

test('100 forks in a row with 4 workers: all children reaped and recycled, no hang, no stray process', () =>
  within(240_000, async () => {
    const rt = await forkRuntime({ threads: 4, job: job('spin') });
    const pids: number[] = [];
    try {
      for (let i = 0; i < 100; i++) {
        const r = rt.fork({ data: { code: i % 200 } });
        pids.push(r.pid);
        assert.is(await rt.waitpidAsync(r.pid), i % 200);
      }
      // each child reaped before the next fork: its process carries the next one (a pid again only once reaped)
      assert.ok(rt.forkStats().recycledForks >= 90, `children recycled: ${JSON.stringify(rt.forkStats())}`);
      assertWorldResumed(rt);
    } finally {
      await shutdown(rt);
    }
    await waitFor(() => pids.every((p) => !alive(p)), 10_000, 'every forked child to be gone');
    await waitFor(() => children().length === 0, 10_000, 'pooled children to exit with the runtime');
  }));

test('bad fork options are refused before anything stops; fork without a fork config is a typed error', () =>
  within(60_000, async () => {
    const rt = await forkRuntime({}, 0);
    const plain = await createRuntime({ capacity: 4 });
    try {
      const bad: ForkOptions[] = [
        { data: 'x'.repeat(2000) },
        { stopTimeoutMs: -1 },
        { ackTimeoutMs: 1.5 },
        { data: { self: undefined as unknown, big: 10n } },
      ];
      for (const opts of bad) {
        assert.throws(() => rt.fork(opts), (e: unknown) => e instanceof InvalidArgumentError, JSON.stringify(opts, (_, v) => typeof v === 'bigint' ? String(v) : v));
        assertWorldResumed(rt);
      }
      assert.is(rt.stats().stops, 0, 'nothing was stopped');
      assert.throws(() => plain.fork(), (e: unknown) => e instanceof ForkError && (e as ForkError).code === 'E_FORK');
      await plain.forkAsync().then(() => assert.unreachable(), (e) => assert.instance(e, ForkError));
    } finally {
      await shutdown(rt);
      await plain.close();
    }
  }));

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();

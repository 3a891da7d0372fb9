// The host API suite as it applies to a page, run inside the browser by
// tests/browser.test.ts (Chromium and Firefox). The page's main thread never
// blocks: every call here is an async form, and each blocking form must throw
// UnsupportedError at once.
import { Runtime, createRuntime, pagePlatform } from '../../host/browser/index.js';
import {
  ClosedError, ForkError, ForkRefusedError, StopTimeoutError, UnsupportedError, WorkerError,
} from '../../host/errors.js';
import { DIAG_QUIT as D_QUIT, DIAG_SCRATCH as SCRATCH } from '../../host/diag.js';
import { GEN_MASK, STATE_MASK, ST_ATTACHED, ST_DETACHED, ST_SUSPENDED, slotAddr, userWordAddr } from '../../host/layout.js';
import { forceRelayWaits, waitStrategy } from '../../host/wait.js';
import { assert, equal, rejects, runAll, waitFor, type Result } from './page-helpers.js';
import { ForkFaults } from '../lib/fork-faults.js';

const SPIN = new URL('../../scripts/jobs/spin.js', import.meta.url);
const LOCKER = new URL('../jobs/locker.js', import.meta.url);
const FORK_CHILD = new URL('../jobs/fork-child.js', import.meta.url); // the Node tests' continuation too
const faults = new ForkFaults();

const i32Of = (rt: Runtime) => new Int32Array(rt.memory.buffer);
const progress = (rt: Runtime, index: number) => Atomics.load(i32Of(rt), userWordAddr(index, 0) >> 2) >>> 0;
const others = (rt: Runtime) => rt.threadStates().filter((t) => t.index !== rt.main.index);

async function spinning(n: number, extra: Parameters<typeof createRuntime>[0] = {}, data?: unknown): Promise<Runtime> {
  const rt = await createRuntime({ capacity: 16, linked: ['diag'], threads: n, job: SPIN, jobData: data, ...extra });
  const idx = rt.workers.map((w) => w.handle & 0xff);
  const start = idx.map((i) => progress(rt, i));
  await waitFor(() => idx.every((i, k) => progress(rt, i) !== start[k]), 10_000, 'workers to spin');
  return rt;
}

async function shutdown(rt: Runtime): Promise<void> {
  Atomics.store(i32Of(rt), D_QUIT >> 2, 1);
  await rt.closeAsync(5000);
}

function worldRuns(rt: Runtime): void {
  equal(rt.core.is_stopped(), 0, 'world stopped flag');
  assert(!others(rt).some((t) => t.stopRequested || t.state === 'SUSPENDED'), 'no thread left suspended or asked to stop');
}

const tests: [string, () => Promise<void>][] = [
  ['create: a cross-origin isolated page runs the core', async () => {
    assert(crossOriginIsolated, 'page is cross-origin isolated');
    const rt = await createRuntime({ capacity: 4 });
    try {
      assert(rt.handle > 0, 'main thread registered');
      equal(rt.main.state, 'DETACHED', 'main thread idles detached');
    } finally {
      await rt.closeAsync();
    }
  }],

  ['blocking calls on the main thread throw UnsupportedError naming the async form', async () => {
    const rt = await createRuntime({ capacity: 4 });
    try {
      const lock = rt.createLock();
      const cases: [string, () => unknown, string][] = [
        ['stopTheWorld', () => rt.stopTheWorld(), 'stopTheWorldAsync'],
        ['startTheWorld', () => rt.startTheWorld(), 'startTheWorldAsync'],
        ['withWorldStopped', () => rt.withWorldStopped(() => 0), 'withWorldStoppedAsync'],
        ['lock', () => rt.mutex(lock).lock(), 'lockAsync'],
        ['attach', () => rt.main.attach(), 'attachAsync'],
        ['fork', () => rt.fork(), 'forkAsync'],
        ['waitpid', () => rt.waitpid(1), 'waitpidAsync'],
      ];
      for (const [what, fn, alt] of cases) {
        const e = await rejects(async () => fn(), (x) => x instanceof UnsupportedError, what) as UnsupportedError;
        equal(e.code, 'E_UNSUPPORTED', `${what} code`);
        assert(e.message.includes(alt), `${what}'s message names ${alt}: ${e.message}`);
      }
      worldRuns(rt);
      equal(rt.core.lock_owner(lock), 0, 'lock untouched');
    } finally {
      await rt.closeAsync();
    }
  }],

  ['async stop/start: polling workers freeze and resume', async () => {
    const rt = await spinning(2);
    try {
      const idx = rt.workers.map((w) => w.handle & 0xff);
      for (let round = 0; round < 3; round++) {
        await rt.stopTheWorldAsync({ timeoutMs: 5000 });
        equal(rt.core.is_stopped(), 1, 'stopped');
        assert(others(rt).every((t) => t.state === 'SUSPENDED'), 'every worker suspended');
        const frozen = idx.map((i) => progress(rt, i));
        await new Promise((r) => setTimeout(r, 5));
        equal(idx.map((i) => progress(rt, i)), frozen, 'no progress while stopped');
        await rt.startTheWorldAsync();
        worldRuns(rt);
        await waitFor(() => idx.every((i, k) => progress(rt, i) !== frozen[k]), 10_000, 'workers to move again');
      }
      equal(rt.stats().stops, 3, 'stops counted');
    } finally {
      await shutdown(rt);
    }
  }],

  ['async stop: the deadline names the straggler and the world runs on', async () => {
    const rt = await spinning(1, {}, { noPoll: true });
    try {
      const h = rt.workers[0].handle;
      const e = await rejects(rt.stopTheWorldAsync({ timeoutMs: 100 }), (x) => x instanceof StopTimeoutError, 'stop') as StopTimeoutError;
      equal(e.stragglers, [h], 'stragglers');
      worldRuns(rt);
      equal(rt.stats().timeouts, 1, 'timeout counted');
      equal(rt.main.state, 'DETACHED', 'main detached again');
    } finally {
      await shutdown(rt);
    }
  }],

  ['withWorldStoppedAsync runs fn stopped and restarts after a throw', async () => {
    const rt = await spinning(1);
    try {
      const v = await rt.withWorldStoppedAsync(() => rt.core.is_stopped());
      equal(v, 1, 'fn ran with the world stopped');
      worldRuns(rt);
      await rejects(rt.withWorldStoppedAsync(() => { throw new Error('boom'); }), (x) => x instanceof Error && x.message === 'boom', 'throw');
      worldRuns(rt);
    } finally {
      await shutdown(rt);
    }
  }],

  ['locks: lockAsync waits for a worker holding the lock; workers count exactly under it', async () => {
    const rt = await createRuntime({ capacity: 8 });
    try {
      const lock = rt.createLock();
      const holder = rt.spawn(LOCKER, { op: 'hold', lock });
      await holder.registered();
      await waitFor(() => rt.core.lock_owner(lock) === holder.handle, 10_000, 'the worker to take the lock');
      let got = false;
      const p = rt.main.lockAsync(lock).then(() => { got = true; });
      await new Promise((r) => setTimeout(r, 20));
      assert(!got, 'lockAsync waits while the worker holds the lock');
      Atomics.store(i32Of(rt), D_QUIT >> 2, 1);
      await p;
      equal(rt.core.lock_owner(lock), rt.handle, 'main owns the lock');
      rt.main.unlock(lock);
      await holder.join();
      Atomics.store(i32Of(rt), D_QUIT >> 2, 0);
      const scratch = SCRATCH + 512; // a test-owned scratch word
      const counters = [0, 1, 2].map(() => rt.spawn(LOCKER, { op: 'count', lock, counter: scratch, iters: 2000 }));
      const results = await Promise.all(counters.map((w) => w.join()));
      equal(results, [2000, 2000, 2000], 'every worker finished');
      equal(Atomics.load(i32Of(rt), scratch >> 2), 6000, 'no lost update');
    } finally {
      await rt.closeAsync();
    }
  }],

  ['cache: a written entry hits with its versions and misses otherwise', async () => {
    const rt = await createRuntime({ capacity: 4 });
    try {
      const c = rt.cache(5);
      c.write(7, 9, 1234);
      equal(c.read(7, 9), 1234, 'hit');
      equal(c.read(7, 10), undefined, 'miss on another meta version');
      c.invalidate();
      equal(c.read(7, 9), undefined, 'miss after invalidate');
    } finally {
      await rt.closeAsync();
    }
  }],

  ['spawn/join: results, failures and a worker that ends while registered', async () => {
    const rt = await createRuntime({ capacity: 8 });
    try {
      const lock = rt.createLock();
      const w = rt.spawn(LOCKER, { op: 'wait-once', lock });
      const owner = await w.join();
      equal(owner, w.handle, 'the job returned its own handle as the owner');
      const bad = rt.spawn(new URL('../jobs/does-not-exist.js', import.meta.url));
      await rejects(bad.join(), (x) => x instanceof WorkerError, 'a missing job module');
      const spinner = rt.spawn(SPIN);
      const h = await spinner.registered();
      await spinner.terminate();
      await waitFor(() => !rt.threadStates().some((t) => t.handle === h && t.state !== 'DEAD'), 5000, 'the terminated worker to be marked dead');
      await rt.stopTheWorldAsync({ timeoutMs: 2000 });
      await rt.startTheWorldAsync();
    } finally {
      await rt.closeAsync();
    }
  }],

  ['close: ends workers, later calls throw ClosedError, a second close is a no-op', async () => {
    const rt = await spinning(2);
    const workers = rt.workers;
    await rt.closeAsync(100);
    assert(rt.closed, 'closed');
    assert(workers.every((w) => w.exited), 'every worker gone');
    await rejects(async () => rt.spawn(SPIN), (x) => x instanceof ClosedError, 'spawn after close');
    await rt.closeAsync();
  }],

  ['relay waits (the path of engines without Atomics.waitAsync): async stops, a lock and a deadline', async () => {
    forceRelayWaits(true);
    const rt = await spinning(2);
    try {
      equal(waitStrategy(), 'relay', 'strategy');
      for (let round = 0; round < 20; round++) {
        await rt.stopTheWorldAsync({ timeoutMs: 5000 });
        assert(others(rt).every((t) => t.state === 'SUSPENDED'), 'every worker suspended');
        await rt.startTheWorldAsync();
        worldRuns(rt);
      }
      const lock = rt.createLock();
      const holder = rt.spawn(LOCKER, { op: 'hold', lock });
      await holder.registered();
      await waitFor(() => rt.core.lock_owner(lock) === holder.handle, 10_000, 'the worker to take the lock');
      const p = rt.main.lockAsync(lock);
      await new Promise((r) => setTimeout(r, 10));
      Atomics.store(i32Of(rt), D_QUIT >> 2, 1);
      await p;
      rt.main.unlock(lock);
      await holder.join();
    } finally {
      forceRelayWaits(false);
      await shutdown(rt);
    }
  }],

  ['state machine: many async stops with workers re-attaching keep every slot word exact', async () => {
    const rt = await spinning(3);
    try {
      const handles = rt.workers.map((w) => w.handle);
      const i32 = i32Of(rt);
      const word = (h: number) => Atomics.load(i32, slotAddr(h & 0xff) >> 2) >>> 0;
      for (let round = 0; round < 150; round++) {
        await rt.stopTheWorldAsync({ timeoutMs: 5000 });
        for (const h of handles) equal(word(h), (h & GEN_MASK) | ST_SUSPENDED, `round ${round}: suspended word`);
        const frozen = handles.map((h) => progress(rt, h & 0xff));
        await rt.startTheWorldAsync();
        // each worker has woken, re-attached through its CAS and polled again
        await waitFor(() => handles.every((h, k) => progress(rt, h & 0xff) - frozen[k] > 1), 10_000, `round ${round}: wake-ups`);
        for (const h of handles) {
          const w = word(h);
          assert((w & GEN_MASK) === (h & GEN_MASK), `round ${round}: generation kept`);
          const st = w & STATE_MASK;
          assert(st === ST_ATTACHED || st === ST_DETACHED, `round ${round}: state ${st}`);
        }
      }
      Atomics.store(i32, D_QUIT >> 2, 1);
      const results = await Promise.all(rt.workers.map((w) => w.join()));
      equal(results, handles.map(() => 0), 'no worker saw an error from poll');
    } finally {
      await shutdown(rt);
    }
  }],
];

export const forkTests: [string, () => Promise<void>][] = [
  ['fork: the child checks its copy and exits with its status; waitpid reaps it', async () => {
    const rt = await spinning(2, { fork: { continuation: FORK_CHILD, pool: 1 } });
    try {
      const counters = rt.workers.map((w) => w.handle & 0xff);
      const lock = rt.createLock();
      const { pid } = await rt.forkAsync({ data: { code: 7, lock, counters } });
      assert(pid > 0, 'pid');
      worldRuns(rt);
      equal(rt.core.lock_owner(0), 0, 'import lock released');
      equal(await rt.waitpidAsync(pid), 7, 'exit status: every check in the child held');
      await rejects(rt.waitpidAsync(pid), (x) => (x as { code?: string }).code === 'E_CHILD', 'a reaped pid');
    } finally {
      await shutdown(rt);
    }
  }],

  ['fork: a child spawns a thread, stops it (blocking, as a worker may) and forks again', async () => {
    // the child's thread runs the spin job, which is diag.wasm's
    const rt = await createRuntime({ capacity: 8, linked: ['diag'], fork: { continuation: FORK_CHILD, pool: 1 } });
    try {
      const { pid } = await rt.forkAsync({ data: { code: 0, spawn: true, forkAgain: true } });
      equal(await rt.waitpidAsync(pid), 0, 'child status (grandchild exited 42, thread stopped; 100 + n: step n of tests/jobs/fork-child.ts passed its deadline)');
    } finally {
      await rt.closeAsync();
    }
  }],

  ['fork: refused with E_AGAIN when the world cannot stop; the world runs on', async () => {
    const rt = await spinning(1, { fork: { continuation: FORK_CHILD, pool: 0 } }, { noPoll: true });
    try {
      const e = await rejects(rt.forkAsync({ stopTimeoutMs: 100 }), (x) => x instanceof ForkRefusedError, 'fork') as ForkRefusedError;
      equal(e.code, 'E_AGAIN', 'code');
      worldRuns(rt);
      equal(rt.core.lock_owner(0), 0, 'import lock released');
    } finally {
      await shutdown(rt);
    }
  }],

  ['fork: a child that dies before its ack is a typed failure with the world resumed', async () => {
    const rt = await Runtime.create(faults.platform(pagePlatform), { capacity: 8, fork: { continuation: FORK_CHILD, pool: 1 } });
    try {
      for (const [fault, code] of [['die-before-ack', 'E_CHILD_DIED'], ['spawn', 'E_SPAWN'], ['abi', 'E_SNAPSHOT']] as const) {
        const e = await rejects(faults.inject(fault, (o) => rt.forkAsync(o)), (x) => x instanceof ForkError, fault) as ForkError;
        equal(e.code, code, `${fault}: code`);
        worldRuns(rt);
        equal(rt.core.lock_owner(0), 0, `${fault}: import lock released`);
      }
      const { pid } = await rt.forkAsync({ data: { code: 3 } });
      equal(await rt.waitpidAsync(pid), 3, 'a later fork works');
    } finally {
      await rt.closeAsync();
    }
  }],

  ['fork: cold forks are counted (pool 0: every fork is cold); every failure code as under Node', async () => {
    const rt = await Runtime.create(faults.platform(pagePlatform), { capacity: 8, fork: { continuation: FORK_CHILD, pool: 0 } });
    try {
      for (let i = 0; i < 2; i++) {
        const { pid, timings } = await rt.forkAsync({ data: { code: i } });
        assert(timings.cold, 'pool 0: a child spawned for the fork');
        equal(await rt.waitpidAsync(pid), i, 'status');
      }
      equal(rt.forkStats().coldForks, 2, 'forkStats().coldForks');
      for (const [fault, code] of [['corrupt', 'E_SNAPSHOT'], ['slow-transfer', 'E_ACK_TIMEOUT']] as const) {
        const fork = faults.inject(fault, (o) => rt.forkAsync(o), { ackTimeoutMs: fault === 'slow-transfer' ? 50 : 10_000 });
        const e = await rejects(fork, (x) => x instanceof ForkError, fault) as ForkError;
        equal(e.code, code, `${fault}: code`);
        equal(rt.runningChildren(), [], `${fault}: no pid handed out`);
      }
    } finally {
      await rt.closeAsync();
    }
  }],

  ['fork: closing the runtime with children: kill ends a running child group', async () => {
    const rt = await createRuntime({ capacity: 8, fork: { continuation: FORK_CHILD, pool: 1 } });
    const { pid } = await rt.forkAsync({ data: { code: 0, hang: true } });
    assert(pid > 0, 'pid');
    equal(rt.runningChildren(), [pid], 'the child runs');
    // waiting from before the close: the kill is what ends this wait
    const status = rt.waitpidAsync(pid);
    await rt.closeAsync({ graceMs: 200, children: 'kill' });
    assert(rt.closed, 'closed with a child still running');
    const s = await status;
    assert(s !== 0, `the running child was killed and reaped (status ${s})`);
    await rejects(async () => rt.runningChildren(), (x) => x instanceof ClosedError, 'a closed runtime refuses runningChildren');
  }],
];

/** Runs the suite (with or without the fork tests); never throws. */
export async function runSuite(opts: { fork?: boolean; only?: string } = {}): Promise<Result[]> {
  const all = opts.fork === false ? tests : [...tests, ...forkTests];
  return runAll(all.filter(([name]) => !opts.only || name.includes(opts.only)), 30_000);
}

// Death at every protocol point: a worker is terminated while it is at one
// point of the slot, stop, lock or seqlock protocol. For each: nothing hangs
// (every wait has a deadline), the next stop succeeds within its deadline,
// locks pass on with E_OWNER_DEAD, counters show nothing was lost, and no
// worker is left behind. (Deaths inside a fork are tested with fork.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRuntime as createNodeRuntime, type Runtime, type RuntimeOptions } from '../host/node/index.js';
import { TESTING_WASM } from './lib/testing-build.js';
import { ERRNO as E, LockOwnerDeadError } from '../host/errors.js';
import { LOCK_WAITERS, RECORDS, RECORD_SIZE, REC_WRITER, W_EXCLUSION, userWordAddr } from '../host/layout.js';
import { DIAG_SCRATCH } from '../host/diag.js';
import { job, progressOf, shutdown, spinningRuntime, waitFor, within } from './lib/helpers.js';

// Every runtime here runs the testing build: its hooks stop a worker inside a core call.
const createRuntime = (o: RuntimeOptions): Promise<Runtime> => createNodeRuntime({ wasm: TESTING_WASM, linked: ['diag'], ...o });
const RELEASE = DIAG_SCRATCH + 512; // never set: the held workers stay where they are
const COUNTER = DIAG_SCRATCH + 576;
const POLL_FLAG = DIAG_SCRATCH + 640;

const victimJob = new URL('./jobs/victim.js', import.meta.url);
const stateOf = (rt: Runtime, h: number) => rt.threadStates().find((t) => t.handle === h)?.state;
const mark = (rt: Runtime, h: number) => Atomics.load(new Int32Array(rt.memory.buffer), userWordAddr(h & 0xff, 1) >> 2);

async function kill(rt: Runtime, h: number): Promise<void> {
  const w = rt.workers.find((x) => x.handle === h);
  assert.ok(w, `worker ${h} runs`);
  await w.terminate();
  await waitFor(() => stateOf(rt, h) === 'DEAD', 5000, `slot ${h & 0xff} marked DEAD`);
  assert.not.ok(rt.workers.includes(w), 'the dead worker is no longer counted');
}

// The next stop succeeds within its deadline and stops every live thread; the
// stats count it.
function nextStopSucceeds(rt: Runtime): void {
  const before = rt.stats().stops;
  rt.stopTheWorld({ timeoutMs: 5000 });
  const others = rt.threadStates().filter((t) => t.index !== rt.main.index);
  assert.ok(others.every((t) => t.state === 'SUSPENDED' || t.state === 'DEAD'), JSON.stringify(others));
  rt.startTheWorld();
  assert.is(rt.stats().stops, before + 1, 'the stop was counted');
}

async function survivorsRun(rt: Runtime, handles: number[]): Promise<void> {
  const before = handles.map((h) => progressOf(rt, h & 0xff));
  await waitFor(() => handles.every((h, k) => progressOf(rt, h & 0xff) !== before[k]), 10_000, 'the survivors to run');
}

async function closeLeavesNoWorker(rt: Runtime): Promise<void> {
  const ws = rt.workers;
  await shutdown(rt);
  assert.ok(ws.every((w) => w.exited), 'every worker exited');
  assert.is(rt.workers.length, 0);
}

test('ATTACHED and spinning', () =>
  within(30_000, async () => {
    const rt = await spinningRuntime(3, { wasm: TESTING_WASM });
    try {
      const [victim, ...rest] = rt.workers.map((w) => w.handle);
      await kill(rt, victim);
      nextStopSucceeds(rt);
      await survivorsRun(rt, rest);
      assert.is(rt.stats().timeouts, 0);
    } finally {
      await closeLeavesNoWorker(rt);
    }
  }));

test('SUSPENDED (asleep in attach while the world is stopped)', () =>
  within(30_000, async () => {
    const rt = await spinningRuntime(3, { wasm: TESTING_WASM });
    try {
      const [victim, ...rest] = rt.workers.map((w) => w.handle);
      rt.stopTheWorld({ timeoutMs: 5000 });
      assert.is(stateOf(rt, victim), 'SUSPENDED');
      await kill(rt, victim);
      assert.is(rt.core.is_stopped(), 1, 'the world stays stopped for its requester');
      rt.startTheWorld();
      nextStopSucceeds(rt);
      await survivorsRun(rt, rest);
      assert.is(rt.stats().stops, 2);
    } finally {
      await closeLeavesNoWorker(rt);
    }
  }));

test('DETACHED, and DETACHED parked by a stop', () =>
  within(30_000, async () => {
    const rt = await createRuntime({ capacity: 8, threads: 3, job: job('blocker'), jobData: { addr: RELEASE } });
    try {
      const [a, b, c] = rt.workers.map((w) => w.handle);
      await waitFor(() => [a, b, c].every((h) => stateOf(rt, h) === 'DETACHED'), 10_000, 'workers to block detached');
      await kill(rt, a);
      rt.stopTheWorld({ timeoutMs: 5000 });
      assert.is(stateOf(rt, b), 'SUSPENDED', 'parked');
      await kill(rt, b);
      rt.startTheWorld();
      nextStopSucceeds(rt);
      assert.is(rt.stats().forcedParks, 3, 'c parked twice, b once; the dead never');
      const i32 = new Int32Array(rt.memory.buffer);
      Atomics.store(i32, RELEASE >> 2, 1);
      Atomics.notify(i32, RELEASE >> 2);
      const survivor = rt.workers.find((w) => w.handle === c)!;
      assert.ok((await survivor.join()) as number <= 1, 'the survivor was not woken by the deaths');
      Atomics.store(i32, RELEASE >> 2, 0);
    } finally {
      await closeLeavesNoWorker(rt);
    }
  }));

test('REGISTERING, with a stop waiting for the slot to settle', () =>
  within(30_000, async () => {
    const rt = await spinningRuntime(1, { wasm: TESTING_WASM });
    try {
      const reg = rt.spawn(victimJob, { op: 'register-hold', release: RELEASE });
      const h = await reg.registered();
      const held = () => rt.threadStates().find((t) => t.threadId === reg.threadId && t.handle !== h);
      await waitFor(() => held()?.state === 'REGISTERING', 10_000, 'a slot held REGISTERING');
      const slot = held()!.handle;
      // the stop counts the REGISTERING slot as pending; the death settles it
      const stop = rt.stopTheWorldAsync({ timeoutMs: 20_000 });
      await waitFor(() => rt.core.is_stopped() === 0 && rt.threadStates().some((t) => t.state === 'SUSPENDED'), 10_000, 'the stop to wait');
      await reg.terminate();
      await stop;
      assert.is(stateOf(rt, slot), 'DEAD');
      assert.is(stateOf(rt, h), 'DEAD');
      rt.startTheWorld();
      nextStopSucceeds(rt);
      await survivorsRun(rt, [rt.workers[0].handle]);
      assert.is(rt.stats().timeouts, 0);
    } finally {
      await closeLeavesNoWorker(rt);
    }
  }));

test('REGISTERING across a start: the start does not wait forever; a registrant settling late resumes itself', () =>
  within(60_000, async () => {
    const rt = await spinningRuntime(1, { wasm: TESTING_WASM });
    const i32 = new Int32Array(rt.memory.buffer);
    const release = RELEASE + 4;
    const go = RELEASE + 8;
    try {
      for (const live of [true, false]) {
        Atomics.store(i32, release >> 2, 0);
        Atomics.store(i32, go >> 2, 0);
        const reg = rt.spawn(victimJob, { op: 'register-attach', release, go });
        const h = await reg.registered();
        await waitFor(() => mark(rt, h) === 1, 10_000, 'the registrant to wait detached');
        rt.stopTheWorld({ timeoutMs: 5000 });
        // registers during the stop: reads the request, then is held REGISTERING
        Atomics.store(i32, go >> 2, 1);
        Atomics.notify(i32, go >> 2);
        const held = () => rt.threadStates().find((t) => t.threadId === reg.threadId && t.handle !== h);
        await waitFor(() => held()?.state === 'REGISTERING', 10_000, 'a slot held REGISTERING');
        const slot = held()!.handle;
        const dying = live ? undefined : reg.terminate(); // its exit cannot be seen while the start blocks
        rt.startTheWorld(); // returns: a REGISTERING slot is waited for a bounded time only
        assert.is(rt.core.is_stopped(), 0);
        if (live) {
          Atomics.store(i32, release >> 2, 1);
          Atomics.notify(i32, release >> 2);
          assert.is(await reg.join(), 0, 'settled SUSPENDED after the restore, then attached by resuming itself');
        } else {
          await dying;
          await waitFor(() => stateOf(rt, slot) === 'DEAD', 5000, 'the held slot marked DEAD');
        }
        nextStopSucceeds(rt);
        await survivorsRun(rt, [rt.workers[0].handle]);
      }
      assert.is(rt.stats().timeouts, 0);
    } finally {
      await closeLeavesNoWorker(rt);
    }
  }));

test('the stop requester, before the world is stopped and after', () =>
  within(60_000, async () => {
    const i32Of = (rt: Runtime) => new Int32Array(rt.memory.buffer);
    // a thread that does not poll keeps the first requester waiting
    const rt = await createRuntime({ capacity: 8, threads: 2, job: job('js-spin'), jobData: { pollFlag: POLL_FLAG } });
    try {
      const spinners = rt.workers.map((w) => w.handle);
      await waitFor(() => spinners.every((h) => progressOf(rt, h & 0xff) > 0), 10_000, 'spinners');
      const before = rt.spawn(victimJob, { op: 'requester', timeoutMs: 60_000 });
      const hb = await before.registered();
      await waitFor(() => mark(rt, hb) === 1 && Atomics.load(i32Of(rt), W_EXCLUSION >> 2) === hb, 10_000, 'the requester mid-stop');
      assert.is(rt.core.is_stopped(), 0);
      await kill(rt, hb);
      assert.is(Atomics.load(i32Of(rt), W_EXCLUSION >> 2), 0, 'the stop was released by the death');
      assert.ok(rt.threadStates().every((t) => !t.stopRequested && t.state !== 'SUSPENDED'), 'world restored');
      Atomics.store(i32Of(rt), POLL_FLAG >> 2, 1);
      nextStopSucceeds(rt);
      const after = rt.spawn(victimJob, { op: 'requester', timeoutMs: 10_000 });
      const ha = await after.registered();
      await waitFor(() => mark(rt, ha) === 2, 10_000, 'the requester to hold a stopped world');
      const frozen = spinners.map((h) => progressOf(rt, h & 0xff));
      assert.equal(spinners.map((h) => progressOf(rt, h & 0xff)), frozen);
      await kill(rt, ha);
      assert.is(rt.core.is_stopped(), 0, 'the dead requester\'s world was started');
      await survivorsRun(rt, spinners);
      nextStopSucceeds(rt);
      assert.is(rt.stats().stops, 3, 'main twice, the second requester once');
      assert.is(rt.stats().timeouts, 2, 'each dead requester\'s stop counts as abandoned');
    } finally {
      await closeLeavesNoWorker(rt);
    }
  }));

test('waiting for a lock; holding a lock: waiters wake and take over, the counter is exact', () =>
  within(60_000, async () => {
    const rt = await createRuntime({ capacity: 8 });
    try {
      const i32 = new Int32Array(rt.memory.buffer);
      const m = rt.mutex(rt.createLock('mutex'));
      m.lock();
      // two waiters asleep on the word; one dies waiting, the other gets the lock on release
      const w1 = rt.spawn(victimJob, { op: 'lock-hold', lock: m.id, counter: COUNTER });
      const w2 = rt.spawn(victimJob, { op: 'lock-hold', lock: m.id, counter: COUNTER });
      const [h1, h2] = await Promise.all([w1.registered(), w2.registered()]);
      await waitFor(() => [h1, h2].every((h) => stateOf(rt, h) === 'DETACHED') &&
        (Atomics.load(i32, rt.core.lock_addr(m.id) >> 2) & LOCK_WAITERS) !== 0, 10_000, 'both to sleep on the lock');
      await kill(rt, h1);
      nextStopSucceeds(rt);
      m.unlock();
      await waitFor(() => m.owner === h2 && mark(rt, h2) === 1, 10_000, 'the live waiter to get the lock');
      assert.is(Atomics.load(i32, COUNTER >> 2), 1, 'only the live waiter entered');
      // now the holder dies; a sleeping waiter takes over with E_OWNER_DEAD
      const w3 = rt.spawn(victimJob, { op: 'lock-hold', lock: m.id, counter: COUNTER });
      const h3 = await w3.registered();
      await waitFor(() => stateOf(rt, h3) === 'DETACHED', 10_000, 'the third to wait');
      await kill(rt, h2);
      await waitFor(() => m.owner === h3 && mark(rt, h3) === 1, 10_000, 'the waiter to take the lock over');
      assert.is(Atomics.load(i32, COUNTER >> 2), 2);
      nextStopSucceeds(rt);
      await kill(rt, h3);
      assert.throws(() => m.lock({ timeoutMs: 5000 }), (e: unknown) => e instanceof LockOwnerDeadError);
      m.consistent();
      m.unlock();
      assert.is(m.owner, 0);
    } finally {
      await closeLeavesNoWorker(rt);
    }
  }));

test('holding the import lock: the next fork recovers it', () =>
  within(90_000, async () => {
    const rt = await createRuntime({ capacity: 8, fork: { continuation: new URL('./jobs/fork-child.js', import.meta.url), pool: 0 } });
    try {
      const w = rt.spawn(victimJob, { op: 'lock-hold', lock: 0, counter: COUNTER });
      const h = await w.registered();
      await waitFor(() => rt.core.lock_owner(0) === h, 10_000, 'the worker to hold the import lock');
      await kill(rt, h);
      const { pid } = await rt.forkAsync({ data: { code: 7 } });
      assert.is(await rt.waitpid(pid), 7, 'the fork went through');
      assert.is(rt.core.lock_owner(0), 0, 'released after the fork');
      rt.main.attach();
      assert.is(rt.core.lock_acquire(rt.handle, 0, 0), 0, 'consistent: an ordinary lock again');
      rt.main.unlock(0);
      rt.main.detach();
      nextStopSucceeds(rt);
    } finally {
      await closeLeavesNoWorker(rt);
    }
  }));

test('in the middle of a seqlock write', () =>
  within(30_000, async () => {
    const rt = await spinningRuntime(1, { wasm: TESTING_WASM });
    try {
      const i32 = new Int32Array(rt.memory.buffer);
      const rec = 6;
      const seq = RECORDS + rec * RECORD_SIZE;
      const w = rt.spawn(job('diag'), { op: 'record-hold', rec, value: 5, release: RELEASE });
      const h = await w.registered();
      await waitFor(() => (Atomics.load(i32, seq >> 2) & 1) === 1, 10_000, 'the write to open');
      assert.is(Atomics.load(i32, (seq + REC_WRITER) >> 2), h);
      await kill(rt, h);
      nextStopSucceeds(rt);
      assert.is(rt.core.record_fill(rt.handle, rec, 1, 4), E.E_BUSY, 'the dead writer\'s record is refused, not waited on');
      assert.is(rt.core.cache_write(rt.handle, 9, 1, 1, 1), 0, 'other entries unaffected');
      await survivorsRun(rt, [rt.workers[0].handle]);
    } finally {
      await closeLeavesNoWorker(rt);
    }
  }));

test.run();

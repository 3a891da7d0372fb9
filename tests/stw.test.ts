// Stop-the-world across real worker threads.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StopTimeoutError } from '../host/errors.js';
import { userWordAddr } from '../host/layout.js';
import { DIAG_SCRATCH } from '../host/diag.js';
import { createRuntime, job, progressOf, shutdown, spinningRuntime, waitFor, within, workerIndexes } from './lib/helpers.js';

const WORD_A = DIAG_SCRATCH + 0; // test-owned words in the host scratch
const WORD_B = DIAG_SCRATCH + 64;

// Watches the counters for `ms` of wall time; any movement is a failure.
async function assertFrozen(read: () => number[], ms: number): Promise<void> {
  const before = read();
  const end = performance.now() + ms;
  while (performance.now() < end) {
    assert.equal(read(), before, 'a stopped worker made progress');
    await new Promise((r) => setTimeout(r, 1));
  }
}

for (const n of [1, 2, 8]) {
  test(`${n} spinning worker(s): frozen between stop and start, all move again after`, () =>
    within(30_000, async () => {
      const rt = await spinningRuntime(n);
      try {
        const idx = workerIndexes(rt);
        const read = () => idx.map((i) => progressOf(rt, i));
        for (let round = 0; round < 3; round++) {
          rt.stopTheWorld({ timeoutMs: 5000 });
          assert.ok(rt.threadStates().filter((t) => t.index !== rt.main.index).every((t) => t.state === 'SUSPENDED'));
          await assertFrozen(read, 20);
          const frozen = read();
          rt.startTheWorld();
          await waitFor(() => read().every((p, k) => p !== frozen[k]), 10_000, 'every worker to move again');
        }
        assert.is(rt.stats().stops, 3);
        assert.is(rt.stats().timeouts, 0);
      } finally {
        await shutdown(rt);
      }
    }));
}

test('workers blocked inside allowThreads are parked without being woken', () =>
  within(30_000, async () => {
    const i32Of = (rt: { memory: WebAssembly.Memory }) => new Int32Array(rt.memory.buffer);
    const rt = await createRuntime({ capacity: 8, threads: 2, job: job('blocker'), jobData: { addr: WORD_A } });
    const workers = rt.workers;
    try {
      const i32 = i32Of(rt);
      const idx = workerIndexes(rt);
      // DETACHED alone also reads true for a worker that registered and has yet to attach for its job
      await waitFor(() => idx.every((i) => Atomics.load(i32, userWordAddr(i, 3) >> 2) === 1)
        && rt.threadStates().filter((t) => idx.includes(t.index)).every((t) => t.state === 'DETACHED'),
        10_000, 'workers to block detached inside allowThreads');
      rt.stopTheWorld({ timeoutMs: 1000 });
      const states = rt.threadStates().filter((t) => idx.includes(t.index)).map((t) => t.state);
      assert.equal(states, ['SUSPENDED', 'SUSPENDED']);
      assert.is(rt.stats().forcedParks, 2);
      assert.is(rt.stats().selfSuspends, 0);
      rt.startTheWorld();
      assert.equal(idx.map((i) => Atomics.load(i32, userWordAddr(i, 2) >> 2)), [0, 0], 'no spurious wake-ups');
      Atomics.store(i32, WORD_A >> 2, 1);
      Atomics.notify(i32, WORD_A >> 2);
      const results = (await Promise.all(workers.map((w) => w.join()))) as number[];
      assert.ok(results.every((wakes) => wakes <= 1), 'only the test woke them');
    } finally {
      await shutdown(rt);
    }
  }));

test('a straggler that never polls: stop times out naming it, the world runs on, a later stop succeeds', () =>
  within(30_000, async () => {
    const rt = await createRuntime({ capacity: 8, threads: 2, job: job('js-spin'), jobData: { pollFlag: WORD_B } });
    try {
      const i32 = new Int32Array(rt.memory.buffer);
      Atomics.store(i32, WORD_B >> 2, 1);
      const idx = workerIndexes(rt);
      await waitFor(() => idx.every((i) => progressOf(rt, i) > 0), 10_000, 'workers to spin');
      Atomics.store(i32, WORD_B >> 2, 0); // nobody polls any more
      // two more iterations each: any poll that read the old flag has finished
      const seen = idx.map((i) => progressOf(rt, i));
      await waitFor(() => idx.every((i, k) => progressOf(rt, i) - seen[k] >= 2), 10_000, 'workers to stop polling');
      let err: unknown;
      try {
        rt.stopTheWorld({ timeoutMs: 100 });
      } catch (e) {
        err = e;
      }
      assert.instance(err, StopTimeoutError, String(err));
      const stragglers = (err as StopTimeoutError).stragglers.map((h) => h & 0xff).sort();
      assert.equal(stragglers, [...idx].sort());
      assert.match((err as Error).message, /did not reach a safe point/);
      assert.is(rt.stats().timeouts, 1);
      assert.ok(rt.threadStates().every((t) => !t.stopRequested && t.state !== 'SUSPENDED'), 'world restored');
      const before = idx.map((i) => progressOf(rt, i));
      await waitFor(() => idx.every((i, k) => progressOf(rt, i) !== before[k]), 10_000, 'stragglers to run on');
      Atomics.store(i32, WORD_B >> 2, 1);
      rt.stopTheWorld({ timeoutMs: 5000 });
      rt.startTheWorld();
      assert.is(rt.stats().stops, 1);
    } finally {
      await shutdown(rt);
    }
  }));

test('two requesters at once (main and a worker) are serialised without deadlock', () =>
  within(60_000, async () => {
    const rt = await createRuntime({ capacity: 8 });
    const data = { stops: 200, timeoutMs: 10_000, goFlag: WORD_A };
    const workers = [rt.spawn(job('js-spin'), data), rt.spawn(job('js-spin'), data)];
    try {
      await Promise.all(workers.map((w) => w.registered()));
      const i32 = new Int32Array(rt.memory.buffer);
      Atomics.store(i32, WORD_A >> 2, 1);
      for (let k = 0; k < 200; k++) {
        rt.stopTheWorld({ timeoutMs: 10_000 });
        rt.startTheWorld();
        await new Promise((r) => setImmediate(r));
      }
      const results = await Promise.all(workers.map((w) => w.join()));
      assert.equal(results, [200, 200]);
      const s = rt.stats();
      assert.is(s.stops, 600);
      assert.is(s.timeouts, 0);
    } finally {
      await shutdown(rt);
    }
  }));

test('a thread registering during a stop starts SUSPENDED and runs after start', () =>
  within(30_000, async () => {
    const rt = await spinningRuntime(1);
    try {
      rt.stopTheWorld({ timeoutMs: 5000 });
      const late = rt.spawn(job('spin'));
      const h = await late.registered();
      const info = rt.threadStates().find((t) => t.handle === h);
      assert.is(info?.state, 'SUSPENDED');
      assert.is(progressOf(rt, h & 0xff), 0, 'its job has not run');
      rt.startTheWorld();
      await waitFor(() => progressOf(rt, h & 0xff) > 0, 10_000, 'the late worker to run');
    } finally {
      await shutdown(rt);
    }
  }));

test('10,000 stop/start cycles with 4 workers: no hang, no lost wake-up, exact counts', () =>
  within(120_000, async () => {
    const rt = await spinningRuntime(4);
    try {
      rt.resetStats();
      for (let k = 0; k < 10_000; k++) {
        rt.stopTheWorld({ timeoutMs: 10_000 });
        rt.startTheWorld();
      }
      const s = rt.stats();
      assert.is(s.stops, 10_000);
      assert.is(s.timeouts, 0);
      assert.is(s.hist.reduce((a, b) => a + b, 0), 10_000, 'histogram counts every stop');
      const idx = workerIndexes(rt);
      const before = idx.map((i) => progressOf(rt, i));
      await waitFor(() => idx.every((i, k) => progressOf(rt, i) !== before[k]), 10_000, 'all workers to resume');
    } finally {
      await shutdown(rt);
    }
  }));

test('a worker terminated while ATTACHED is marked DEAD and the next stop succeeds', () =>
  within(30_000, async () => {
    const rt = await spinningRuntime(2);
    try {
      const [victim, other] = rt.workers;
      const h = victim.handle;
      assert.is(rt.threadStates().find((t) => t.handle === h)?.state, 'ATTACHED');
      await victim.terminate();
      await waitFor(() => rt.threadStates().find((t) => t.handle === h)?.state === 'DEAD', 5000, 'slot marked DEAD');
      await assert.not.throws(() => rt.stopTheWorld({ timeoutMs: 1000 }));
      rt.startTheWorld();
      const p = progressOf(rt, other.handle & 0xff);
      await waitFor(() => progressOf(rt, other.handle & 0xff) !== p, 5000, 'the survivor to run');
    } finally {
      await shutdown(rt);
    }
  }));

test('async stop never blocks the main thread and honours AbortSignal', () =>
  within(30_000, async () => {
    const rt = await spinningRuntime(2);
    try {
      await rt.stopTheWorldAsync({ timeoutMs: 5000 });
      assert.is(rt.core.is_stopped(), 1);
      rt.startTheWorld();
      // a straggler that never polls cannot be stopped; abort ends the wait and restores the world
      const straggler = rt.spawn(job('spin'), { noPoll: true });
      const sh = await straggler.registered();
      await waitFor(() => progressOf(rt, sh & 0xff) > 0, 10_000, 'the straggler to run attached');
      const ac = new AbortController();
      const p = rt.stopTheWorldAsync({ timeoutMs: 20_000, signal: ac.signal });
      let ticks = 0;
      await waitFor(() => ++ticks > 5, 5000, 'the event loop to keep turning');
      ac.abort(new Error('enough'));
      await p.then(() => assert.unreachable('should reject'), (e: unknown) => {
        assert.is((e as { code?: string }).code, 'E_ABORTED');
      });
      assert.is(rt.core.is_stopped(), 0);
      assert.ok(rt.threadStates().every((t) => !t.stopRequested && t.state !== 'SUSPENDED'));
    } finally {
      await shutdown(rt);
    }
  }));

test.run();

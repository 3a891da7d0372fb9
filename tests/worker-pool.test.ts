// The worker pool (host/worker-pool.ts) under a runtime: a finished job's
// worker runs the next job (a new registration each time), concurrent jobs get
// workers of their own, a failed job's worker is not reused, idle workers
// retire after the idle time and at close, and an idle worker holds no slot.
// A job that leaves something running on its worker's event loop ends it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Runtime } from '../host/runtime.js';
import { nodePlatform, startNodeWorker } from '../host/node/platform.js';
import { WorkerPool } from '../host/worker-pool.js';
import type { Platform } from '../host/platform.js';
import { waitFor, within } from './lib/helpers.js';

const JOB = new URL('./jobs/pool-echo.js', import.meta.url);
type Echo = { threadId: number; handle: number; runs: number; cores: number; n: number };

function pooled(idleMs: number): { platform: Platform; pool: WorkerPool } {
  const pool = new WorkerPool(startNodeWorker, idleMs);
  return { pool, platform: { ...nodePlatform, spawnWorker: (init) => pool.spawn(init), releaseWorkers: (m) => pool.release(m) } };
}

const run = async (rt: Runtime, n: number, fail = false): Promise<Echo> => (await rt.spawn(JOB, { n, fail }).join()) as Echo;

test('a finished job\'s worker runs the next job, registered anew on the same core instance; an idle worker holds no slot', () => within(60_000, async () => {
  const { platform, pool } = pooled(60_000);
  const rt = await Runtime.create(platform, { capacity: 8 });
  try {
    const a = await run(rt, 1);
    await waitFor(() => pool.idleCount(rt.memory) >= 1, 20_000, 'the worker to be idle');
    const b = await run(rt, 2);
    assert.is(b.threadId, a.threadId, 'the same worker');
    assert.is(b.runs, 2, 'the job module was imported once on that worker');
    assert.is(b.cores, 1, 'and the core instantiated once');
    assert.is.not(b.handle, a.handle, 'a registration of its own');
    assert.equal([a.n, b.n], [1, 2]);
    await waitFor(() => pool.idleCount(rt.memory) >= 1, 20_000, 'the worker to be idle again');
    assert.equal(rt.threadStates().map((t) => t.handle), [rt.handle], 'only the main thread is registered');
  } finally {
    await rt.close();
  }
  assert.is(pool.idleCount(rt.memory), 0, 'close retires the idle workers');
}));

test('concurrent jobs run on workers of their own; a failed job\'s worker takes no other', () => within(60_000, async () => {
  const { platform, pool } = pooled(60_000);
  const rt = await Runtime.create(platform, { capacity: 8 });
  try {
    const three = await Promise.all([run(rt, 1), run(rt, 2), run(rt, 3)]);
    assert.is(new Set(three.map((e) => e.threadId)).size, 3);
    await waitFor(() => pool.idleCount(rt.memory) >= 3, 20_000, 'three idle workers');
    const failing = rt.spawn(JOB, { n: 4, fail: true });
    const failedOn = failing.threadId;
    await failing.join().then(() => assert.unreachable('the job throws'), (e: Error) => assert.match(e.message, /job 4 fails/));
    const after: number[] = [];
    for (let i = 0; i < 4; i++) after.push((await run(rt, 5 + i)).threadId);
    assert.not.ok(after.includes(failedOn), 'the failed job\'s worker was retired');
  } finally {
    await rt.close();
  }
}));

test('a job that leaves a timer on its worker\'s event loop ends that worker; one that logs as it returns does not', () => within(60_000, async () => {
  const { platform, pool } = pooled(60_000);
  const rt = await Runtime.create(platform, { capacity: 8 });
  try {
    const logged = (await rt.spawn(JOB, { n: 1, leave: 'log' }).join()) as Echo;
    await waitFor(() => pool.idleCount(rt.memory) >= 1, 20_000, 'the worker to be idle');
    const timer = (await rt.spawn(JOB, { n: 2, leave: 'timer' }).join()) as Echo;
    assert.is(timer.threadId, logged.threadId, 'a stdout write in flight as a job returns leaves its worker reusable');
    await waitFor(() => !rt.workers.length && pool.idleCount(rt.memory) === 0, 20_000, 'the timer\'s worker to be retired');
    const after = await run(rt, 3);
    assert.is.not(after.threadId, timer.threadId, 'the next job runs on another worker');
    assert.is(after.runs, 1, 'a new one');
  } finally {
    await rt.close();
  }
}));

test('from the second job on, a pool left with no idle worker starts a spare; a job that finds it starting runs on it', () => within(60_000, async () => {
  const started: number[] = [];
  const pool = new WorkerPool((init) => { const w = startNodeWorker(init); started.push(w.threadId); return w; }, 60_000);
  const platform: Platform = { ...nodePlatform, spawnWorker: (init) => pool.spawn(init), releaseWorkers: (m) => pool.release(m) };
  const rt = await Runtime.create(platform, { capacity: 8 });
  try {
    const first = await run(rt, 1);
    assert.equal(started, [first.threadId], 'the first job starts no spare');
    await waitFor(() => pool.idleCount(rt.memory) === 1, 20_000, 'the worker to be idle');
    // back to back: the second takes the idle worker and starts a spare; the third finds the spare starting
    const second = rt.spawn(JOB, { n: 2 });
    const third = rt.spawn(JOB, { n: 3 });
    const [b, c] = (await Promise.all([second.join(), third.join()])) as Echo[];
    assert.is(b.threadId, first.threadId);
    assert.is(c.threadId, started[1], 'the third job ran on the spare');
    assert.is(c.runs, 1, 'the spare had loaded the job module without running it');
    assert.is(started.length, 3, 'and a new spare replaced it');
  } finally {
    await rt.close();
  }
}));

test('idle workers retire after the idle time; nothing runs before the first job', () => within(60_000, async () => {
  const { platform, pool } = pooled(300);
  const rt = await Runtime.create(platform, { capacity: 8 });
  try {
    assert.is(pool.idleCount(), 0);
    assert.is(rt.workers.length, 0);
    await run(rt, 1);
    await run(rt, 2);
    await waitFor(() => pool.idleCount(rt.memory) >= 1, 20_000, 'an idle worker');
    await waitFor(() => pool.idleCount(rt.memory) === 0, 20_000, 'the idle workers to retire');
    const c = await run(rt, 3); // a new worker again
    assert.is(c.runs, 1);
  } finally {
    await rt.close();
  }
}));

test.run();

// The host API fuzzed the way tests/fuzz.test.ts fuzzes the core's exports:
// random calls with valid and hostile arguments on every public object the API
// hands out (Runtime, rt.main, Mutex, CacheEntry, WorkerThread; ThreadContext
// in the workers' own fuzz job), in random order, with worker deaths
// (terminate) and close() interleaved. Every outcome must be a return or a
// typed error of the documented class (tests/lib/fuzz-support.ts); every wait
// has a deadline; at the end no worker is left running. Seeded: a failure
// names the seed and call that reproduce it (HOST_FUZZ_SEED=n HOST_FUZZ_CALLS=n).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ClosedError } from '../host/errors.js';
import { ANSWERS_AFTER_CLOSE, type ClosedContractClass } from '../host/closed.js';
import type { Runtime } from '../host/runtime.js';
import type { WorkerThread } from '../host/worker-thread.js';
import type { CacheEntry, Mutex } from '../host/handles.js';
import { createRuntime, job, shutdown, within } from './lib/helpers.js';
import { HOSTILE, HOSTILE_OPTIONS, deadline, rng, undocumented } from './lib/fuzz-support.js';

const SEED = Number(process.env.HOST_FUZZ_SEED ?? 0x5eed);
const CALLS = Number(process.env.HOST_FUZZ_CALLS ?? 400);
const ROUNDS = 3;
// Longest any single call may take: every blocking call is given a bound far below it.
const CALL_DEADLINE_MS = 15_000;

interface Seen { calls: number; codes: Map<string, number>; bad: string[]; afterClose: Map<string, string> }

class HostFuzz {
  readonly R;
  readonly mutexes: Mutex[] = [];
  readonly caches: CacheEntry[] = [];
  readonly workers: WorkerThread[] = [];
  readonly fuzzers: WorkerThread[] = [];
  locks: number[] = [];
  closed = false;

  constructor(readonly seed: number, readonly rt: Runtime, readonly seen: Seen) {
    this.R = rng(seed);
  }

  /** A valid value most of the time, a hostile one otherwise. */
  any<T>(good: T): T {
    return (this.R.int(4) === 0 ? this.R.pick(HOSTILE) : good) as T;
  }
  /** Options of a blocking call: bounded, or hostile but never "forever". */
  bounded(): { timeoutMs: number } {
    return (this.R.int(4) === 0 ? this.R.pick(HOSTILE_OPTIONS) : { timeoutMs: this.R.pick([0, 1, 5, 50]) }) as { timeoutMs: number };
  }
  lockId(): number {
    return this.any(this.R.pick([0, ...this.locks, 255]));
  }
  aborted(): AbortSignal {
    return AbortSignal.abort();
  }

  ops(): [string, () => unknown][] {
    const { rt, R } = this;
    const mutex = () => (this.mutexes.length ? R.pick(this.mutexes) : rt.mutex(0));
    const cache = () => (this.caches.length ? R.pick(this.caches) : rt.cache(0));
    const worker = () => (this.workers.length ? R.pick(this.workers) : undefined);
    return [
      // Runtime
      ['rt.stats', () => rt.stats()],
      ['rt.resetStats', () => rt.resetStats()],
      ['rt.threadStates', () => rt.threadStates()],
      ['rt.runningChildren', () => rt.runningChildren()],
      ['rt.createLock', () => { const id = rt.createLock(this.any(R.pick(['mutex', 'recursive'] as const))); this.locks.push(id); }],
      ['rt.destroyLock', () => { const id = this.lockId(); rt.destroyLock(id); this.locks = this.locks.filter((l) => l !== id); }],
      ['rt.mutex', () => { this.mutexes.push(rt.mutex(this.lockId())); }],
      ['rt.cache', () => { this.caches.push(rt.cache(this.any(R.int(4096)))); }],
      ['rt.stop/start', () => { rt.stopTheWorld(this.bounded()); rt.startTheWorld(); }],
      ['rt.startTheWorld', () => rt.startTheWorld()],
      ['rt.stopAsync/startAsync', async () => { await rt.stopTheWorldAsync(this.bounded()); await rt.startTheWorldAsync(); }],
      ['rt.stopAsync (aborted)', () => rt.stopTheWorldAsync({ timeoutMs: 50, signal: this.aborted() })],
      ['rt.withWorldStopped', () => rt.withWorldStopped(this.any(() => rt.threadStates().length), this.bounded())],
      ['rt.withWorldStoppedAsync', () => rt.withWorldStoppedAsync(this.any(async () => 1), this.bounded())],
      ['rt.allowThreads', () => rt.allowThreads(this.any(() => 2))],
      ['rt.spawn (spin)', () => { this.workers.push(rt.spawn(job('spin'))); }],
      ['rt.spawn (fuzz job)', () => {
        const w = rt.spawn(job('host-fuzz-worker'), { seed: R.int(2 ** 31), calls: 60, locks: this.locks.slice() });
        this.workers.push(w);
        this.fuzzers.push(w);
      }],
      ['rt.spawn (hostile)', () => rt.spawn(R.pick(HOSTILE) as string, R.pick(HOSTILE))],
      ['rt.fork (no fork configured)', () => rt.fork(this.any({}))],
      ['rt.waitpid', () => rt.waitpid(this.any(R.int(100000)), { noHang: true })],
      ['rt.registerAtFork', () => rt.registerAtFork(this.any({}))],
      ['rt.importLock', () => rt.importLock],
      ['rt.workers', () => rt.workers.length],
      // rt.main
      ['main.poll', () => rt.main.poll()],
      ['main.attach', () => rt.main.attach()],
      ['main.detach', () => rt.main.detach()],
      ['main.attachAsync', () => rt.main.attachAsync(R.int(4) === 0 ? this.aborted() : undefined)],
      ['main.allowThreads', () => rt.main.allowThreads(this.any(() => 3))],
      ['main.stop/start', () => { rt.main.stopTheWorld(this.bounded()); rt.main.startTheWorld(); }],
      ['main.stragglers', () => rt.main.stragglers()],
      ['main.state', () => rt.main.state],
      ['main.isLive', () => rt.main.isLive(this.any(rt.main.handle))],
      ['main.lockImport', () => { rt.main.lockImport(); rt.main.unlockImport(); }],
      ['main.unlockImport', () => rt.main.unlockImport()],
      // Mutex
      ['mutex.lock/unlock', () => { const m = mutex(); m.lock(this.bounded()); m.unlock(); }],
      ['mutex.lock', () => mutex().lock(this.bounded())],
      ['mutex.lock (aborted)', () => mutex().lock({ timeoutMs: 5, signal: this.aborted() })],
      ['mutex.tryLock', () => mutex().tryLock()],
      ['mutex.lockAsync', () => {
        const m = mutex();
        return m.lockAsync({ signal: R.int(3) === 0 ? this.aborted() : AbortSignal.timeout(50) }).then(() => m.unlock());
      }],
      ['mutex.unlock', () => mutex().unlock()],
      ['mutex.consistent', () => mutex().consistent()],
      ['mutex.owner', () => mutex().owner],
      // CacheEntry
      ['cache.read', () => cache().read(this.any(R.int(9)), this.any(1))],
      ['cache.write', () => cache().write(this.any(R.int(9) + 1), this.any(1), this.any(R.int(1000)))],
      ['cache.invalidate', () => cache().invalidate()],
      // WorkerThread
      ['worker.registered', () => worker()?.registered()],
      ['worker.terminate', () => worker()?.terminate()],
      ['worker.threadId', () => worker()?.threadId],
    ];
  }

  async call(name: string, op: () => unknown, k: number): Promise<void> {
    const what = `seed ${this.seed} call ${k} ${name}${this.closed ? ' (after close)' : ''}`;
    this.seen.calls++;
    try {
      const r = op();
      if (r instanceof Promise) await deadline(r, CALL_DEADLINE_MS, what);
    } catch (e) {
      if (e instanceof Error && e.message.startsWith('hang:')) throw e;
      const why = undocumented(e);
      if (why) {
        this.seen.bad.push(`${what}: ${why}`);
        return;
      }
      const code = (e as { code: string }).code;
      this.seen.codes.set(code, (this.seen.codes.get(code) ?? 0) + 1);
      if (this.closed && !(e instanceof ClosedError)) this.seen.afterClose.set(name, `${(e as Error).constructor.name} ${code}`);
      return;
    }
    if (this.closed) this.seen.afterClose.set(name, 'returned');
  }

  async run(calls: number): Promise<void> {
    const ops = this.ops();
    const closeAt = Math.floor(calls * (0.6 + 0.3 * this.R.next()));
    for (let k = 0; k < calls; k++) {
      if (k === closeAt) {
        await this.collectFuzzers();
        await deadline(this.rt.close({ graceMs: 500 }), CALL_DEADLINE_MS, `seed ${this.seed}: close`);
        this.closed = true;
        continue;
      }
      const [name, op] = this.R.pick(ops);
      await this.call(name, op, k);
      // the event loop turns now and then, so workers' messages (exits, spawns) arrive
      if (this.R.int(8) === 0) await new Promise((r) => setImmediate(r));
    }
  }

  /** The fuzz jobs' own findings, once each has ended (or died: a WorkerError is a documented outcome). */
  async collectFuzzers(): Promise<void> {
    for (const w of this.fuzzers) {
      try {
        const r = (await deadline(w.join(), CALL_DEADLINE_MS, `seed ${this.seed}: a fuzz job's join`)) as { calls: number; errors: Record<string, number>; bad: string[] };
        this.seen.calls += r.calls;
        this.seen.bad.push(...r.bad);
        for (const [code, n] of Object.entries(r.errors)) this.seen.codes.set(code, (this.seen.codes.get(code) ?? 0) + n);
      } catch (e) {
        if (e instanceof Error && e.message.startsWith('hang:')) throw e;
        const why = undocumented(e);
        if (why) this.seen.bad.push(`seed ${this.seed}: a fuzz job's join ${why}`);
      }
    }
    this.fuzzers.length = 0;
  }
}

test(`the host API under ${ROUNDS} × ${CALLS} random calls, hostile arguments, worker deaths and close: documented outcomes only, no hang, no worker left`, () =>
  within(ROUNDS * 120_000, async () => {
    const seen: Seen = { calls: 0, codes: new Map(), bad: [], afterClose: new Map() };
    for (let round = 0; round < ROUNDS; round++) {
      const seed = (SEED + round * 0x9e3779b9) >>> 0;
      const rt = await createRuntime({ capacity: 12 });
      const f = new HostFuzz(seed, rt, seen);
      try {
        await f.run(CALLS);
      } finally {
        if (!rt.closed) await shutdown(rt);
      }
      // nothing left behind: every worker the round started has exited
      for (const w of f.workers) assert.ok(w.exited, `seed ${seed}: worker ${w.threadId} still running after close`);
      assert.is(rt.workers.length, 0, `seed ${seed}: the runtime still lists workers after close`);
    }
    console.log(`  host fuzz: ${seen.calls} calls, typed errors ${JSON.stringify(Object.fromEntries([...seen.codes].sort()))}`);
    // After close only the members host/closed.ts lists may answer.
    const OWNER: Record<string, ClosedContractClass> = { rt: 'Runtime', main: 'RegisteredThread', mutex: 'Mutex', cache: 'CacheEntry', worker: 'WorkerThread' };
    const breaches = [...seen.afterClose].filter(([name]) => {
      const [obj, member] = name.split(' ')[0].split('.');
      const listed: Record<string, string> = ANSWERS_AFTER_CLOSE[OWNER[obj]] ?? {};
      return !(member in listed);
    });
    assert.equal(breaches, [], 'after close, members the closed-runtime contract does not list answered without ClosedError');
    assert.equal(seen.bad, [], `outcomes that are neither a return nor a documented typed error (seed ${SEED})`);
    assert.ok(seen.calls > ROUNDS * CALLS * 0.9, 'the calls ran');
    assert.ok(seen.codes.size >= 8, `the calls reached many refusals: ${[...seen.codes.keys()].join(', ')}`);
  }));

test.run();

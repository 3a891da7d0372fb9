// The closed-runtime contract (host/closed.ts): every public method and getter
// of every object the API hands out, called before close() (never ClosedError)
// and after it (ClosedError, unless the contract lists it as still answering).
// The calls are keyed by the classes' own prototypes: a member missing here,
// or listed here but gone, fails the walk.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ANSWERS_AFTER_CLOSE, type ClosedContractClass } from '../host/closed.js';
import { ClosedError, ThreadStateError } from '../host/errors.js';
import { Runtime, WorkerThread } from '../host/runtime.js';
import { RegisteredThread } from '../host/thread.js';
import { CacheEntry, Mutex } from '../host/handles.js';
import { createRuntime, job, shutdown, within } from './lib/helpers.js';

interface World { rt: Runtime; t: RegisteredThread; m: Mutex; c: CacheEntry; w: WorkerThread; id: number }
/** How to call a member; `before: false` where calling it on an open runtime would end it (or the process). */
interface Call { call?: (w: World) => unknown; before?: false; after?: false; settles?: false }

// The stop members the runtime and a thread share, each stop before its start.
const stopCalls = (of: (w: World) => Runtime | RegisteredThread): Record<string, Call> => ({
  stopTheWorld: { call: (w) => of(w).stopTheWorld() },
  startTheWorld: { call: (w) => of(w).startTheWorld() },
  stopTheWorldAsync: { call: (w) => of(w).stopTheWorldAsync() },
  startTheWorldAsync: { call: (w) => of(w).startTheWorldAsync() },
  withWorldStoppedAsync: { call: (w) => of(w).withWorldStoppedAsync(() => 0) },
  withWorldStopped: { call: (w) => of(w).withWorldStopped(() => 0) },
});

// Calls in order: a stop before its start, a lock before its unlock.
const CALLS: Record<ClosedContractClass, Record<string, Call>> = {
  Runtime: {
    fork: { call: ({ rt }) => rt.fork() },
    forkAsync: { call: ({ rt }) => rt.forkAsync() },
    waitpid: { call: ({ rt }) => rt.waitpid(1) },
    waitpidAsync: { call: ({ rt }) => rt.waitpidAsync(1) },
    registerAtFork: { call: ({ rt }) => rt.registerAtFork({}) },
    forkPoolReady: { call: ({ rt }) => rt.forkPoolReady(1, 10) },
    forkStats: { call: ({ rt }) => rt.forkStats() },
    runningChildren: { call: ({ rt }) => rt.runningChildren() },
    exit: { before: false, after: false }, // ends the process either way
    handle: { call: ({ rt }) => rt.handle },
    workers: { call: ({ rt }) => rt.workers },
    closed: { call: ({ rt }) => rt.closed },
    spawn: { call: ({ rt }) => rt.spawn(job('spin')) },
    onSpawn: { call: ({ rt }) => rt.onSpawn(() => {}) },
    ...stopCalls(({ rt }) => rt),
    allowThreads: { call: ({ rt }) => rt.allowThreads(() => 0) },
    stats: { call: ({ rt }) => rt.stats() },
    resetStats: { call: ({ rt }) => rt.resetStats() },
    threadStates: { call: ({ rt }) => rt.threadStates() },
    createLock: { call: ({ rt }) => rt.createLock() },
    mutex: { call: ({ rt, id }) => rt.mutex(id) },
    cache: { call: ({ rt }) => rt.cache(0) },
    destroyLock: { call: ({ rt }) => rt.destroyLock(rt.createLock()) },
    importLock: { call: ({ rt }) => rt.importLock },
    close: { before: false, call: ({ rt }) => rt.close() },
    closeAsync: { before: false, call: ({ rt }) => rt.closeAsync() },
  },
  RegisteredThread: {
    markClosed: { before: false, call: ({ t }) => t.markClosed() },
    closed: { call: ({ t }) => t.closed },
    fork: { call: ({ t }) => t.fork() },
    forkAsync: { call: ({ t }) => t.forkAsync() },
    waitpid: { call: ({ t }) => t.waitpid(1) },
    waitpidAsync: { call: ({ t }) => t.waitpidAsync(1) },
    waitAny: { call: ({ t }) => t.waitAny({ noHang: true }) },
    kill: { call: ({ t }) => t.kill(1, 0) },
    lockImport: { call: ({ t }) => t.lockImport() },
    unlockImport: { call: ({ t }) => t.unlockImport() },
    lockImportAsync: { call: async ({ t }) => { await t.lockImportAsync(); t.unlockImport(); } },
    isLive: { call: ({ t }) => t.isLive(t.handle) },
    options: { call: ({ t }) => t.options },
    assertCanBlock: { call: ({ t }) => t.assertCanBlock('poll', 'attachAsync') },
    registerAtFork: { call: ({ t }) => t.registerAtFork({}) },
    index: { call: ({ t }) => t.index },
    state: { call: ({ t }) => t.state },
    attached: { call: ({ t }) => t.attached },
    stopRequested: { call: ({ t }) => t.stopRequested },
    poll: { call: ({ t }) => t.poll() },
    attach: { call: ({ t }) => t.attach() },
    detach: { call: ({ t }) => t.detach() },
    attachAsync: { call: async ({ t }) => { await t.attachAsync(); t.detach(); } },
    allowThreads: { call: ({ t }) => t.allowThreads(() => 0) },
    allowThreadsIfAttached: { call: ({ t }) => t.allowThreadsIfAttached(() => 0) },
    ...stopCalls(({ t }) => t),
    stragglers: { call: ({ t }) => t.stragglers() },
    mutex: { call: ({ t, id }) => t.mutex(id) },
    cache: { call: ({ t }) => t.cache(0) },
    lock: { call: ({ t, id }) => t.lock(id) },
    unlock: { call: ({ t, id }) => t.unlock(id) },
    tryLock: { call: ({ t, id }) => { t.tryLock(id); t.unlock(id); } },
    consistent: { call: ({ t, id }) => t.consistent(id) },
    lockAsync: { call: async ({ t, id }) => { await t.lockAsync(id); t.unlock(id); } },
    detachedWhile: { call: ({ t }) => t.detachedWhile(async () => 0) },
  },
  Mutex: {
    lock: { call: ({ m }) => m.lock() },
    unlock: { call: ({ m }) => m.unlock() },
    tryLock: { call: ({ m }) => { m.tryLock(); m.unlock(); } },
    lockAsync: { call: async ({ m }) => { await m.lockAsync(); m.unlock(); } },
    consistent: { call: ({ m }) => m.consistent() },
    owner: { call: ({ m }) => m.owner },
  },
  CacheEntry: {
    read: { call: ({ c }) => c.read(1, 1) },
    write: { call: ({ c }) => c.write(1, 1, 1) },
    invalidate: { call: ({ c }) => c.invalidate() },
  },
  WorkerThread: {
    threadId: { call: ({ w }) => w.threadId },
    registered: { call: ({ w }) => w.registered() },
    join: { call: ({ w }) => w.join(), settles: false }, // runs until close
    terminate: { before: false, call: ({ w }) => w.terminate() },
  },
};

const CLASSES: Record<ClosedContractClass, { prototype: object }> = { Runtime, RegisteredThread, Mutex, CacheEntry, WorkerThread };

const members = (C: { prototype: object }): string[] => Object.getOwnPropertyNames(C.prototype).filter((n) => n !== 'constructor').sort();

async function outcome(call: () => unknown, settles = true): Promise<unknown> {
  try {
    const r = call();
    if (r instanceof Promise) {
      if (!settles) {
        r.catch(() => {});
        return undefined;
      }
      await r;
    }
  } catch (e) {
    return e;
  }
  return undefined;
}

async function world(): Promise<World> {
  const rt = await createRuntime({ capacity: 8 });
  const w = rt.spawn(job('spin'));
  await w.registered();
  const id = rt.createLock();
  return { rt, t: rt.main, m: rt.mutex(id), c: rt.cache(0), w, id };
}

test('the walk covers every public member of every object the API hands out, and the contract names only real ones', () => {
  for (const [name, C] of Object.entries(CLASSES) as [ClosedContractClass, { prototype: object }][]) {
    assert.equal(Object.keys(CALLS[name]).sort(), members(C), `${name}: every prototype member has a call here`);
    for (const m of Object.keys(ANSWERS_AFTER_CLOSE[name])) assert.ok(members(C).includes(m), `${name}.${m} exists`);
  }
});

test('before close nothing is ClosedError; after close every member throws ClosedError but the ones the contract lists', () =>
  within(60_000, async () => {
    const wd = await world();
    try {
      for (const [name, calls] of Object.entries(CALLS) as [ClosedContractClass, Record<string, Call>][]) {
        for (const [member, c] of Object.entries(calls)) {
          if (c.before === false || !c.call) continue;
          const e = await outcome(() => c.call!(wd), c.settles);
          assert.not.instance(e, ClosedError, `${name}.${member} before close: ${String(e)}`);
        }
      }
    } finally {
      await shutdown(wd.rt);
    }
    for (const [name, calls] of Object.entries(CALLS) as [ClosedContractClass, Record<string, Call>][]) {
      const answers: Record<string, string> = ANSWERS_AFTER_CLOSE[name];
      for (const [member, c] of Object.entries(calls)) {
        if (c.after === false || !c.call) continue;
        const e = await outcome(() => c.call!(wd));
        if (member in answers) assert.not.instance(e, ClosedError, `${name}.${member} still answers after close (${answers[member]})`);
        else {
          assert.instance(e, ClosedError, `${name}.${member} after close: ${String(e)}`);
          assert.is((e as ClosedError).code, 'E_CLOSED');
        }
      }
    }
    assert.equal(wd.rt.workers, []);
    assert.ok(wd.w.exited, 'a spawned worker dies with the runtime');
  }));

// ---- one regression guard per broken promise (issue: "a closed runtime still answers") ----

async function closedWorld(): Promise<World> {
  const wd = await world();
  await shutdown(wd.rt);
  return wd;
}

const isClosed = (e: unknown) => e instanceof ClosedError && (e as ClosedError).code === 'E_CLOSED';

test('a closed runtime refuses stats(), threadStates() and runningChildren() with ClosedError', () =>
  within(30_000, async () => {
    const { rt } = await closedWorld();
    assert.throws(() => rt.stats(), isClosed);
    assert.throws(() => rt.threadStates(), isClosed);
    assert.throws(() => rt.runningChildren(), isClosed);
  }));

test('every call on rt.main after close throws ClosedError, not ThreadStateError E_STALE (poll, attach, detach, consistent)', () =>
  within(30_000, async () => {
    const { t, id } = await closedWorld();
    for (const f of [() => t.poll(), () => t.attach(), () => t.detach(), () => t.consistent(id)]) {
      assert.throws(f, (e: unknown) => isClosed(e) && !(e instanceof ThreadStateError));
    }
  }));

test('a Mutex obtained before close throws ClosedError: owner no longer returns 0', () =>
  within(30_000, async () => {
    const { m } = await closedWorld();
    assert.throws(() => m.owner, isClosed);
    assert.throws(() => m.consistent(), isClosed);
  }));

test('a CacheEntry obtained before close throws ClosedError: read no longer returns undefined, write and invalidate no longer E_STALE', () =>
  within(30_000, async () => {
    const { c } = await closedWorld();
    assert.throws(() => c.read(1, 1), isClosed);
    assert.throws(() => c.write(1, 1, 1), isClosed);
    assert.throws(() => c.invalidate(), isClosed);
  }));

test.run();

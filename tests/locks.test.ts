// Fork-safe locks in shared memory.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRuntime } from '../host/node/index.js';
import { ERRNO as E, LockError, LockTimeoutError } from '../host/errors.js';
import { RegisteredThread } from '../host/thread.js';
import { DIAG_SCRATCH } from '../host/modules.js';
import { LK_DEPTH, LOCKS, LOCK_SIZE } from '../host/layout.js';
import { bareCore, job, shutdown, waitFor, within } from './helpers.js';

test('4 workers increment a plain counter under the mutex: exact total', () =>
  within(60_000, async () => {
    const rt = await createRuntime({ capacity: 8 });
    try {
      const lock = rt.createLock('mutex');
      const counter = DIAG_SCRATCH + 256;
      const iters = 20_000;
      const ws = [0, 1, 2, 3].map(() => rt.spawn(job('locker'), { op: 'count', lock, counter, iters }));
      await Promise.all(ws.map((w) => w.join()));
      assert.is(Atomics.load(new Int32Array(rt.memory.buffer), counter >> 2), 4 * iters);
    } finally {
      await shutdown(rt);
    }
  }));

test('a thread blocked on a lock does not prevent a stop', () =>
  within(30_000, async () => {
    const rt = await createRuntime({ capacity: 8 });
    try {
      const lock = rt.createLock('mutex');
      rt.main.attach();
      rt.main.lock(lock);
      rt.main.detach();
      const w = rt.spawn(job('locker'), { op: 'wait-once', lock });
      const h = await w.registered();
      const state = () => rt.threadStates().find((t) => t.handle === h)?.state;
      // the waiter detaches while it waits for the lock
      await waitFor(() => state() === 'DETACHED' && rt.core.lock_addr(lock) > 0 &&
        Atomics.load(new Int32Array(rt.memory.buffer), rt.core.lock_addr(lock) >> 2) === 2, 10_000, 'the waiter to block');
      rt.stopTheWorld({ timeoutMs: 1000 });
      assert.is(state(), 'SUSPENDED', 'parked while waiting for the lock');
      rt.startTheWorld();
      rt.main.attach();
      rt.main.unlock(lock);
      rt.main.detach();
      assert.is(await w.join(), h, 'the waiter got the lock after the release');
    } finally {
      await shutdown(rt);
    }
  }));

test('recursive lock depth rules; mutex relock is a deadlock error; misuse codes', () =>
  within(5000, async () => {
    const { core, memory } = await bareCore();
    core.init(4);
    const a = core.register(1);
    const b = core.register(2);
    core.attach(a);
    core.attach(b);
    const r = core.lock_create(2);
    const m = core.lock_create(1);
    assert.ok(r > 0 && m > 0 && r !== m);
    assert.is(core.lock_create(3), E.E_ARG);
    for (let d = 1; d <= 3; d++) {
      assert.is(core.lock_acquire(a, r, -1), 0);
      assert.is(core.lock_depth(r), d);
    }
    assert.is(core.lock_owner(r), a);
    assert.is(core.lock_acquire(b, r, 0), E.E_WOULD_BLOCK, 'held by another');
    assert.is(core.lock_acquire(b, r, 20), E.E_TIMEOUT, 'timed lock expires');
    assert.is(core.lock_release(b, r), E.E_NOT_OWNER);
    assert.is(core.lock_destroy(r), E.E_BUSY);
    for (let d = 3; d >= 1; d--) assert.is(core.lock_release(a, r), 0);
    assert.is(core.lock_owner(r), 0);
    assert.is(core.lock_release(a, r), E.E_NOT_OWNER, 'unlock of an unlocked lock');
    assert.is(core.lock_acquire(a, m, -1), 0);
    assert.is(core.lock_acquire(a, m, -1), E.E_DEADLOCK);
    assert.is(core.lock_depth(m), 1, 'state intact after the refused relock');
    assert.is(core.lock_release(a, m), 0);
    for (const bad of [-1, 256, 200]) {
      assert.is(core.lock_acquire(a, bad, 0), E.E_BAD_LOCK);
      assert.is(core.lock_release(a, bad), E.E_BAD_LOCK);
      assert.is(core.lock_owner(bad), E.E_BAD_LOCK);
    }
    assert.is(core.lock_destroy(0), E.E_BAD_LOCK, 'the import lock cannot be destroyed');
    assert.is(core.lock_destroy(m), 0);
    assert.is(core.lock_acquire(a, m, 0), E.E_BAD_LOCK, 'destroyed');
    assert.is(core.lock_acquire((5 << 8) | 0, r, 0), E.E_STALE);
    assert.is(core.lock_acquire(0x7777, r, 0), E.E_BAD_HANDLE);
    // host wrappers: typed errors
    const t = new RegisteredThread(core, memory, b);
    assert.is(core.lock_acquire(a, r, -1), 0);
    assert.throws(() => t.unlock(r), (e: unknown) => e instanceof LockError && (e as LockError).code === 'E_NOT_OWNER');
    assert.throws(() => t.lock(r, { timeoutMs: 0 }), (e: unknown) => e instanceof LockTimeoutError);
    assert.is(t.tryLock(r), false);
  }));

test('the recursion limit is an error, not an overflow', () =>
  within(5000, async () => {
    const { core, i32 } = await bareCore();
    core.init(2);
    const a = core.register(1);
    core.attach(a);
    const r = core.lock_create(2);
    assert.is(core.lock_acquire(a, r, -1), 0);
    Atomics.store(i32, (LOCKS + r * LOCK_SIZE + LK_DEPTH) >> 2, 0x7fffffff); // depth at the limit
    assert.is(core.lock_acquire(a, r, -1), E.E_RECURSION);
    assert.is(Atomics.load(i32, (LOCKS + r * LOCK_SIZE + LK_DEPTH) >> 2), 0x7fffffff, 'depth intact');
  }));

test('fork child: every lock, the import lock included, is free', () =>
  within(5000, async () => {
    const { core } = await bareCore();
    core.init(4);
    const a = core.register(1);
    const b = core.register(2);
    core.attach(a);
    core.attach(b);
    const m = core.lock_create(1);
    assert.is(core.lock_acquire(a, m, -1), 0);
    assert.is(core.lock_acquire(b, 0, -1), 0);
    assert.is(core.lock_acquire(b, 0, -1), 0);
    core.detach(a);
    assert.is(core.stop(b, 100), 0);
    assert.is(core.after_fork_child(a, 9), E.E_STATE, 'only the thread holding the stop continues');
    assert.is(core.after_fork_child(b, 9), 0);
    assert.is(core.lock_owner(m), 0);
    assert.is(core.lock_owner(0), 0);
    assert.is(core.lock_depth(0), 0);
    assert.is(core.thread_state(a), E.E_STALE, 'other threads are gone');
    assert.is(core.thread_state(b), 3, 'the forking thread is attached');
    assert.is(core.lock_acquire(b, m, 0), 0);
    assert.is(core.is_stopped(), 0);
  }));

test('async lock never blocks the calling thread', () =>
  within(30_000, async () => {
    const rt = await createRuntime({ capacity: 8 });
    try {
      const lock = rt.createLock('mutex');
      const holder = rt.spawn(job('locker'), { op: 'count', lock, counter: DIAG_SCRATCH + 256, iters: 20_000 });
      await holder.registered();
      for (let k = 0; k < 50; k++) {
        await rt.main.lockAsync(lock);
        rt.main.unlock(lock);
      }
      await holder.join();
      assert.is(rt.core.lock_owner(lock), 0);
    } finally {
      await shutdown(rt);
    }
  }));

test('host mutex handle: lock, owner, tryLock, unlock; lockAsync honours AbortSignal; bad ids are typed errors', () =>
  within(30_000, async () => {
    const rt = await createRuntime({ capacity: 8 });
    try {
      const m = rt.mutex(rt.createLock('mutex'));
      m.lock();
      assert.is(m.owner, rt.handle);
      assert.throws(() => m.lock({ timeoutMs: 10 }), (e: unknown) => e instanceof LockError && (e as LockError).code === 'E_DEADLOCK');
      m.unlock();
      assert.is(m.owner, 0);
      assert.is(m.tryLock(), true);
      m.unlock();
      const ac = new AbortController();
      ac.abort(new Error('no'));
      assert.throws(() => m.lock({ signal: ac.signal }), /no/);
      // held by a worker: an aborted async lock gives up with E_ABORTED, leaving the lock with its owner
      const holder = rt.spawn(job('locker'), { op: 'hold', lock: m.id });
      const h = await holder.registered();
      await waitFor(() => m.owner === h, 10_000, 'the worker to hold the lock');
      const ac2 = new AbortController();
      const p = m.lockAsync({ signal: ac2.signal });
      ac2.abort();
      await p.then(() => assert.unreachable(), (e) => assert.is((e as { code?: string }).code, 'E_ABORTED'));
      assert.is(m.owner, h);
      assert.throws(() => rt.mutex(999), (e: unknown) => e instanceof LockError && (e as LockError).code === 'E_BAD_LOCK');
    } finally {
      await shutdown(rt);
    }
  }));

test.run();

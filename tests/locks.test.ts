// Fork-safe locks in shared memory.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRuntime } from '../host/node/index.js';
import {
  ERRNO as E, InvalidArgumentError, LockError, LockNotRecoverableError, LockOwnerDeadError, LockTimeoutError,
} from '../host/errors.js';
import { RegisteredThread, type LockOptions } from '../host/thread.js';
import { DIAG_SCRATCH } from '../host/diag.js';
import { LK_DEPTH, LK_STATE, LOCKS, LOCK_SIZE, LOCK_WAITERS } from '../host/layout.js';
import { bareCore, job, shutdown, waitFor, within } from './lib/helpers.js';

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
        (Atomics.load(new Int32Array(rt.memory.buffer), rt.core.lock_addr(lock) >> 2) & LOCK_WAITERS) !== 0, 10_000, 'the waiter to block');
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

test('robust: the lock word holds the owner; a dead owner hands the lock over with E_OWNER_DEAD', () =>
  within(5000, async () => {
    const { core, i32 } = await bareCore();
    core.init(8);
    const a = core.register(1);
    const b = core.register(2);
    const m = core.lock_create(1);
    const word = () => Atomics.load(i32, core.lock_addr(m) >> 2) >>> 0;
    assert.is(core.lock_acquire(a, m, 0), 0);
    assert.is(word(), a, 'ownership is the acquiring CAS itself');
    assert.is(core.lock_acquire(b, m, 0), E.E_WOULD_BLOCK, 'a live owner keeps it');
    assert.is(core.lock_consistent(b, m), E.E_NOT_OWNER);
    assert.is(core.lock_consistent(a, m), E.E_STATE, 'a consistent lock');
    assert.is(core.mark_dead(a), 0);
    assert.is(core.lock_acquire(b, m, 0), E.E_OWNER_DEAD, 'taken over from the dead owner');
    assert.is(core.lock_owner(m), b);
    assert.is(core.lock_depth(m), 1);
    const lockState = () => Atomics.load(i32, (LOCKS + m * LOCK_SIZE + LK_STATE) >> 2);
    assert.is(lockState(), 1, 'inconsistent, as host/layout.ts says');
    assert.is(core.lock_consistent(b, m), 0);
    assert.is(lockState(), 0);
    assert.is(core.lock_release(b, m), 0);
    assert.is(core.lock_acquire(b, m, 0), 0, 'consistent again: an ordinary lock');
    assert.is(core.lock_release(b, m), 0);
    // an owner that unregistered (FREE) or whose slot was reused is gone too
    const c = core.register(3);
    assert.is(core.lock_acquire(c, m, 0), 0);
    assert.is(core.unregister(c), 0);
    assert.is(core.lock_acquire(b, m, -1), E.E_OWNER_DEAD, 'owner unregistered while holding it');
    assert.is(core.lock_consistent(b, m), 0);
    assert.is(core.lock_release(b, m), 0);
    const d = core.register(4);
    assert.is(core.lock_acquire(d, m, 0), 0);
    core.mark_dead(d);
    // FREE slots go first, then DEAD ones: register until d's slot is reused
    let reused = false;
    for (let k = 0; k < 8 && !reused; k++) reused = (core.register(10 + k) & 0xff) === (d & 0xff);
    assert.ok(reused, 'the dead slot was reused');
    assert.is(core.thread_state(d), E.E_STALE);
    assert.is(core.lock_acquire(b, m, 0), E.E_OWNER_DEAD, 'owner slot of another generation');
    // released without lock_consistent: unusable for everyone
    assert.is(core.lock_release(b, m), 0);
    assert.is(core.lock_acquire(b, m, 0), E.E_NOT_RECOVERABLE);
    assert.is(core.lock_acquire(b, m, 50), E.E_NOT_RECOVERABLE);
    assert.is(core.lock_owner(m), E.E_NOT_RECOVERABLE);
    assert.is(core.lock_destroy(m), 0, 'destroy is the way out');
    const m2 = core.lock_create(1);
    assert.is(core.lock_acquire(b, m2, 0), 0, 'a recreated lock works');
  }));

test('robust: recursive locks and the import lock recover with depth 1', () =>
  within(5000, async () => {
    const { core } = await bareCore();
    core.init(4);
    let a = core.register(1);
    const b = core.register(2);
    for (const id of [core.lock_create(2), 0]) {
      for (let k = 0; k < 3; k++) assert.is(core.lock_acquire(a, id, -1), 0);
      assert.is(core.lock_depth(id), 3);
      core.mark_dead(a);
      assert.is(core.lock_acquire(b, id, -1), E.E_OWNER_DEAD);
      assert.is(core.lock_depth(id), 1);
      assert.is(core.lock_acquire(b, id, -1), 0, 'recursion works on a taken-over lock');
      assert.is(core.lock_release(b, id), 0);
      assert.is(core.lock_consistent(b, id), 0);
      assert.is(core.lock_release(b, id), 0);
      assert.is(core.lock_owner(id), 0);
      assert.is(core.unregister(a), 0, 'a DEAD slot is reaped');
      a = core.register(1); // the next round's dying owner
    }
  }));

test('robust (host): a worker killed holding a lock; a sleeping waiter wakes and takes over; consistent() repairs', () =>
  within(60_000, async () => {
    const rt = await createRuntime({ capacity: 8 });
    try {
      const m = rt.mutex(rt.createLock('mutex'));
      const holder = rt.spawn(job('locker'), { op: 'hold', lock: m.id });
      const h = await holder.registered();
      await waitFor(() => m.owner === h, 10_000, 'the worker to hold the lock');
      const waiter = rt.spawn(job('locker'), { op: 'acquire-code', lock: m.id });
      const wh = await waiter.registered();
      const i32 = new Int32Array(rt.memory.buffer);
      await waitFor(() => (Atomics.load(i32, rt.core.lock_addr(m.id) >> 2) & LOCK_WAITERS) !== 0 &&
        rt.threadStates().find((t) => t.handle === wh)?.state === 'DETACHED', 10_000, 'the waiter to sleep on the lock');
      await holder.terminate();
      assert.is(await waiter.join(), E.E_OWNER_DEAD, 'the sleeping waiter took the lock over');
      // the waiter repaired nothing and exited holding it: the main thread takes it over in turn
      let err: unknown;
      try {
        m.lock({ timeoutMs: 10_000 });
      } catch (e) {
        err = e;
      }
      assert.instance(err, LockOwnerDeadError);
      assert.is((err as LockOwnerDeadError).code, 'E_OWNER_DEAD');
      assert.is(m.owner, rt.handle, 'the lock IS held by the caller');
      m.consistent();
      m.unlock();
      assert.ok(m.tryLock());
      m.unlock();
      // released without consistent(): unusable, typed
      const holder2 = rt.spawn(job('locker'), { op: 'hold', lock: m.id });
      const h2 = await holder2.registered();
      await waitFor(() => m.owner === h2, 10_000, 'the second holder');
      await holder2.terminate();
      await waitFor(() => rt.threadStates().find((t) => t.handle === h2)?.state === 'DEAD', 10_000, 'DEAD');
      await rt.main.lockAsync(m.id).then(() => assert.unreachable(), (e: unknown) => assert.instance(e, LockOwnerDeadError));
      m.unlock();
      assert.throws(() => m.lock(), (e: unknown) => e instanceof LockNotRecoverableError && e instanceof LockError);
      assert.throws(() => m.tryLock(), (e: unknown) => e instanceof LockNotRecoverableError);
    } finally {
      await shutdown(rt);
    }
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
      assert.throws(() => rt.mutex(200), (e: unknown) => e instanceof LockError && (e as LockError).code === 'E_BAD_LOCK');
      for (const bad of [999, -1, NaN, 1.5, '1' as unknown as number, Infinity]) {
        assert.throws(() => rt.mutex(bad), (e: unknown) => e instanceof InvalidArgumentError, `mutex(${String(bad)})`);
      }
      assert.throws(() => rt.createLock('bogus' as 'mutex'), (e: unknown) => e instanceof InvalidArgumentError);
      assert.throws(() => m.lock({ timeoutMs: NaN }), (e: unknown) => e instanceof InvalidArgumentError);
      assert.throws(() => m.lock({ timeoutMs: '5' as unknown as number }), (e: unknown) => e instanceof InvalidArgumentError);
      assert.throws(() => m.lock({ bogus: 1 } as LockOptions), (e: unknown) => e instanceof InvalidArgumentError);
    } finally {
      await shutdown(rt);
    }
  }));

test.run();

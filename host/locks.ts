// A registered thread's locks. The blocking acquire is the core's
// lock_acquire (its wait is the core's, detached); the non-blocking one drives
// lock_try_flagged as steps (host/steps.ts), waiting detached on the lock word.
import type { CoreExports } from './core.js';
import { AbortedError, ERRNO, InvalidArgumentError, check } from './errors.js';
import { LOCK_WAITERS, MAX_LOCKS } from './layout.js';
import { checkOptions, lockWaitMs } from './options.js';
import { runAsync, type Steps } from './steps.js';

export interface LockOptions {
  /** < 0 or undefined: wait forever; 0: try once. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** What the lock operations need of the thread that takes them. */
export interface LockingThread {
  readonly core: CoreExports;
  readonly handle: number;
  readonly i32: Int32Array;
  assertCanBlock(what: string, alt: string): void;
  detachedWhile<T>(wait: () => Promise<T>): Promise<T>;
}

/** What a Mutex (host/handles.ts) calls on the thread it is bound to. */
export interface LockUser {
  readonly core: CoreExports;
  readonly handle: number;
  readonly closed: boolean;
  lock(id: number, opts?: LockOptions): void;
  tryLock(id: number): boolean;
  lockAsync(id: number, opts?: { signal?: AbortSignal }): Promise<void>;
  unlock(id: number): void;
  consistent(id: number): void;
}

/** A lock id: an integer in [0, MAX_LOCKS) (0 is the import lock). */
export function checkLockId(id: unknown): number {
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= MAX_LOCKS) {
    throw new InvalidArgumentError(`lock id must be an integer in [0, ${MAX_LOCKS}), got ${String(id)}`);
  }
  return id;
}

// An acquire's result: OK returns; E_OWNER_DEAD throws LockOwnerDeadError
// (the caller holds the lock); anything else its typed error.
function acquired(r: number, id: number, what: string): void {
  check(r, what, 'lock', { lockId: id });
}

export function lock(t: LockingThread, id: number, opts?: LockOptions): void {
  checkLockId(id);
  checkOptions(opts, ['timeoutMs', 'signal'], 'lock');
  const ms = lockWaitMs(opts?.timeoutMs, 'lock timeoutMs');
  if (ms !== 0) t.assertCanBlock('lock', 'lockAsync');
  if (opts?.signal?.aborted) throw new AbortedError(opts.signal.reason);
  acquired(t.core.lock_acquire(t.handle, id, ms), id, ms < 0 ? `lock(${id})` : `lock(${id}, ${ms} ms)`);
}

export function tryLock(t: LockingThread, id: number): boolean {
  checkLockId(id);
  const r = t.core.lock_acquire(t.handle, id, 0);
  if (r === ERRNO.E_WOULD_BLOCK) return false;
  acquired(r, id, `tryLock(${id})`);
  return true;
}

export function unlock(t: LockingThread, id: number): void {
  checkLockId(id);
  check(t.core.lock_release(t.handle, id), `unlock(${id})`, 'lock', { lockId: id });
}

export function consistent(t: LockingThread, id: number): void {
  checkLockId(id);
  check(t.core.lock_consistent(t.handle, id), `consistent(${id})`, 'lock', { lockId: id });
}

/**
 * Acquires without blocking the calling thread; detached while it waits.
 * Each step flags the word; the wait is for the word to change from the
 * flagged value it left.
 */
export async function lockAsync(t: LockingThread, id: number, opts?: { signal?: AbortSignal }): Promise<void> {
  checkLockId(id);
  checkOptions(opts, ['signal'], 'lockAsync');
  const addr = check(t.core.lock_addr(id), `lockAsync(${id})`, 'lock');
  const r = t.core.lock_try_flagged(t.handle, id);
  if (r !== ERRNO.E_WOULD_BLOCK) return acquired(r, id, `lockAsync(${id})`);
  await t.detachedWhile(() => runAsync(lockSteps(t, id, addr, opts?.signal)));
}

function* lockSteps(t: LockingThread, id: number, addr: number, signal?: AbortSignal): Steps<void> {
  for (;;) {
    if (signal?.aborted) throw new AbortedError(signal.reason);
    // Unflagged means the word changed since the step flagged it: step again at once.
    const seen = Atomics.load(t.i32, addr >> 2);
    if (seen & LOCK_WAITERS) yield { i32: t.i32, index: addr >> 2, value: seen, ms: 50 };
    const r = t.core.lock_try_flagged(t.handle, id);
    if (r !== ERRNO.E_WOULD_BLOCK) return acquired(r, id, `lockAsync(${id})`);
  }
}

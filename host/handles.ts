// Small handle objects over the core's shared caches and locks, bound to the
// registered thread that uses them.
import type { CoreExports } from './core.js';
import { ClosedError, InvalidArgumentError, check } from './errors.js';
import { CACHE_ENTRIES } from './layout.js';
import type { LockOptions, LockUser } from './locks.js';

const HIT = 1n << 32n;

/**
 * One descriptor-cache entry: lock-free validated reads, whole-operation
 * writes recorded as the bound thread's (a writer that meets another waits
 * while that writer lives; E_BUSY only when it died mid-write).
 */
export class CacheEntry {
  private readonly core: CoreExports;
  constructor(private readonly thread: LockUser, readonly index: number) {
    this.core = thread.core;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= CACHE_ENTRIES) {
      throw new InvalidArgumentError(`cache index must be an integer in [0, ${CACHE_ENTRIES}), got ${String(index)}`);
    }
  }

  /** The cached value when both versions match (a hit), else undefined (a miss). */
  read(typeVersion: number, metaVersion: number): number | undefined {
    open(this.thread);
    const r = this.core.cache_read(this.index, u32(typeVersion, 'typeVersion'), u32(metaVersion, 'metaVersion'));
    if (r < 0n) check(Number(r), 'cache read', 'cache');
    return r >= HIT ? Number(r - HIT) : undefined;
  }

  write(typeVersion: number, metaVersion: number, value: number): void {
    open(this.thread);
    check(this.core.cache_write(this.thread.handle, this.index, u32(typeVersion, 'typeVersion'), u32(metaVersion, 'metaVersion'), u32(value, 'value')), 'cache write', 'cache');
  }

  invalidate(): void {
    open(this.thread);
    check(this.core.cache_invalidate(this.thread.handle, this.index), 'cache invalidate', 'cache');
  }
}

// A handle dies with the thread it is bound to (ClosedError once its runtime is closed).
function open(thread: LockUser): void {
  if (thread.closed) throw new ClosedError();
}

function u32(v: number, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new InvalidArgumentError(`${name} must be a u32, got ${String(v)}`);
  return v;
}

/** A lock in shared memory, used by one registered thread. */
export class Mutex {
  constructor(private readonly thread: LockUser, readonly id: number) {
    check(thread.core.lock_addr(id), `mutex(${id})`, 'lock', { lockId: id });
  }

  /** Blocks (detached) until acquired; `timeoutMs` bounds the wait; an aborted `signal` refuses to start. */
  lock(opts?: LockOptions): void {
    this.thread.lock(this.id, opts);
  }

  tryLock(): boolean {
    return this.thread.tryLock(this.id);
  }

  /** Never blocks the calling thread; detached while it waits; honours `signal`. */
  lockAsync(opts?: { signal?: AbortSignal }): Promise<void> {
    return this.thread.lockAsync(this.id, opts);
  }

  unlock(): void {
    this.thread.unlock(this.id);
  }

  /** After LockOwnerDeadError: the guarded state is repaired; the lock is usable again. */
  consistent(): void {
    this.thread.consistent(this.id);
  }

  /** The owner's handle, or 0 when unlocked (LockNotRecoverableError once unusable). */
  get owner(): number {
    open(this.thread);
    return check(this.thread.core.lock_owner(this.id), `mutex(${this.id}).owner`, 'lock', { lockId: this.id });
  }
}


// The calling thread's registration: the operations only the owner of a
// handle may perform (docs/ABI.md, "who may call what"). Used by the main
// thread's runtime and by every worker's job context.
//
// Sync and async forms: a blocking attach, lock or start is the core's
// blocking export, whose wait is the core's; its async form drives the
// export's non-blocking twin (try_attach, lock_try_flagged, start_try) with
// waitAsync. The stop, whose loop lives here, is one generator of steps run
// either way (#runBlocking, #runAsync).
import type { CoreExports } from './core.js';
import { ForkClient, type AtForkHooks, type ForkOutcome, type ForkingThread, type WaitpidOptions } from './fork/client.js';
import type { ForkOptions } from './fork/request.js';
import { waitAsync } from './wait.js';
import { DEFAULT_STOP_TIMEOUT_MS, checkTimeoutMs } from './options.js';
import { CacheEntry, Mutex } from './handles.js';
import {
  AbortedError, ClosedError, ERRNO, ForkError, InvalidArgumentError, LockOwnerDeadError, UnsupportedError, check, errorFor,
} from './errors.js';
import {
  IMPORT_LOCK, LOCK_WAITERS, MAX_LOCKS, W_EXCLUSION, W_SUSPEND_EPOCH, STATE_MASK, STATE_NAMES, STOP_BIT, ST_ATTACHED, ST_DEAD,
  ST_FREE, ST_REGISTERING, slotAddr, handleIndex, type ThreadStateName,
} from './layout.js';

const ASYNC_SLICE_MS = 1;
// a blocking stop spins this many times on the suspend epoch before it sleeps
const STOP_SPINS = 2000;

export interface StopOptions {
  /** Deadline for the whole stop, in ms (default: the runtime's stopTimeoutMs, DEFAULT_STOP_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Async variants only: abandons the stop and restores the world. */
  signal?: AbortSignal;
}

/**
 * What the stop algorithm asks of its driver between two of its own steps:
 * wait for the i32 at byte `addr` to leave `value` (at most `ms`; `spin`: a
 * blocking driver spins first), re-attach this thread, or abandon the stop.
 */
type Step =
  | { addr: number; value: number; ms: number; spin?: boolean }
  | { reattach: true }
  | { abandon: true };

export interface LockOptions {
  /** < 0 or undefined: wait forever; 0: try once. */
  timeoutMs?: number;
  signal?: AbortSignal;
}



function checkOptions(opts: unknown, known: readonly string[], what: string): void {
  if (opts === undefined) return;
  if (opts === null || typeof opts !== 'object') throw new InvalidArgumentError(`${what} options must be an object, got ${String(opts)}`);
  for (const k of Object.keys(opts)) {
    if (!known.includes(k)) throw new InvalidArgumentError(`${what}: unknown option '${k}' (known: ${known.join(', ')})`);
  }
  const signal = (opts as { signal?: unknown }).signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new InvalidArgumentError(`${what}: signal must be an AbortSignal`);
}

function checkFn(fn: unknown, what: string): void {
  if (typeof fn !== 'function') throw new InvalidArgumentError(`${what}: expected a function, got ${String(fn)}`);
}

function timeoutOf(opts: StopOptions | undefined): number {
  checkOptions(opts, ['timeoutMs', 'signal'], 'stopTheWorld');
  return Math.floor(checkTimeoutMs(opts?.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS, 'timeoutMs'));
}

const stopBusy = (what: string, timeoutMs: number) =>
  errorFor(ERRNO.E_BUSY, `${what}: another thread held the stop past the deadline of ${timeoutMs} ms`, 'stop');

/** A lock id: an integer in [0, MAX_LOCKS) (0 is the import lock). */
export function checkLockId(id: unknown): number {
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= MAX_LOCKS) {
    throw new InvalidArgumentError(`lock id must be an integer in [0, ${MAX_LOCKS}), got ${String(id)}`);
  }
  return id;
}

function lockTimeoutOf(opts: LockOptions | undefined): number {
  checkOptions(opts, ['timeoutMs', 'signal'], 'lock');
  const t = opts?.timeoutMs ?? -1;
  if (typeof t !== 'number' || Number.isNaN(t) || t > 0x7fffffff) {
    throw new InvalidArgumentError(`lock timeoutMs must be a number < 2^31 (negative: forever), got ${String(t)}`);
  }
  return t < 0 ? -1 : Math.floor(t);
}

export class RegisteredThread implements ForkingThread {
  readonly #i32: Int32Array;
  readonly #forks?: ForkClient;
  #attachedForStop = false;
  #closed = false;
  /**
   * False on a thread that must never block (a page's main thread): every
   * blocking call then throws UnsupportedError naming its async form.
   */
  blockingAllowed = true;

  constructor(
    readonly core: CoreExports,
    readonly memory: WebAssembly.Memory,
    /** This thread's handle: `generation << 8 | slot index`. */
    readonly handle: number,
    /**
     * The main thread idles detached: a stop attaches it for the stop's
     * duration (and startTheWorld detaches it again) only if it was detached.
     */
    private readonly idleDetached = false,
    /** The fork bridge's control block, when the runtime can fork. */
    forkControl?: SharedArrayBuffer,
  ) {
    this.#i32 = new Int32Array(memory.buffer, 0, (memory.buffer.byteLength >> 2));
    if (forkControl) this.#forks = new ForkClient(forkControl, this);
  }

  /** After this, every call on the thread throws ClosedError (its runtime was closed). */
  markClosed(): void {
    this.#closed = true;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #open(): void {
    if (this.#closed) throw new ClosedError();
  }

  get #fork(): ForkClient {
    this.#open();
    if (!this.#forks) throw new ForkError('E_FORK', 'fork is not available: createRuntime({ fork: { continuation } })');
    return this.#forks;
  }

  /**
   * fork(): stops the world, snapshots memory and continues it in a child
   * process (the continuation runs there with result 0). Returns the child's
   * pid. Throws ForkRefusedError (E_AGAIN) when the world cannot be stopped,
   * ForkError on any later failure; the world is resumed on every path.
   */
  fork(opts?: ForkOptions): ForkOutcome {
    this.#open();
    this.#assertCanBlock('fork', 'forkAsync');
    return this.#fork.fork(opts);
  }

  async forkAsync(opts?: ForkOptions): Promise<ForkOutcome> {
    this.#open();
    return this.#fork.forkAsync(opts);
  }

  /**
   * The exit status of child `pid` (its exit code, or 128 + signal), blocking
   * detached until it exits; with `{ noHang: true }` undefined at once while it runs.
   */
  waitpid(pid: number, opts?: WaitpidOptions & { noHang?: false }): number;
  waitpid(pid: number, opts: WaitpidOptions): number | undefined;
  waitpid(pid: number, opts?: WaitpidOptions): number | undefined {
    this.#open();
    if (!opts?.noHang) this.#assertCanBlock('waitpid', 'waitpidAsync');
    return this.#fork.waitpid(pid, opts);
  }

  /** Never blocks the calling thread. */
  waitpidAsync(pid: number, opts?: WaitpidOptions & { noHang?: false }): Promise<number>;
  waitpidAsync(pid: number, opts: WaitpidOptions): Promise<number | undefined>;
  async waitpidAsync(pid: number, opts?: WaitpidOptions): Promise<number | undefined> {
    this.#open();
    return this.#fork.waitpidAsync(pid, opts);
  }

  // ---- what the fork client needs (ForkingThread) ----
  // The import lock guards no user state: taken over from a thread that died
  // holding it (E_OWNER_DEAD), it is marked consistent and the fork goes on.
  lockImport(): void {
    this.#open();
    try {
      this.lock(IMPORT_LOCK);
    } catch (e) {
      this.#importTakenOver(e);
    }
  }
  async lockImportAsync(): Promise<void> {
    this.#open();
    return this.lockAsync(IMPORT_LOCK).catch((e: unknown) => this.#importTakenOver(e));
  }
  #importTakenOver(e: unknown): void {
    if (!(e instanceof LockOwnerDeadError)) throw e;
    this.consistent(IMPORT_LOCK);
  }
  unlockImport(): void {
    this.#open();
    this.unlock(IMPORT_LOCK);
  }
  isLive(h: number): boolean {
    this.#open();
    if (typeof h !== 'number') throw new InvalidArgumentError(`isLive: a handle is a number, got ${String(h)}`);
    const s = this.core.thread_state(h);
    return s >= 0 && (s & STATE_MASK) !== ST_DEAD && (s & STATE_MASK) !== ST_FREE;
  }

  /** Hooks around this thread's forks, as os.register_at_fork. */
  registerAtFork(hooks: AtForkHooks): void {
    this.#open();
    this.#fork.registerAtFork(hooks);
  }

  get index(): number {
    return handleIndex(this.handle);
  }

  /** Current state of this thread's slot. */
  get state(): ThreadStateName {
    this.#open();
    const s = check(this.core.thread_state(this.handle), 'thread_state', 'thread');
    return STATE_NAMES[s & STATE_MASK] ?? 'FREE';
  }

  /** True while this thread is ATTACHED (running guest code). */
  get attached(): boolean {
    this.#open();
    return this.#attachedNow();
  }

  /** True while a stop-the-world asks this (attached) thread to suspend. */
  get stopRequested(): boolean {
    this.#open();
    return (Atomics.load(this.#i32, slotAddr(this.index) >> 2) & STOP_BIT) !== 0;
  }

  /** Safe point: returns true when the thread was suspended and resumed. */
  poll(): boolean {
    this.#open();
    this.#assertCanBlock('poll', 'attachAsync');
    return check(this.core.poll(this.handle), 'poll', 'thread') === 1;
  }

  /** Blocks while the world is stopped; not for a browser main thread. */
  attach(): void {
    this.#open();
    this.#assertCanBlock('attach', 'attachAsync');
    check(this.core.attach(this.handle), 'attach', 'thread');
  }

  detach(): void {
    this.#open();
    check(this.core.detach(this.handle), 'detach', 'thread');
  }

  /** Attaches without blocking the calling thread. */
  async attachAsync(signal?: AbortSignal): Promise<void> {
    this.#open();
    for (;;) {
      if (signal?.aborted) throw new AbortedError(signal.reason);
      const r = this.core.try_attach(this.handle);
      if (r !== ERRNO.E_WOULD_BLOCK) {
        check(r, 'attach', 'thread');
        return;
      }
      const addr = slotAddr(this.index);
      await waitAsync(this.#i32, addr, Atomics.load(this.#i32, addr >> 2), 50);
    }
  }

  /**
   * Runs `fn` detached, so a stop-the-world parks this thread instead of
   * waiting for it. For blocking work (I/O, waits, sleeps). Re-attaches after,
   * also when `fn` throws or its promise rejects.
   */
  allowThreads<T>(fn: () => T): T {
    this.#open();
    checkFn(fn, 'allowThreads');
    this.#assertCanBlock('allowThreads', 'detachedWhile');
    this.detach();
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.attach();
      throw e;
    }
    if (result instanceof Promise) {
      return result.finally(() => this.attach()) as T;
    }
    this.attach();
    return result;
  }

  /** allowThreads when attached; plain call when already detached (the main thread idles detached). */
  allowThreadsIfAttached<T>(fn: () => T): T {
    this.#open();
    checkFn(fn, 'allowThreads');
    return this.attached ? this.allowThreads(fn) : fn();
  }

  /**
   * Stops every other registered thread; blocks until done or the deadline:
   * StopTimeoutError when threads did not reach a safe point, StopBusyError
   * when another thread held the stop — both at the deadline, never later.
   */
  stopTheWorld(opts?: StopOptions): void {
    this.#open();
    this.#assertCanBlock('stopTheWorld', 'stopTheWorldAsync');
    this.#runBlocking(this.#stopSteps('stopTheWorld', timeoutOf(opts)));
  }

  /** Resumes the world this thread stopped. */
  startTheWorld(): void {
    this.#open();
    this.#assertCanBlock('startTheWorld', 'startTheWorldAsync');
    check(this.core.start(this.handle), 'startTheWorld', 'stop');
    this.#afterStart();
  }

  /** Like stopTheWorld, but never blocks the calling thread (Atomics.waitAsync); `signal` abandons the stop. */
  async stopTheWorldAsync(opts?: StopOptions): Promise<void> {
    this.#open();
    const timeoutMs = timeoutOf(opts);
    return this.#runAsync(this.#stopSteps('stopTheWorldAsync', timeoutMs, opts?.signal));
  }

  /**
   * The one stop algorithm, whichever way it waits: a generator of the waits
   * it needs, run by runBlocking (Atomics.wait, blocking attach and abandon)
   * or runAsync (waitAsync, their non-blocking forms). Every wait names a byte
   * address. The stop is taken with the non-blocking begin: a blocking attach
   * or the core's own wait would sleep until another holder's stop ends,
   * however long that is past our deadline.
   */
  *#stopSteps(what: string, timeoutMs: number, signal?: AbortSignal): Generator<Step, void, void> {
    const deadline = performance.now() + timeoutMs;
    const me = slotAddr(handleIndex(this.handle));
    const wasAttached = this.#attachedNow();
    try {
      for (;;) {
        if (signal?.aborted) throw new AbortedError(signal.reason);
        if (!this.#attachedNow() && (wasAttached || this.idleDetached)) {
          // bounded: an attach waits while another thread's stop lasts
          const a = this.core.try_attach(this.handle);
          if (a === ERRNO.E_WOULD_BLOCK) {
            const remaining = deadline - performance.now();
            if (remaining <= 0) throw stopBusy(what, timeoutMs);
            yield { addr: me, value: this.#word(me), ms: Math.min(remaining, 50) };
            continue;
          }
          check(a, what, 'stop');
        }
        const r = this.core.stop_try_begin(this.handle);
        if (r === 0) break;
        if (r !== ERRNO.E_WOULD_BLOCK) check(r, what, 'stop');
        const remaining = deadline - performance.now();
        if (remaining <= 0) throw stopBusy(what, timeoutMs);
        // another requester's turn: wait for it detached, so it can park us
        const holder = this.#word(W_EXCLUSION);
        this.detach();
        if (holder !== 0) yield { addr: W_EXCLUSION, value: holder, ms: Math.min(remaining, 50) };
      }
    } catch (e) {
      if (!wasAttached && this.#attachedNow()) this.detach();
      if (wasAttached && !this.#attachedNow()) yield { reattach: true };
      throw e;
    }
    this.#attachedForStop = !wasAttached;
    for (;;) {
      const epoch = this.#word(W_SUSPEND_EPOCH);
      const pending = check(this.core.stop_step(this.handle), what, 'stop');
      if (pending === 0) return;
      const remaining = deadline - performance.now();
      if (signal?.aborted || remaining <= 0) {
        yield { abandon: true };
        this.#afterStopFailed();
        if (signal?.aborted) throw new AbortedError(signal.reason);
        throw errorFor(ERRNO.E_TIMEOUT, what, 'stop', { stragglers: this.stragglers(), timeoutMs });
      }
      yield { addr: W_SUSPEND_EPOCH, value: epoch, ms: Math.min(remaining, ASYNC_SLICE_MS), spin: true };
    }
  }

  // `attached` without the closed check, for the steps of a call that made it
  #attachedNow(): boolean {
    return (this.core.thread_state(this.handle) & STATE_MASK) === ST_ATTACHED;
  }

  #word(addr: number): number {
    return Atomics.load(this.#i32, addr >> 2);
  }

  // The blocking way to take each step: Atomics.wait (after a short spin
  // where the step asks for one), a blocking attach, the blocking abandon.
  #runBlocking<T>(steps: Generator<Step, T, void>): T {
    for (let r = steps.next(); ; ) {
      if (r.done) return r.value;
      const step = r.value;
      try {
        if ('reattach' in step) this.attach();
        else if ('abandon' in step) check(this.core.stop_abandon(this.handle), 'stop_abandon', 'stop');
        else {
          const i = step.addr >> 2;
          let spins = 0;
          if (step.spin) while (spins < STOP_SPINS && Atomics.load(this.#i32, i) === step.value) spins++;
          if (!step.spin || spins === STOP_SPINS) Atomics.wait(this.#i32, i, step.value, step.ms);
        }
      } catch (e) {
        r = steps.throw(e);
        continue;
      }
      r = steps.next();
    }
  }

  // The same steps without blocking the calling thread: waitAsync, attachAsync, stop_abandon_try.
  async #runAsync<T>(steps: Generator<Step, T, void>): Promise<T> {
    for (let r = steps.next(); ; ) {
      if (r.done) return r.value;
      const step = r.value;
      try {
        if ('reattach' in step) await this.attachAsync();
        else if ('abandon' in step) await this.#releaseAsync((h) => this.core.stop_abandon_try(h), 'stop_abandon_try');
        else await waitAsync(this.#i32, step.addr, step.value, step.ms);
      } catch (e) {
        r = steps.throw(e);
        continue;
      }
      r = steps.next();
    }
  }

  /** Resumes the world this thread stopped, never blocking the calling thread. */
  async startTheWorldAsync(): Promise<void> {
    this.#open();
    await this.#releaseAsync((h) => this.core.start_try(h), 'startTheWorldAsync');
    this.#afterStart();
  }

  // A stop that attached this thread for its duration detaches it again.
  #afterStart(): void {
    if (this.#attachedForStop) {
      this.#attachedForStop = false;
      this.detach();
    }
  }

  // Drives a non-blocking release (start_try, stop_abandon_try) to its end:
  // E_WOULD_BLOCK means a slot is still REGISTERING, so wait for that slot's
  // word to change (bounded) and call again.
  async #releaseAsync(step: (h: number) => number, what: string): Promise<void> {
    for (;;) {
      const r = step(this.handle);
      if (r !== ERRNO.E_WOULD_BLOCK) {
        check(r, what, 'stop');
        return;
      }
      await waitForRegistering(this.#i32, this.core.capacity());
    }
  }

  /** stopTheWorldAsync, `fn` (may be async), startTheWorldAsync, whatever happens. */
  async withWorldStoppedAsync<T>(fn: () => T | Promise<T>, opts?: StopOptions): Promise<T> {
    this.#open();
    checkFn(fn, 'withWorldStoppedAsync');
    await this.stopTheWorldAsync(opts);
    try {
      return await fn();
    } finally {
      await this.startTheWorldAsync();
    }
  }

  /** Stops the world, runs `fn`, and starts the world again whatever happens. */
  withWorldStopped<T>(fn: () => T, opts?: StopOptions): T {
    this.#open();
    checkFn(fn, 'withWorldStopped');
    this.#assertCanBlock('withWorldStopped', 'withWorldStoppedAsync');
    this.stopTheWorld(opts);
    try {
      return fn();
    } finally {
      this.startTheWorld();
    }
  }

  /** Handles named by the last stop timeout. */
  stragglers(): number[] {
    this.#open();
    const n = this.core.straggler_count();
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const h = this.core.straggler(i);
      if (h > 0) out.push(h);
    }
    return out;
  }

  /** A handle on lock `id` bound to this thread. */
  mutex(id: number): Mutex {
    this.#open();
    checkLockId(id);
    return new Mutex(this, id);
  }

  /** A handle on descriptor-cache entry `index`, written as this thread. */
  cache(index: number): CacheEntry {
    this.#open();
    return new CacheEntry(this, index);
  }

  // An acquire's result: OK returns; E_OWNER_DEAD throws LockOwnerDeadError
  // (the caller holds the lock); anything else its typed error.
  #acquired(r: number, id: number, what: string): void {
    check(r, what, 'lock', { lockId: id });
  }

  /**
   * Acquires lock `id`, detached while it waits. Throws LockOwnerDeadError
   * when the previous owner died holding it: the lock is then held by this
   * thread, inconsistent until consistent(id).
   */
  lock(id: number, opts?: LockOptions): void {
    this.#open();
    checkLockId(id);
    const t = lockTimeoutOf(opts);
    if (t !== 0) this.#assertCanBlock('lock', 'lockAsync');
    if (opts?.signal?.aborted) throw new AbortedError(opts.signal.reason);
    const r = this.core.lock_acquire(this.handle, id, t);
    this.#acquired(r, id, t < 0 ? `lock(${id})` : `lock(${id}, ${t} ms)`);
  }

  /** true when acquired (LockOwnerDeadError: acquired from a dead owner). */
  tryLock(id: number): boolean {
    this.#open();
    checkLockId(id);
    const r = this.core.lock_acquire(this.handle, id, 0);
    if (r === ERRNO.E_WOULD_BLOCK) return false;
    this.#acquired(r, id, `tryLock(${id})`);
    return true;
  }

  /** Marks lock `id`, taken over from a dead owner, consistent again (this thread holds it). */
  consistent(id: number): void {
    this.#open();
    checkLockId(id);
    check(this.core.lock_consistent(this.handle, id), `consistent(${id})`, 'lock', { lockId: id });
  }

  /**
   * Acquires without blocking the calling thread (browser main thread);
   * detached while it waits. Each step flags the word; the wait is for the
   * word to change from the flagged value it left.
   */
  async lockAsync(id: number, opts?: { signal?: AbortSignal }): Promise<void> {
    this.#open();
    checkLockId(id);
    checkOptions(opts, ['signal'], 'lockAsync');
    const addr = check(this.core.lock_addr(id), `lockAsync(${id})`, 'lock');
    const r = this.core.lock_try_flagged(this.handle, id);
    if (r !== ERRNO.E_WOULD_BLOCK) {
      this.#acquired(r, id, `lockAsync(${id})`);
      return;
    }
    await this.detachedWhile(async () => {
      for (;;) {
        if (opts?.signal?.aborted) throw new AbortedError(opts.signal.reason);
        // Unflagged means the word changed since the step flagged it: step again at once.
        const seen = Atomics.load(this.#i32, addr >> 2);
        if (seen & LOCK_WAITERS) await waitAsync(this.#i32, addr, seen, 50);
        const r2 = this.core.lock_try_flagged(this.handle, id);
        if (r2 !== ERRNO.E_WOULD_BLOCK) {
          this.#acquired(r2, id, `lockAsync(${id})`);
          return;
        }
      }
    });
  }

  /**
   * Runs an async wait detached, so a stop-the-world parks this thread rather
   * than waiting for it while its event loop waits; re-attaches (without
   * blocking) afterwards if it was attached.
   */
  async detachedWhile<T>(wait: () => Promise<T>): Promise<T> {
    this.#open();
    const attached = this.attached;
    if (attached) this.detach();
    try {
      return await wait();
    } finally {
      if (attached) await this.attachAsync();
    }
  }

  unlock(id: number): void {
    this.#open();
    checkLockId(id);
    check(this.core.lock_release(this.handle, id), `unlock(${id})`, 'lock', { lockId: id });
  }

  #assertCanBlock(what: string, alt: string): void {
    if (!this.blockingAllowed) throw new UnsupportedError(`${what} blocks, and this thread must not block: use ${alt}`);
  }

  #afterStopFailed(): void {
    if (this.#attachedForStop) {
      this.#attachedForStop = false;
      if (this.attached) this.detach();
    }
  }
}

/** Resolves when a REGISTERING slot's word changes, or after a short bound; at once when none registers. */
export async function waitForRegistering(i32: Int32Array, capacity: number): Promise<void> {
  for (let i = 0; i < capacity; i++) {
    const addr = slotAddr(i);
    const w = Atomics.load(i32, addr >> 2);
    if ((w & STATE_MASK) === ST_REGISTERING) return waitAsync(i32, addr, w, 5);
  }
}

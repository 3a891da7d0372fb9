// The calling thread's registration: the operations only the owner of a
// handle may perform (docs/ABI.md, "who may call what"). Used by the main
// thread's runtime and by every worker's job context. Attach and poll live
// here; the stop (host/stop.ts), the locks (host/locks.ts) and fork and
// waitpid (host/forking.ts) are composed in, each with its sync form and its
// async form run by the one step runner (host/steps.ts).
//
// A thread takes the runtime's resolved options once, at registration (the
// main thread from createRuntime, a worker from its init message): a call
// that names no deadline gets the runtime's stopTimeoutMs, on every thread.
import type { CoreExports } from './core.js';
import type { AtForkHooks, ForkOutcome, ForkingThread, WaitpidOptions } from './fork/client.js';
import type { ForkOptions } from './fork/request.js';
import type { ForkControl } from './fork/protocol.js';
import { waitAsync } from './wait.js';
import { DEFAULT_THREAD_OPTIONS, checkOptions, deadlineMs, type ThreadOptions } from './options.js';
import { CacheEntry, Mutex } from './handles.js';
import { AbortedError, ClosedError, ERRNO, InvalidArgumentError, UnsupportedError, check } from './errors.js';
import { IMPORT_LOCK, STATE_MASK, STATE_NAMES, STOP_BIT, ST_ATTACHED, slotAddr, handleIndex, type ThreadStateName } from './layout.js';
import { Stopper, stragglers } from './stop.js';
import * as locks from './locks.js';
import { Forks, isLive, lockImport, lockImportAsync } from './forking.js';

export type { LockOptions } from './locks.js';
export { checkLockId } from './locks.js';

export interface StopOptions {
  /** Deadline for the whole stop, in ms (default: the runtime's stopTimeoutMs, DEFAULT_STOP_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Async variants only: abandons the stop and restores the world. */
  signal?: AbortSignal;
}

function checkFn(fn: unknown, what: string): void {
  if (typeof fn !== 'function') throw new InvalidArgumentError(`${what}: expected a function, got ${String(fn)}`);
}

export class RegisteredThread implements ForkingThread {
  /** The shared memory as i32 words (the core's addresses are byte offsets into it). */
  readonly i32: Int32Array;
  readonly #stopper: Stopper;
  readonly #forks: Forks;
  readonly #options: ThreadOptions;
  #closed = false;
  /**
   * False on a thread that must never block (a page's main thread): every
   * blocking call then throws UnsupportedError naming its async form.
   */
  blockingAllowed = true;
  /**
   * Starts the fork server when this thread's fork finds none (ForkingThread):
   * a worker asks the runtime's thread; the runtime's own thread is given the
   * service's start by the runtime.
   */
  requestForkServer?(): void;

  constructor(
    readonly core: CoreExports,
    readonly memory: WebAssembly.Memory,
    /** This thread's handle: `generation << 8 | slot index`. */
    readonly handle: number,
    /**
     * The main thread idles detached: a stop attaches it for the stop's
     * duration (and startTheWorld detaches it again) only if it was detached.
     */
    readonly idleDetached = false,
    /** The fork bridge's control block, when the runtime can fork. */
    forkControl?: ForkControl,
    /** The runtime's resolved options this thread applies. */
    options: ThreadOptions = DEFAULT_THREAD_OPTIONS,
  ) {
    this.i32 = new Int32Array(memory.buffer, 0, (memory.buffer.byteLength >> 2));
    this.#options = options;
    this.#stopper = new Stopper(this);
    this.#forks = new Forks(this, forkControl, options.stopTimeoutMs);
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

  /** The options this thread applies where a call names none (the runtime's, resolved once). */
  get options(): ThreadOptions {
    this.#open();
    return this.#options;
  }

  /**
   * fork(): stops the world, snapshots memory and continues it in a child
   * process (the continuation runs there with result 0). Returns the child's
   * pid. Throws ForkRefusedError (E_AGAIN) when the world cannot be stopped,
   * ForkError on any later failure; the world is resumed on every path.
   */
  fork(opts?: ForkOptions): ForkOutcome {
    this.#open();
    this.assertCanBlock('fork', 'forkAsync');
    return this.#forks.fork(opts);
  }

  async forkAsync(opts?: ForkOptions): Promise<ForkOutcome> {
    this.#open();
    return this.#forks.forkAsync(opts);
  }

  /**
   * The exit status of child `pid` (its exit code, or 128 + signal), blocking
   * detached until it exits; with `{ noHang: true }` undefined at once while it runs.
   */
  waitpid(pid: number, opts?: WaitpidOptions & { noHang?: false }): number;
  waitpid(pid: number, opts: WaitpidOptions): number | undefined;
  waitpid(pid: number, opts?: WaitpidOptions): number | undefined {
    this.#open();
    if (!opts?.noHang) this.assertCanBlock('waitpid', 'waitpidAsync');
    return this.#forks.waitpid(pid, opts);
  }

  /** Never blocks the calling thread. */
  waitpidAsync(pid: number, opts?: WaitpidOptions & { noHang?: false }): Promise<number>;
  waitpidAsync(pid: number, opts: WaitpidOptions): Promise<number | undefined>;
  async waitpidAsync(pid: number, opts?: WaitpidOptions): Promise<number | undefined> {
    this.#open();
    return this.#forks.waitpidAsync(pid, opts);
  }

  /** The first child to exit, as wait(): its pid and status (as waitpid's), blocking detached; noHang: undefined while all run. */
  waitAny(opts?: WaitpidOptions): { pid: number; status: number } | undefined {
    this.#open();
    if (!opts?.noHang) this.assertCanBlock('waitAny', 'waitpidAsync');
    return this.#forks.waitAny(opts);
  }

  /** Ends running child `pid` with signal 15 or 9 (waitpid's status: 128 + it); signal 0 only checks it is a child. */
  kill(pid: number, signal: number): void {
    this.#open();
    this.assertCanBlock('kill', 'waitpidAsync');
    this.#forks.kill(pid, signal);
  }

  /** Hooks around this thread's forks, as os.register_at_fork. */
  registerAtFork(hooks: AtForkHooks): void {
    this.#open();
    this.#forks.registerAtFork(hooks);
  }

  // ---- what the fork client needs (ForkingThread) ----
  lockImport(): void {
    this.#open();
    lockImport(this);
  }
  async lockImportAsync(): Promise<void> {
    this.#open();
    return lockImportAsync(this);
  }
  unlockImport(): void {
    this.#open();
    this.unlock(IMPORT_LOCK);
  }
  isLive(h: number): boolean {
    this.#open();
    return isLive(this.core, h);
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
    return (this.core.thread_state(this.handle) & STATE_MASK) === ST_ATTACHED;
  }

  /** True while a stop-the-world asks this (attached) thread to suspend. */
  get stopRequested(): boolean {
    this.#open();
    return (Atomics.load(this.i32, slotAddr(this.index) >> 2) & STOP_BIT) !== 0;
  }

  /** Safe point: returns true when the thread was suspended and resumed. */
  poll(): boolean {
    this.#open();
    this.assertCanBlock('poll', 'attachAsync');
    return check(this.core.poll(this.handle), 'poll', 'thread') === 1;
  }

  /** Blocks while the world is stopped; not for a browser main thread. */
  attach(): void {
    this.#open();
    this.assertCanBlock('attach', 'attachAsync');
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
      await waitAsync(this.i32, addr, Atomics.load(this.i32, addr >> 2), 50);
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
    this.assertCanBlock('allowThreads', 'detachedWhile');
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

  // ---- stop-the-world (host/stop.ts) ----

  #timeoutOf(opts: StopOptions | undefined): number {
    checkOptions(opts, ['timeoutMs', 'signal'], 'stopTheWorld');
    return opts?.timeoutMs === undefined ? this.#options.stopTimeoutMs : deadlineMs(opts.timeoutMs, 'timeoutMs');
  }

  /**
   * Stops every other registered thread; blocks until done or the deadline:
   * StopTimeoutError when threads did not reach a safe point, StopBusyError
   * when another thread held the stop — both decided at the deadline.
   */
  stopTheWorld(opts?: StopOptions): void {
    this.#open();
    this.assertCanBlock('stopTheWorld', 'stopTheWorldAsync');
    this.#stopper.stop('stopTheWorld', this.#timeoutOf(opts));
  }

  /** Resumes the world this thread stopped. */
  startTheWorld(): void {
    this.#open();
    this.assertCanBlock('startTheWorld', 'startTheWorldAsync');
    this.#stopper.start('startTheWorld');
  }

  /** Like stopTheWorld, but never blocks the calling thread (Atomics.waitAsync); `signal` abandons the stop. */
  async stopTheWorldAsync(opts?: StopOptions): Promise<void> {
    this.#open();
    return this.#stopper.stopAsync('stopTheWorldAsync', this.#timeoutOf(opts), opts?.signal);
  }

  /** Resumes the world this thread stopped, never blocking the calling thread. */
  async startTheWorldAsync(): Promise<void> {
    this.#open();
    return this.#stopper.startAsync('startTheWorldAsync');
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
    this.assertCanBlock('withWorldStopped', 'withWorldStoppedAsync');
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
    return stragglers(this.core);
  }

  // ---- locks (host/locks.ts) ----

  /** A handle on lock `id` bound to this thread. */
  mutex(id: number): Mutex {
    this.#open();
    locks.checkLockId(id);
    return new Mutex(this, id);
  }

  /** A handle on descriptor-cache entry `index`, written as this thread. */
  cache(index: number): CacheEntry {
    this.#open();
    return new CacheEntry(this, index);
  }

  /**
   * Acquires lock `id`, detached while it waits. Throws LockOwnerDeadError
   * when the previous owner died holding it: the lock is then held by this
   * thread, inconsistent until consistent(id).
   */
  lock(id: number, opts?: locks.LockOptions): void {
    this.#open();
    locks.lock(this, id, opts);
  }

  /** true when acquired (LockOwnerDeadError: acquired from a dead owner). */
  tryLock(id: number): boolean {
    this.#open();
    return locks.tryLock(this, id);
  }

  /** Marks lock `id`, taken over from a dead owner, consistent again (this thread holds it). */
  consistent(id: number): void {
    this.#open();
    locks.consistent(this, id);
  }

  /** Acquires without blocking the calling thread (browser main thread); detached while it waits. */
  async lockAsync(id: number, opts?: { signal?: AbortSignal }): Promise<void> {
    this.#open();
    return locks.lockAsync(this, id, opts);
  }

  unlock(id: number): void {
    this.#open();
    locks.unlock(this, id);
  }

  /** UnsupportedError naming `alt` on a thread that must not block. */
  assertCanBlock(what: string, alt: string): void {
    this.#open();
    if (!this.blockingAllowed) throw new UnsupportedError(`${what} blocks, and this thread must not block: use ${alt}`);
  }
}

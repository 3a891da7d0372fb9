// The runtime: composes the shared memory, the compiled core, the main
// thread's registration, the workers and the fork service. Platform-neutral:
// platform specifics come in through a Platform (host/platform.ts).
import { createSharedMemory, instantiateCore, type CoreExports } from './core.js';
import { ClosedError, ERRNO, ForkError, InvalidArgumentError, UnsupportedError, check, errorFor } from './errors.js';
import {
  ABI_VERSION, H_HOST_CLOSING, LAYOUT_END, LOCK_MUTEX, LOCK_RECURSIVE, IMPORT_LOCK, W_EXCLUSION, handleIndex, slotAddr,
} from './layout.js';
import { useWaitRelays, waitAsync } from './wait.js';
import { forkServiceFor, type ForkService, type ForkStats } from './fork/service.js';
import type { ForkOptions } from './fork/request.js';
import type { AtForkHooks, ForkOutcome, WaitpidOptions } from './fork/client.js';
import type { Platform } from './platform.js';
import {
  moduleUrl, cloneable, optionsOfChild, resolveCloseOptions, resolveRuntimeOptions, threadOptionsOf,
  type CloseOptions, type ForkChildOptions, type ResolvedOptions, type RuntimeOptions,
} from './options.js';
import { RegisteredThread, type StopOptions } from './thread.js';
import { checkLockId } from './locks.js';
import { bindLinked, compileLinked, linked, type LinkedModules } from './modules.js';
import { WorkerThread, markWorkerDead } from './worker-thread.js';
import { readStats, readThreadStates, type StwStats, type ThreadInfo } from './stats.js';
import type { CacheEntry, Mutex } from './handles.js';
import { compileWasm } from './compile.js';

export { WorkerThread } from './worker-thread.js';
export type { StwStats, ThreadInfo } from './stats.js';
export type { ForkStats } from './fork/service.js';

export type { ForkConfig, RuntimeOptions, ResolvedOptions, CloseOptions } from './options.js';

export class Runtime {
  readonly main: RegisteredThread;
  readonly #workers = new Set<WorkerThread>();
  readonly #spawnListeners: Array<(w: WorkerThread) => void> = [];
  readonly #i32: Int32Array;
  readonly #fork?: ForkService;
  #closed = false;

  private constructor(
    readonly platform: Platform,
    readonly module: WebAssembly.Module,
    readonly memory: WebAssembly.Memory,
    readonly core: CoreExports,
    /** interp.wasm and diag.wasm, compiled once and linked per thread (host/modules.ts). */
    readonly linkedModules: LinkedModules,
    handle: number,
    private readonly options: ResolvedOptions,
    // The main thread idles detached; a fork child's main thread is the
    // forking thread continuing, attached as it was.
    mainIdlesDetached = true,
    // A fork child's fork service and linked instances, made before its snapshot arrived.
    prepared?: { fork: ForkService },
  ) {
    if (prepared) this.#fork = prepared.fork;
    else {
      if (options.fork) this.#fork = forkServiceFor(platform, memory, { ...options, fork: options.fork });
      bindLinked(core, memory, linkedModules);
    }
    this.main = new RegisteredThread(core, memory, handle, mainIdlesDetached, this.#fork?.control, threadOptionsOf(options));
    this.main.blockingAllowed = platform.mainThreadCanBlock;
    // a fork made on this thread through `main` (an interpreter's, a C module's) starts the server as rt.fork does
    this.main.requestForkServer = () => this.#fork?.ensure();
    this.#i32 = new Int32Array(memory.buffer, 0, LAYOUT_END >> 2);
  }

  static async create(platform: Platform, given: RuntimeOptions = {}): Promise<Runtime> {
    const options = await resolveRuntimeOptions(given, platform);
    if (platform.startWaitRelay) useWaitRelays(() => platform.startWaitRelay!());
    const memory = createSharedMemory(options.initialPages, options.maximumPages);
    const build = options.wasm;
    const module = platform.compileWasm ? await platform.compileWasm(build) : await compileWasm(await platform.loadWasm(build));
    const linkedModules = await compileLinked(platform, build, options.linked);
    const core = await instantiateCore(module, memory);
    if (core.abi_version() !== ABI_VERSION) {
      throw errorFor(ERRNO.E_CORRUPT, `core ABI ${core.abi_version()}, host expects ${ABI_VERSION}`, 'thread');
    }
    check(core.init(options.capacity), 'init', 'thread');
    const handle = check(core.register(platform.mainThreadId), 'register main thread', 'thread');
    const rt = new Runtime(platform, module, memory, core, linkedModules, handle, options);
    try {
      // no fork server yet: the first fork starts it (a worker's asks this thread), so a runtime that never forks pays nothing for fork
      await Promise.all(Array.from({ length: options.threads }, () => rt.spawn().registered()));
    } catch (e) {
      await rt.close();
      throw e;
    }
    return rt;
  }

  /**
   * The child side of fork(): `memory` holds the parent's snapshot, taken
   * while `handle` held a stopped world. Only that thread lives on: it becomes
   * this runtime's main thread, ATTACHED. Its own fork service starts on first
   * use (a fork or a spawned worker): most children never fork.
   */
  static async adoptForkChild(
    platform: Platform, module: WebAssembly.Module, memory: WebAssembly.Memory, handle: number, child: ForkChildOptions, maximumPages: number,
    /** The core already instantiated over `memory` (a pooled child does it while it waits). */
    instantiated?: CoreExports,
    /** interp.wasm and diag.wasm, compiled while the child waited (else compiled here). */
    linkedModules?: LinkedModules,
  ): Promise<Runtime> {
    const core = instantiated ?? (await instantiateCore(module, memory));
    const o = optionsOfChild(child, maximumPages);
    linkedModules ??= await compileLinked(platform, o.wasm, o.linked);
    return Runtime.prepareForkChild(platform, module, memory, core, child, maximumPages, linkedModules).adopt(handle);
  }

  /**
   * adoptForkChild in two steps, so that a pooled child does all but the
   * snapshot's own work before it is asked: `prepareForkChild` (the core
   * already instantiated over `memory`) instantiates the linked modules and
   * makes the fork service (it starts on first use); `adopt(handle)`, once
   * `memory` holds the snapshot, runs after_fork_child and makes the runtime.
   * The linked instances' data segments are overwritten by the restore like
   * the core's. `warmWorker(job)` starts a worker for the child's first job (`job`) while it waits.
   */
  static prepareForkChild(
    platform: Platform, module: WebAssembly.Module, memory: WebAssembly.Memory, core: CoreExports, child: ForkChildOptions,
    maximumPages: number, linkedModules: LinkedModules,
  ): { adopt(handle: number): Runtime; warmWorker(job: string): void } {
    const options = optionsOfChild(child, maximumPages);
    bindLinked(core, memory, linkedModules);
    for (const name of Object.keys(linkedModules) as (keyof LinkedModules)[]) linked(core, name);
    const fork = forkServiceFor(platform, memory, options);
    return {
      adopt(handle) {
        check(core.after_fork_child(handle, platform.mainThreadId), 'after_fork_child', 'thread');
        return new Runtime(platform, module, memory, core, linkedModules, handle, options, false, { fork });
      },
      warmWorker(job) {
        platform.warmWorker?.({ module, modules: linkedModules, memory, job, data: undefined, forkControl: fork.control, options: threadOptionsOf(options) });
      },
    };
  }

  #open(): void {
    if (this.#closed) throw new ClosedError();
  }

  // `start`: the fork server is started (on the first fork, or a warm-up asked for)
  #forkService(start = true): ForkService {
    this.#open();
    if (!this.#fork) throw new ForkError('E_FORK', 'fork is not available: createRuntime({ fork: { continuation } })');
    if (start) this.#fork.ensure();
    return this.#fork;
  }

  /** fork() from the main thread: the child's pid (see RegisteredThread.fork). */
  fork(opts?: ForkOptions): ForkOutcome {
    this.#assertBlockingAllowed('fork');
    this.#forkService();
    return this.main.fork(opts);
  }

  async forkAsync(opts?: ForkOptions): Promise<ForkOutcome> {
    this.#forkService();
    return this.main.forkAsync(opts);
  }

  /** Child `pid`'s exit status (exit code, or 128 + signal), blocking; `{ noHang: true }`: undefined while it runs. */
  waitpid(pid: number, opts?: WaitpidOptions & { noHang?: false }): number;
  waitpid(pid: number, opts: WaitpidOptions): number | undefined;
  waitpid(pid: number, opts?: WaitpidOptions): number | undefined {
    this.#assertBlockingAllowed('waitpid');
    this.#open();
    return this.main.waitpid(pid, opts ?? {});
  }

  /** Never blocks the calling thread. */
  waitpidAsync(pid: number, opts?: WaitpidOptions & { noHang?: false }): Promise<number>;
  waitpidAsync(pid: number, opts: WaitpidOptions): Promise<number | undefined>;
  async waitpidAsync(pid: number, opts?: WaitpidOptions): Promise<number | undefined> {
    this.#open();
    return this.main.waitpidAsync(pid, opts ?? {});
  }

  registerAtFork(hooks: AtForkHooks): void {
    this.#open();
    this.main.registerAtFork(hooks);
  }

  /** Resolves when the fork server's warm pool holds `n` children (default: the configured size). */
  async forkPoolReady(n?: number, timeoutMs?: number): Promise<void> {
    const service = this.#forkService();
    // the resolved fork option (there is one: #forkService throws without it); the deadline's default is the service's
    return service.poolReady(n ?? this.options.fork!.pool, timeoutMs);
  }

  /**
   * The fork server's counters: forks, cold forks (a child spawned for the
   * fork because the warm pool was empty; each ForkOutcome.timings.cold says
   * it of one fork) and the warm pool's size now.
   */
  forkStats(): ForkStats {
    return this.#forkService(false).stats();
  }

  /** Pids of forked children still running. */
  runningChildren(): number[] {
    this.#open();
    return this.#fork?.running() ?? [];
  }

  /** In a fork child: close the runtime and end the process with `code`. */
  async exit(code = 0): Promise<never> {
    if (!Number.isInteger(code) || code < 0 || code > 255) throw new InvalidArgumentError(`exit code must be 0…255, got ${String(code)}`);
    if (!this.platform.exit) throw new UnsupportedError('exit needs a platform with processes');
    await this.close();
    return this.platform.exit(code);
  }

  /** The main thread's handle. */
  get handle(): number {
    return this.main.handle;
  }

  get workers(): WorkerThread[] {
    return [...this.#workers];
  }

  /**
   * Calls `listener` with every worker spawned from now on, those a job asked for included (a worker that dies
   * at once is still seen: `workers` would not list it any more).
   */
  onSpawn(listener: (w: WorkerThread) => void): void {
    this.#open();
    this.#spawnListeners.push(listener);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Starts a worker running `job` (default: the runtime's job). */
  spawn(job: string | URL | undefined = this.options.job, data: unknown = this.options.jobData): WorkerThread {
    this.#open();
    if (job === undefined) throw new InvalidArgumentError('spawn needs a job');
    const url = moduleUrl(job, 'spawn(job)');
    cloneable(data, 'spawn(data)');
    const pw = this.platform.spawnWorker({
      module: this.module, modules: this.linkedModules, memory: this.memory, job: url.href, data, forkControl: this.#fork?.control,
      options: threadOptionsOf(this.options),
    });
    const t = new WorkerThread(pw, (w) => this.#onWorkerExit(w), (j, d) => {
      // a worker's request: its arguments were checked there; a failure here must not end the main thread
      try {
        if (!this.#closed) this.spawn(j, d);
      } catch {
        /* refused: the requesting job sees no new worker */
      }
    }, () => this.#fork?.ensure());
    this.#workers.add(t);
    for (const l of this.#spawnListeners) l(t);
    return t;
  }

  #onWorkerExit(w: WorkerThread): void {
    this.#workers.delete(w);
    markWorkerDead(this.core, this.memory, w.threadId);
  }

  stopTheWorld(opts?: StopOptions): void {
    this.#assertBlockingAllowed('stopTheWorld');
    this.main.stopTheWorld(opts);
  }

  startTheWorld(): void {
    this.#open();
    this.main.startTheWorld();
  }

  async stopTheWorldAsync(opts?: StopOptions): Promise<void> {
    this.#open();
    return this.main.stopTheWorldAsync(opts);
  }

  /** Never blocks the calling thread (a page's main thread uses this form). */
  async startTheWorldAsync(): Promise<void> {
    this.#open();
    return this.main.startTheWorldAsync();
  }

  /** stopTheWorldAsync, `fn` (may be async), startTheWorldAsync, whatever happens. */
  async withWorldStoppedAsync<T>(fn: () => T | Promise<T>, opts?: StopOptions): Promise<T> {
    this.#open();
    return this.main.withWorldStoppedAsync(fn, opts);
  }

  /** Stops the world, runs `fn`, starts the world (also when `fn` throws). */
  withWorldStopped<T>(fn: () => T, opts?: StopOptions): T {
    this.#assertBlockingAllowed('withWorldStopped');
    return this.main.withWorldStopped(fn, opts);
  }

  /** Runs blocking work detached. The main thread idles detached already. */
  allowThreads<T>(fn: () => T): T {
    this.#open();
    return this.main.allowThreadsIfAttached(fn);
  }

  /** STW statistics, read through the stats seqlock without stopping anyone. */
  stats(): StwStats {
    this.#open();
    return readStats(this.memory);
  }

  resetStats(): void {
    this.#open();
    check(this.core.stats_reset(), 'resetStats', 'stats');
  }

  /** Every registered slot, for thread dumps. */
  threadStates(): ThreadInfo[] {
    this.#open();
    return readThreadStates(this.core, this.memory);
  }

  /** Creates a lock in shared memory; returns its id. Use it through mutex(id) (workers: ctx.mutex(id)). */
  createLock(kind: 'mutex' | 'recursive' = 'mutex'): number {
    this.#open();
    if (kind !== 'mutex' && kind !== 'recursive') {
      throw new InvalidArgumentError(`lock kind must be 'mutex' or 'recursive', got ${String(kind)}`);
    }
    return check(this.core.lock_create(kind === 'mutex' ? LOCK_MUTEX : LOCK_RECURSIVE), 'createLock', 'lock');
  }

  /** A handle on lock `id` used by the main thread. */
  mutex(id: number): Mutex {
    this.#open();
    return this.main.mutex(id);
  }

  /** A handle on descriptor-cache entry `index`. */
  cache(index: number): CacheEntry {
    this.#open();
    return this.main.cache(index);
  }

  destroyLock(id: number): void {
    this.#open();
    checkLockId(id);
    check(this.core.lock_destroy(id), `destroyLock(${id})`, 'lock', { lockId: id });
  }

  get importLock(): number {
    return IMPORT_LOCK;
  }

  /**
   * Asks jobs to finish (ctx.closing), waits up to `graceMs`, terminates the
   * rest, then ends the fork service: running children are waited for or
   * killed (`children`), and reaped either way. Then every call on the runtime and on
   * every object it handed out throws ClosedError, but the few host/closed.ts lists.
   */
  async close(opts: number | CloseOptions = {}): Promise<void> {
    const { graceMs, children: mode } = await resolveCloseOptions(opts);
    if (this.#closed) return;
    this.#closed = true;
    Atomics.store(this.#i32, H_HOST_CLOSING >> 2, 1);
    const workers = [...this.#workers];
    const finished = Promise.allSettled(workers.map((w) => w.join()));
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([finished, new Promise((r) => { timer = setTimeout(r, graceMs); })]);
    clearTimeout(timer);
    await Promise.allSettled(workers.filter((w) => !w.exited).map((w) => w.terminate()));
    await this.#fork?.shutdown(mode);
    // Non-blocking forms throughout: close may run on a page's main thread.
    if (Atomics.load(this.#i32, W_EXCLUSION >> 2) === this.main.handle) await this.main.startTheWorldAsync();
    if (this.main.attached) this.main.detach();
    const h = this.main.handle;
    const word = slotAddr(handleIndex(h));
    while (this.core.unregister_try(h) === ERRNO.E_WOULD_BLOCK) {
      // suspended by a stop another thread holds: wait for it to resume us
      await waitAsync(this.#i32, word, Atomics.load(this.#i32, word >> 2), 50);
    }
    this.main.markClosed();
    this.platform.releaseWorkers?.(this.memory);
  }

  /** Same as close: it never blocks the calling thread. */
  closeAsync(opts?: number | CloseOptions): Promise<void> {
    return this.close(opts);
  }

  #assertBlockingAllowed(what: string): void {
    this.#open();
    if (!this.platform.mainThreadCanBlock) {
      throw new UnsupportedError(`${what} blocks, and this thread must not block: use ${what}Async`);
    }
  }
}


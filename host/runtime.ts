// The runtime: one object that owns the shared memory, the compiled module,
// the main thread's registration and the workers. Platform-neutral: all
// platform specifics come in through a Platform (host/platform.ts).
import { DEFAULT_MAXIMUM_PAGES, createSharedMemory, instantiateCore, type CoreExports } from './core.js';
import {
  ClosedError, ERRNO, ForkError, InvalidArgumentError, UnsupportedError, WorkerError, check, errorFor,
} from './errors.js';
import {
  ABI_VERSION, H_HOST_CLOSING, HIST_BUCKETS, MAX_SLOTS, LOCK_MUTEX, LOCK_RECURSIVE, IMPORT_LOCK,
  S_SEQ, S_STOPS, S_TIMEOUTS, S_LAST_NS, S_TOTAL_NS, S_MAX_NS, S_HIST,
  W_EXCLUSION, W_FORCED_PARKS, W_SELF_SUSPENDS, W_ATTACH_WAITS, STATE_MASK, STATE_NAMES, SL_TID, ST_FREE, ST_DEAD,
  LAYOUT_END, STOP_BIT, slotAddr, handleOf, type ThreadStateName,
} from './layout.js';
import {
  CTL_POOL_READY, CTL_RESULT, CTL_SERVER_READY, CTL_SHUTDOWN, CTL_STATE, FORK_E_SPAWN, ST_DONE, ST_REQUEST, ST_TAKEN, createControl, writeMessage,
  type AtForkHooks, type ForkOptions, type ForkOutcome,
} from './fork-bridge.js';
import type { ForkChildOptions, Platform, PlatformWorker, WorkerMessage } from './platform.js';
import { validateRuntimeOptions } from './options.js';
import { RegisteredThread, checkLockId, type StopOptions } from './thread.js';
import { bindLinked, compileLinked, type LinkedModules } from './modules.js';
import { waitAsync } from './wait.js';
import type { CacheEntry, Mutex } from './handles.js';

export interface ForkConfig {
  /** Module whose export `exportName` (default: default export) continues the forking thread in the child. */
  continuation: string | URL;
  exportName?: string;
  /** Pre-spawned children kept warm (default 1; 0 spawns on demand). */
  pool?: number;
  /** How a snapshot reaches the child: a temp file (default; never slower in the README's measurement) or IPC. */
  transfer?: 'ipc' | 'file';
  /** Executable for children (default: this Node); a testing aid for spawn failures. */
  execPath?: string;
}

const FORK_SERVER_READY_MS = 60_000;
const STATS_READ_TRIES = 1 << 20;

export interface RuntimeOptions {
  /** Workers to start with `job` (default 0). */
  threads?: number;
  /** Registry slots, 1…256 (default 64). The main thread takes one. */
  capacity?: number;
  /** Module specifier (URL or file URL string) whose default export each worker runs. */
  job?: string | URL;
  /** Passed to every job as `ctx.data` (structured-cloneable). */
  jobData?: unknown;
  /** Which core build to load, or a URL to a .wasm (default 'release'). */
  wasm?: 'release' | 'debug' | URL;
  /** Default deadline of stopTheWorld, in ms (default 1000). */
  stopTimeoutMs?: number;
  /** Shared memory size in 64 KiB pages (defaults 4 and 256). */
  initialPages?: number;
  maximumPages?: number;
  /** Enables fork() (host/fork-bridge.ts); needs a platform with processes (Node). */
  fork?: ForkConfig;
}

export interface StwStats {
  stops: number;
  timeouts: number;
  lastNs: number;
  totalNs: number;
  maxNs: number;
  meanNs: number;
  /** hist[b] counts stops whose latency was in [2^b, 2^(b+1)) ns. */
  hist: number[];
  forcedParks: number;
  selfSuspends: number;
  attachWaits: number;
}

export interface ThreadInfo {
  index: number;
  handle: number;
  threadId: number;
  state: ThreadStateName;
  stopRequested: boolean;
}

/** A worker running a job. */
export class WorkerThread {
  #registered: Promise<number>;
  #result: Promise<unknown>;
  handle = 0;
  exited = false;

  constructor(readonly worker: PlatformWorker, onExit: (t: WorkerThread) => void, onSpawn: (job: string, data: unknown) => void) {
    let resolveReg!: (h: number) => void;
    let rejectReg!: (e: unknown) => void;
    let resolveRes!: (v: unknown) => void;
    let rejectRes!: (e: unknown) => void;
    this.#registered = new Promise((res, rej) => { resolveReg = res; rejectReg = rej; });
    this.#result = new Promise((res, rej) => { resolveRes = res; rejectRes = rej; });
    // Either promise may be left unobserved by the caller.
    this.#registered.catch(() => {});
    this.#result.catch(() => {});
    let settled = false;
    worker.onMessage((m: WorkerMessage) => {
      if (m.type === 'registered') {
        this.handle = m.handle;
        resolveReg(m.handle);
      } else if (m.type === 'spawn') {
        onSpawn(m.job, m.data);
      } else if (m.type === 'done') {
        settled = true;
        resolveRes(m.value);
      } else if (m.type === 'failed') {
        settled = true;
        const err = new WorkerError(`worker ${worker.threadId} failed: ${m.error.name}: ${m.error.message}`, m.error);
        rejectReg(err);
        rejectRes(err);
      }
    });
    worker.onError((e) => {
      const err = new WorkerError(`worker ${worker.threadId} crashed: ${e instanceof Error ? e.message : String(e)}`, e);
      settled = true;
      rejectReg(err);
      rejectRes(err);
    });
    worker.onExit((code) => {
      this.exited = true;
      onExit(this);
      if (!settled) {
        const err = new WorkerError(`worker ${worker.threadId} exited with code ${code} before its job finished`);
        rejectReg(err);
        rejectRes(err);
      }
    });
  }

  get threadId(): number {
    return this.worker.threadId;
  }
  /** Resolves with the handle once the worker has registered. */
  registered(): Promise<number> {
    return this.#registered;
  }
  /** Resolves with the job's return value; rejects with a WorkerError. */
  join(): Promise<unknown> {
    return this.#result;
  }
  terminate(): Promise<unknown> {
    return this.worker.terminate();
  }
}

// spawn's arguments, checked before a worker exists.
function checkSpawnArgs(job: unknown, data: unknown): void {
  if (!(job instanceof URL) && typeof job !== 'string') throw new InvalidArgumentError(`spawn: job must be a URL or a URL string, got ${String(job)}`);
  if (!URL.canParse(String(job))) throw new InvalidArgumentError(`spawn: job is not a URL: ${String(job)}`);
  try {
    structuredClone(data);
  } catch (e) {
    throw new InvalidArgumentError(`spawn: data must be structured-cloneable: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export class Runtime {
  readonly main: RegisteredThread;
  readonly #workers = new Set<WorkerThread>();
  readonly #i32: Int32Array;
  readonly #i64: BigInt64Array;
  readonly #forkControl?: SharedArrayBuffer;
  #forkServer?: PlatformWorker;
  #forkServerFailure: unknown;
  #closed = false;

  private constructor(
    readonly platform: Platform,
    readonly module: WebAssembly.Module,
    readonly memory: WebAssembly.Memory,
    readonly core: CoreExports,
    /** The compiled modules linked against the core (interp.wasm, diag.wasm), shared with every worker. */
    readonly linkedModules: LinkedModules,
    handle: number,
    private readonly options: RuntimeOptions,
    // The main thread idles detached; a fork child's main thread is the
    // forking thread continuing, attached as it was.
    mainIdlesDetached = true,
  ) {
    if (options.fork) this.#forkControl = createControl();
    bindLinked(core, memory, linkedModules);
    this.main = new RegisteredThread(core, memory, handle, mainIdlesDetached, this.#forkControl);
    this.#i32 = new Int32Array(memory.buffer, 0, LAYOUT_END >> 2);
    this.#i64 = new BigInt64Array(memory.buffer, 0, LAYOUT_END >> 3);
  }

  static async create(platform: Platform, options: RuntimeOptions = {}): Promise<Runtime> {
    await validateRuntimeOptions(options, platform);
    const capacity = options.capacity ?? 64;
    const threads = options.threads ?? 0;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_SLOTS) {
      throw new InvalidArgumentError(`capacity must be an integer in [1, ${MAX_SLOTS}], got ${capacity}`);
    }
    if (!Number.isInteger(threads) || threads < 0 || threads >= capacity) {
      throw new InvalidArgumentError(`threads must be an integer in [0, capacity - 1], got ${threads}`);
    }
    if (threads > 0 && options.job === undefined) throw new InvalidArgumentError('threads > 0 needs a job');
    const memory = createSharedMemory(options.initialPages, options.maximumPages);
    const module = await WebAssembly.compile(await platform.loadWasm(options.wasm ?? 'release'));
    const linkedModules = await compileLinked(platform, options.wasm ?? 'release');
    const core = await instantiateCore(module, memory);
    if (core.abi_version() !== ABI_VERSION) {
      throw errorFor(ERRNO.E_CORRUPT, `core ABI ${core.abi_version()}, host expects ${ABI_VERSION}`);
    }
    check(core.init(capacity), 'init', 'thread');
    const handle = check(core.register(platform.mainThreadId), 'register main thread', 'thread');
    const rt = new Runtime(platform, module, memory, core, linkedModules, handle, options);
    try {
      if (options.fork) await rt.startForkServer();
      await Promise.all(Array.from({ length: threads }, () => rt.spawn().registered()));
    } catch (e) {
      await rt.close();
      throw e;
    }
    return rt;
  }

  /**
   * The child side of fork(): `memory` holds the parent's snapshot, taken
   * while `handle` held a stopped world. Only that thread lives on: it becomes
   * this runtime's main thread, ATTACHED.
   */
  static async adoptForkChild(
    platform: Platform, module: WebAssembly.Module, memory: WebAssembly.Memory, handle: number, child: ForkChildOptions,
    linkedModules?: LinkedModules,
  ): Promise<Runtime> {
    const core = await instantiateCore(module, memory);
    const build = child.wasm === 'release' || child.wasm === 'debug' ? child.wasm : new URL(child.wasm);
    linkedModules ??= await compileLinked(platform, build);
    check(core.after_fork_child(handle, platform.mainThreadId), 'after_fork_child');
    const options: RuntimeOptions = {
      job: child.job,
      jobData: child.jobData,
      stopTimeoutMs: child.stopTimeoutMs,
      wasm: child.wasm === 'release' || child.wasm === 'debug' ? child.wasm : new URL(child.wasm),
      // No warm pool in a child: most children never fork, and a pooled
      // grandchild would cost a process start per fork.
      fork: { continuation: child.continuation, exportName: child.exportName, pool: 0, transfer: child.transfer },
      maximumPages: memory.buffer.byteLength / 65536,
    };
    // The child's own fork server starts on first use (a fork or a spawned
    // worker): most children never fork, and should start and exit fast.
    return new Runtime(platform, module, memory, core, linkedModules, handle, options, false);
  }

  private async startForkServer(): Promise<void> {
    this.ensureForkServer();
    const ctl = new Int32Array(this.#forkControl!);
    const end = performance.now() + FORK_SERVER_READY_MS;
    while (Atomics.load(ctl, CTL_SERVER_READY) !== 1) {
      if (this.#forkServerFailure || performance.now() > end) {
        const f = this.#forkServerFailure;
        throw new WorkerError(`the fork server did not start: ${f instanceof Error ? f.message : 'timeout'}`, f);
      }
      await waitAsync(ctl, CTL_SERVER_READY * 4, 0, 50);
    }
  }

  // Starts the fork server thread if the runtime forks and it is not running;
  // readiness is signalled in the control block (ForkClient waits for it).
  private ensureForkServer(): void {
    const cfg = this.options.fork;
    if (!cfg || !this.#forkControl || this.#forkServer) return;
    if (!this.platform.startForkServer) throw new UnsupportedError('fork needs a platform with processes');
    const pool = cfg.pool ?? 1;
    if (!Number.isInteger(pool) || pool < 0 || pool > 16) throw new InvalidArgumentError(`fork.pool must be 0…16, got ${pool}`);
    const wasm = this.options.wasm ?? 'release';
    const server = this.platform.startForkServer({
      memory: this.memory,
      control: this.#forkControl,
      maximumPages: this.options.maximumPages ?? DEFAULT_MAXIMUM_PAGES,
      execPath: cfg.execPath,
      child: {
        continuation: String(cfg.continuation),
        exportName: cfg.exportName,
        wasm: String(wasm),
        pool,
        transfer: cfg.transfer ?? 'file',
        job: this.options.job === undefined ? undefined : String(this.options.job),
        jobData: this.options.jobData,
        stopTimeoutMs: this.options.stopTimeoutMs,
      },
    });
    this.#forkServer = server;
    const ctl = new Int32Array(this.#forkControl);
    server.onError((e) => { this.#forkServerFailure = e; });
    // A server gone mid-request must not leave a forking thread waiting.
    server.onExit(() => {
      Atomics.store(ctl, CTL_SERVER_READY, 0);
      const s = Atomics.load(ctl, CTL_STATE);
      if (s === ST_REQUEST || s === ST_TAKEN) {
        writeMessage(ctl, 'the fork server exited');
        Atomics.store(ctl, CTL_RESULT, FORK_E_SPAWN);
        Atomics.store(ctl, CTL_STATE, ST_DONE);
        Atomics.notify(ctl, CTL_STATE);
      }
    });
  }

  // Asks the server to reap its pool and exit; terminates it if it does not.
  private async stopForkServer(): Promise<void> {
    const server = this.#forkServer;
    if (!server || !this.#forkControl) return;
    const ctl = new Int32Array(this.#forkControl);
    const exited = new Promise<void>((resolve) => server.onExit(() => resolve()));
    Atomics.store(ctl, CTL_SHUTDOWN, 1);
    Atomics.notify(ctl, CTL_STATE);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([exited, new Promise((r) => { timer = setTimeout(r, 10_000); })]);
    clearTimeout(timer);
    await server.terminate();
  }

  /** fork() from the main thread: the child's pid (see RegisteredThread.fork). */
  fork(opts?: ForkOptions): ForkOutcome {
    this.assertBlockingAllowed('fork');
    this.ensureForkServer();
    return this.main.fork({ stopTimeoutMs: this.options.stopTimeoutMs, ...opts });
  }

  async forkAsync(opts?: ForkOptions): Promise<ForkOutcome> {
    this.ensureForkServer();
    return this.main.forkAsync({ stopTimeoutMs: this.options.stopTimeoutMs, ...opts });
  }

  /** Resolves with child `pid`'s exit status (exit code, or 128 + signal). */
  waitpid(pid: number): Promise<number> {
    return this.main.waitpid(pid);
  }

  waitpidSync(pid: number): number {
    this.assertBlockingAllowed('waitpidSync');
    return this.main.waitpidSync(pid);
  }

  registerAtFork(hooks: AtForkHooks): void {
    this.main.registerAtFork(hooks);
  }

  /** Resolves when the fork server's warm pool holds `n` children (default: its size). */
  async forkPoolReady(n = this.options.fork?.pool ?? 1, timeoutMs = 30_000): Promise<void> {
    if (!this.#forkControl) throw new ForkError('E_FORK', 'fork is not configured');
    const ctl = new Int32Array(this.#forkControl);
    const end = performance.now() + timeoutMs;
    for (;;) {
      const have = Atomics.load(ctl, CTL_POOL_READY);
      if (have >= n) return;
      if (performance.now() > end) throw new ForkError('E_FORK', `fork pool holds ${have} of ${n} children after ${timeoutMs} ms`);
      await waitAsync(ctl, CTL_POOL_READY * 4, have, 50);
    }
  }

  /** In a fork child: close the runtime and end the process with `code`. */
  async exit(code = 0): Promise<never> {
    if (!Number.isInteger(code) || code < 0 || code > 255) throw new InvalidArgumentError(`exit code must be 0…255, got ${code}`);
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

  get closed(): boolean {
    return this.#closed;
  }

  /** Starts a worker running `job` (default: the runtime's job). */
  spawn(job: string | URL | undefined = this.options.job, data: unknown = this.options.jobData): WorkerThread {
    if (this.#closed) throw new ClosedError();
    if (job === undefined) throw new InvalidArgumentError('spawn needs a job');
    checkSpawnArgs(job, data);
    this.ensureForkServer(); // a worker may fork
    const pw = this.platform.spawnWorker({
      module: this.module, modules: this.linkedModules, memory: this.memory, job: String(job), data, forkControl: this.#forkControl,
    });
    const t = new WorkerThread(pw, (w) => this.onWorkerExit(w), (j, d) => {
      // a worker's request: its arguments were checked there; a failure here must not end the main thread
      try {
        if (!this.#closed) this.spawn(j, d);
      } catch {
        /* refused: the requesting job sees no new worker */
      }
    });
    this.#workers.add(t);
    return t;
  }

  // A worker gone while still registered must not hold up any stop: mark its
  // slot DEAD. Found by thread id, so this also covers a worker that died
  // before it could report its handle.
  private onWorkerExit(w: WorkerThread): void {
    this.#workers.delete(w);
    const cap = this.core.capacity();
    for (let i = 0; i < cap; i++) {
      const word = Atomics.load(this.#i32, slotAddr(i) >> 2);
      const st = word & STATE_MASK;
      if (st === ST_FREE || st === ST_DEAD) continue;
      if (Atomics.load(this.#i32, (slotAddr(i) + SL_TID) >> 2) !== w.threadId) continue;
      this.core.mark_dead(handleOf(word, i));
    }
  }

  stopTheWorld(opts?: StopOptions): void {
    this.assertBlockingAllowed('stopTheWorld');
    this.main.stopTheWorld({ timeoutMs: this.options.stopTimeoutMs, ...opts });
  }

  startTheWorld(): void {
    this.main.startTheWorld();
  }

  stopTheWorldAsync(opts?: StopOptions): Promise<void> {
    return this.main.stopTheWorldAsync({ timeoutMs: this.options.stopTimeoutMs, ...opts });
  }

  /** Stops the world, runs `fn`, starts the world (also when `fn` throws). */
  withWorldStopped<T>(fn: () => T, opts?: StopOptions): T {
    this.assertBlockingAllowed('withWorldStopped');
    return this.main.withWorldStopped(fn, { timeoutMs: this.options.stopTimeoutMs, ...opts });
  }

  /** Runs blocking work detached. The main thread idles detached already. */
  allowThreads<T>(fn: () => T): T {
    return this.main.allowThreadsIfAttached(fn);
  }

  /** STW statistics, read through the stats seqlock without stopping anyone. */
  stats(): StwStats {
    const i32 = this.#i32;
    const i64 = this.#i64;
    // bounded like the module's readers: a writer killed mid-write leaves the sequence odd
    for (let tries = 0; ; tries++) {
      if (tries === STATS_READ_TRIES) throw errorFor(ERRNO.E_BUSY, 'stats: the stats record stayed mid-write', 'stats');
      const s1 = Atomics.load(i32, S_SEQ >> 2);
      if (s1 & 1) continue;
      const n = (addr: number) => Number(Atomics.load(i64, addr >> 3));
      const stops = n(S_STOPS);
      const totalNs = n(S_TOTAL_NS);
      const snap = {
        stops,
        timeouts: n(S_TIMEOUTS),
        lastNs: n(S_LAST_NS),
        totalNs,
        maxNs: n(S_MAX_NS),
        meanNs: stops ? totalNs / stops : 0,
        hist: Array.from({ length: HIST_BUCKETS }, (_, b) => Atomics.load(i32, (S_HIST >> 2) + b) >>> 0),
      };
      if (Atomics.load(i32, S_SEQ >> 2) !== s1) continue;
      return {
        ...snap,
        forcedParks: n(W_FORCED_PARKS),
        selfSuspends: n(W_SELF_SUSPENDS),
        attachWaits: n(W_ATTACH_WAITS),
      };
    }
  }

  resetStats(): void {
    check(this.core.stats_reset(), 'resetStats', 'stats');
  }

  /** Every registered slot, for thread dumps. */
  threadStates(): ThreadInfo[] {
    const out: ThreadInfo[] = [];
    const cap = this.core.capacity();
    for (let i = 0; i < cap; i++) {
      const word = Atomics.load(this.#i32, slotAddr(i) >> 2) >>> 0;
      if ((word & STATE_MASK) === ST_FREE) continue;
      out.push({
        index: i,
        handle: handleOf(word, i),
        threadId: Atomics.load(this.#i32, (slotAddr(i) + SL_TID) >> 2),
        state: STATE_NAMES[word & STATE_MASK] ?? 'FREE',
        stopRequested: (word & STOP_BIT) !== 0,
      });
    }
    return out;
  }

  /** Creates a lock in shared memory; returns its id. */
  createLock(kind: 'mutex' | 'recursive' = 'mutex'): number {
    if (kind !== 'mutex' && kind !== 'recursive') {
      throw new InvalidArgumentError(`lock kind must be 'mutex' or 'recursive', got ${String(kind)}`);
    }
    return check(this.core.lock_create(kind === 'mutex' ? LOCK_MUTEX : LOCK_RECURSIVE), 'createLock', 'lock');
  }

  /** A handle on lock `id` used by the main thread (workers: ctx.mutex(id)). */
  mutex(id: number): Mutex {
    return this.main.mutex(id);
  }

  /** A handle on descriptor-cache entry `index`. */
  cache(index: number): CacheEntry {
    return this.main.cache(index);
  }

  destroyLock(id: number): void {
    checkLockId(id);
    check(this.core.lock_destroy(id), `destroyLock(${id})`, 'lock');
  }

  get importLock(): number {
    return IMPORT_LOCK;
  }

  /** Asks jobs to finish (ctx.closing), waits up to `graceMs`, then terminates the rest. */
  async close(graceMs = 2000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    Atomics.store(this.#i32, H_HOST_CLOSING >> 2, 1);
    const workers = [...this.#workers];
    const finished = Promise.allSettled(workers.map((w) => w.join()));
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([finished, new Promise((r) => { timer = setTimeout(r, graceMs); })]);
    clearTimeout(timer);
    await Promise.allSettled(workers.filter((w) => !w.exited).map((w) => w.terminate()));
    await this.stopForkServer();
    if (this.core.is_stopped() && Atomics.load(this.#i32, W_EXCLUSION >> 2) === this.main.handle) this.main.startTheWorld();
    if (this.main.attached) this.main.detach();
    this.core.unregister(this.main.handle);
  }

  private assertBlockingAllowed(what: string): void {
    if (!this.platform.mainThreadCanBlock) {
      throw new UnsupportedError(`${what} blocks; on this platform use ${what}Async`);
    }
  }
}

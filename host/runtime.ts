// The runtime: one object that owns the shared memory, the compiled module,
// the main thread's registration and the workers. Platform-neutral: all
// platform specifics come in through a Platform (host/platform.ts).
import { createSharedMemory, instantiateCore, type CoreExports } from './core.js';
import {
  ClosedError, ERRNO, InvalidArgumentError, WorkerError, check, errorFor,
} from './errors.js';
import {
  ABI_VERSION, H_HOST_CLOSING, HIST_BUCKETS, MAX_SLOTS, LOCK_MUTEX, LOCK_RECURSIVE, IMPORT_LOCK,
  S_SEQ, S_STOPS, S_TIMEOUTS, S_LAST_NS, S_TOTAL_NS, S_MAX_NS, S_HIST,
  W_FORCED_PARKS, W_SELF_SUSPENDS, W_ATTACH_WAITS, STATE_MASK, STATE_NAMES, SL_TID, ST_FREE, ST_DEAD,
  slotAddr, type ThreadStateName,
} from './layout.js';
import type { Platform, PlatformWorker, WorkerMessage } from './platform.js';
import { RegisteredThread, type StopOptions } from './thread.js';

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

  constructor(readonly worker: PlatformWorker, onExit: (t: WorkerThread) => void) {
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

export class Runtime {
  readonly main: RegisteredThread;
  readonly #workers = new Set<WorkerThread>();
  readonly #i32: Int32Array;
  readonly #i64: BigInt64Array;
  #closed = false;

  private constructor(
    readonly platform: Platform,
    readonly module: WebAssembly.Module,
    readonly memory: WebAssembly.Memory,
    readonly core: CoreExports,
    handle: number,
    private readonly options: RuntimeOptions,
  ) {
    this.main = new RegisteredThread(core, memory, handle, true);
    this.#i32 = new Int32Array(memory.buffer, 0, 0x19000 >> 2);
    this.#i64 = new BigInt64Array(memory.buffer, 0, 0x19000 >> 3);
  }

  static async create(platform: Platform, options: RuntimeOptions = {}): Promise<Runtime> {
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
    const core = await instantiateCore(module, memory);
    if (core.abi_version() !== ABI_VERSION) {
      throw errorFor(ERRNO.E_CORRUPT, `core ABI ${core.abi_version()}, host expects ${ABI_VERSION}`);
    }
    check(core.init(capacity), 'init');
    const handle = check(core.register(platform.mainThreadId), 'register main thread');
    const rt = new Runtime(platform, module, memory, core, handle, options);
    try {
      await Promise.all(Array.from({ length: threads }, () => rt.spawn().registered()));
    } catch (e) {
      await rt.close();
      throw e;
    }
    return rt;
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
    const pw = this.platform.spawnWorker({ module: this.module, memory: this.memory, job: String(job), data });
    const t = new WorkerThread(pw, (w) => this.onWorkerExit(w));
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
      this.core.mark_dead((word & 0xffffff00) | i);
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
    this.stopTheWorld(opts);
    try {
      return fn();
    } finally {
      this.startTheWorld();
    }
  }

  /** Runs blocking work detached. The main thread idles detached already. */
  allowThreads<T>(fn: () => T): T {
    return this.main.state === 'ATTACHED' ? this.main.allowThreads(fn) : fn();
  }

  /** STW statistics, read through the stats seqlock without stopping anyone. */
  stats(): StwStats {
    const i32 = this.#i32;
    const i64 = this.#i64;
    for (;;) {
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
    check(this.core.stats_reset(), 'resetStats');
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
        handle: (word & 0xffffff00) | i,
        threadId: Atomics.load(this.#i32, (slotAddr(i) + SL_TID) >> 2),
        state: STATE_NAMES[word & STATE_MASK] ?? 'FREE',
        stopRequested: (word & 0x10) !== 0,
      });
    }
    return out;
  }

  /** Creates a lock in shared memory; returns its id. */
  createLock(kind: 'mutex' | 'recursive' = 'mutex'): number {
    return check(this.core.lock_create(kind === 'mutex' ? LOCK_MUTEX : LOCK_RECURSIVE), 'createLock');
  }

  destroyLock(id: number): void {
    check(this.core.lock_destroy(id), `destroyLock(${id})`);
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
    if (this.core.is_stopped() && Atomics.load(this.#i32, 0x440 >> 2) === this.main.handle) this.main.startTheWorld();
    if (this.main.state === 'ATTACHED') this.main.detach();
    this.core.unregister(this.main.handle);
  }

  private assertBlockingAllowed(what: string): void {
    if (!this.platform.mainThreadCanBlock) {
      throw new InvalidArgumentError(`${what} blocks; on this platform use ${what}Async`);
    }
  }
}

// Started workers kept ready (docs/EMBEDDING.md, "The worker pool"). Starting
// a worker costs tens of milliseconds (a new isolate, the entry's modules, the
// job's modules); a thread layer that starts short-lived threads pays it at
// every start. So a worker whose job has finished is not ended: it waits for
// the next job of the same runtime, idle on its event loop (no CPU), and is
// retired after WORKER_IDLE_MS without one. The pool grows with demand (no
// idle worker: a new one) and shrinks when idle; nothing is started before
// the first job asks. Compiled modules travel in each job's WorkerInit, so a
// reused worker instantiates them without compiling.
//
// A runtime's second job on (its first may be a process's whole life) that
// finds no idle worker also starts a spare: a worker that only loads the job's
// modules and waits. A thread joined and another started at once would
// otherwise find its predecessor's worker still finishing and start cold. A
// job that finds no idle worker but a spare still starting is queued on the
// spare, which has a head start on any new worker.
//
// A recycled fork carrier (docs/FORK.md, "Recycled children") runs one
// child's runtime after another over the same memory: while it holds that
// memory (`hold`), the closed runtime's idle workers are not retired but wait,
// with no deadline, for the next runtime's jobs: the next child's first thread
// is a job posted to a running worker, its modules imported and its core
// instance made, and only the program's instantiation is the child's own. A
// held memory starts no spares: its kept workers are its spares, and a worker
// starting while the carrier hands itself back would cost the next fork CPU.
// A worker a job leaves something running in (a timer, say) takes no other
// job: it reports itself spent and ends.
//
// Both ends of the protocol are here. The owner (the thread that spawns
// workers) hands a job to an idle worker with a TASK message; the worker runs
// it as a fresh worker would (runWorker: register, the job, unregister) and
// its 'done' or 'failed' ends the job; RETIRE ends the worker. The runtime
// sees each job as one PlatformWorker (a Job below) that exits when the job
// ends, so its bookkeeping (joins, a dead slot marked by thread id, close) is
// the same as with a worker per job.
import type { PlatformWorker, WorkerInit, WorkerMessage } from './platform.js';
import { runWorker, type WorkerKeep } from './worker.js';

/** How long a worker waits for another job before it is retired. */
export const WORKER_IDLE_MS = 5000;

/** Owner → pooled worker: run this job next. */
export const TASK_MESSAGE = '__wtc_pool_task';
/** Owner → pooled worker: end. */
export const RETIRE_MESSAGE = '__wtc_pool_retire';

type PoolMessage = { type: typeof TASK_MESSAGE; init: WorkerInit } | { type: typeof RETIRE_MESSAGE };

/** How many idle workers a held memory keeps for its next runtime: its first thread's, and one for a thread it starts. */
export const HELD_WORKERS = 2;

/** A spare's first "job": load the job's modules, then wait (servePool). */
interface SpareInit extends WorkerInit { spare?: boolean }

/** What the pool needs of a platform's worker beyond PlatformWorker. */
export interface PoolableWorker extends PlatformWorker {
  post(message: unknown): void;
  /** Whether the worker keeps its process alive (Node: ref/unref); an idle one must not. */
  keepAlive?(on: boolean): void;
}

type Listeners = { message: ((m: WorkerMessage) => void)[]; error: ((e: unknown) => void)[]; exit: ((code: number) => void)[] };

/** One job on a pooled worker, as the runtime sees it: it exits when the job ends. */
class Job implements PlatformWorker {
  readonly listeners: Listeners = { message: [], error: [], exit: [] };
  ended = false;
  constructor(private readonly worker: Pooled) {}
  get threadId(): number {
    return this.worker.threadId;
  }
  onMessage(cb: (msg: WorkerMessage) => void): void {
    this.listeners.message.push(cb);
  }
  onError(cb: (err: unknown) => void): void {
    this.listeners.error.push(cb);
  }
  onExit(cb: (code: number) => void): void {
    this.listeners.exit.push(cb);
  }
  /** Ends the worker itself: a job cannot be stopped alone. */
  terminate(): Promise<unknown> {
    return this.worker.terminate();
  }
  end(code: number): void {
    if (this.ended) return;
    this.ended = true;
    for (const cb of this.listeners.exit) cb(code);
  }
}

class Pooled {
  /** The job running, then the ones posted behind it (a spare claimed while it starts). */
  readonly jobs: Job[] = [];
  exited = false;
  #failed = false;
  #timer?: ReturnType<typeof setTimeout>;
  readonly threadId: number;

  constructor(readonly worker: PoolableWorker, private readonly pool: WorkerPool, readonly key: object) {
    this.threadId = worker.threadId;
    worker.onMessage((m) => {
      const job = this.jobs[0];
      if (!job) return;
      for (const cb of job.listeners.message) cb(m);
      if (m.type !== 'done' && m.type !== 'failed') return;
      this.jobs.shift();
      job.end(0);
      // a job that failed may have left its worker in any state, a spent one something running: it takes no other
      if (m.type === 'failed' || m.spent) this.#failed = true;
      if (this.jobs.length) return;
      if (this.#failed) this.retire();
      else this.pool.idle(this);
    });
    worker.onError((e) => {
      for (const cb of this.jobs[0]?.listeners.error ?? []) cb(e);
    });
    worker.onExit((code) => {
      this.exited = true;
      this.#cancelTimer();
      this.pool.forget(this);
      for (const job of this.jobs.splice(0)) job.end(code);
    });
  }

  run(init: WorkerInit, first: boolean, keepAlive = true): Job {
    this.#cancelTimer();
    this.worker.keepAlive?.(keepAlive);
    const job = new Job(this);
    this.jobs.push(job);
    if (!first) this.worker.post({ type: TASK_MESSAGE, init } satisfies PoolMessage);
    return job;
  }

  /** `ms` absent: no deadline. */
  rest(ms?: number): void {
    this.#cancelTimer();
    this.worker.keepAlive?.(false);
    if (ms === undefined) return;
    this.#timer = setTimeout(() => this.retire(), ms);
    (this.#timer as { unref?: () => void }).unref?.(); // an idle worker never keeps a process alive
  }

  retire(): void {
    this.#cancelTimer();
    this.pool.forget(this);
    if (!this.exited) this.worker.post({ type: RETIRE_MESSAGE } satisfies PoolMessage);
  }

  terminate(): Promise<unknown> {
    this.pool.forget(this);
    return this.worker.terminate();
  }

  #cancelTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * The owner's side: `spawn(init)` gives the job to an idle worker of the same
 * runtime (same memory) or starts one with `start`. A platform adapter's
 * spawnWorker is this; `release(memory)` retires a closed runtime's workers.
 */
export class WorkerPool {
  readonly #idle = new Map<object, Pooled[]>();
  /** Runtimes (by memory) that asked for a job before, and the spares starting for them. */
  readonly #seen = new WeakSet<object>();
  readonly #sparesStarting = new WeakMap<object, Pooled>();
  /** Runtimes closed: a worker that finishes for one of them retires. */
  readonly #released = new WeakSet<object>();
  /** Every worker not yet exited, by runtime (memory): what `exited` waits for. */
  readonly #live = new Map<object, Set<Pooled>>();
  /** Workers started by `warm`, idle with no deadline until a job claims them. */
  readonly #held = new WeakSet<Pooled>();
  /** Memories whose closed runtime's idle workers wait for the next runtime over them (`hold`). */
  readonly #holding = new WeakSet<object>();
  /** Called whenever a worker goes idle or exits: what `settled` waits on. */
  readonly #changed = new Set<() => void>();

  constructor(
    /** Starts a worker that runs `init` first (its entry serves the pool: servePool). */
    private readonly start: (init: WorkerInit) => PoolableWorker,
    private readonly idleMs = WORKER_IDLE_MS,
  ) {}

  spawn(init: WorkerInit): PlatformWorker {
    const key = init.memory;
    // a closed runtime spawns nothing: a job for a released memory is a new runtime's over it (a recycled fork carrier's)
    this.#released.delete(key);
    const idle = this.#idle.get(key);
    let reused = idle?.pop();
    if (!reused) {
      reused = this.#sparesStarting.get(key); // it runs the job once it has started
      this.#sparesStarting.delete(key);
    }
    if (!idle?.length && this.#seen.has(key) && !this.#sparesStarting.get(key) && !this.#holding.has(key)) this.#startSpare(init);
    this.#seen.add(key);
    if (reused) {
      this.#held.delete(reused); // claimed: idle again after this job, it has the usual deadline
      return reused.run(init, false);
    }
    const w = this.#track(new Pooled(this.start({ ...init, pooled: true }), this, key));
    return w.run(init, true);
  }

  /**
   * Starts a spare for `init.memory`'s runtime now, unless one is idle or starting: a worker its first job will find
   * started (a fork child's first thread, started while its carrier waits for the child). It waits for that job
   * with no idle deadline, and never keeps the process alive.
   */
  warm(init: WorkerInit): void {
    const key = init.memory;
    this.#released.delete(key);
    if (this.#idle.get(key)?.length || this.#sparesStarting.get(key)) return;
    this.#startSpare(init);
    this.#held.add(this.#sparesStarting.get(key)!);
  }

  /**
   * `on`: the runtime over `memory` will be followed by another over the same memory (a recycled fork carrier's next
   * child): its idle workers have no deadline, and `release` keeps up to HELD_WORKERS of them for that runtime's
   * jobs. `on` false: they are retired (the memory is dropped).
   */
  hold(memory: WebAssembly.Memory, on: boolean): void {
    if (on) {
      this.#holding.add(memory);
      return;
    }
    this.#holding.delete(memory);
    this.release(memory);
  }

  #track(w: Pooled): Pooled {
    const live = this.#live.get(w.key) ?? new Set();
    live.add(w);
    this.#live.set(w.key, live);
    w.worker.onExit(() => {
      live.delete(w);
      if (!live.size && this.#live.get(w.key) === live) this.#live.delete(w.key);
      this.#notify();
    });
    return w;
  }

  // Nobody waits for a spare, so it never keeps the process alive.
  #startSpare(init: WorkerInit): void {
    const key = init.memory;
    const w = this.#track(new Pooled(this.start({ ...init, pooled: true, spare: true } as SpareInit), this, key));
    this.#sparesStarting.set(key, w);
    w.run(init, true, false).onExit(() => {
      if (this.#sparesStarting.get(key) === w) this.#sparesStarting.delete(key);
    });
  }

  /** Workers idle now, for `memory`'s runtime (all runtimes when absent). */
  idleCount(memory?: WebAssembly.Memory): number {
    if (memory) return this.#idle.get(memory)?.length ?? 0;
    let n = 0;
    for (const list of this.#idle.values()) n += list.length;
    return n;
  }

  /**
   * Retires the idle workers of `memory`'s runtime (it closed: no job of it will come), but those a `hold` keeps for
   * the next runtime over `memory`.
   */
  release(memory: WebAssembly.Memory): void {
    const idle = [...(this.#idle.get(memory) ?? [])];
    if (this.#holding.has(memory)) {
      // the most recently idle stay: the next runtime pops from the end
      for (const w of idle.slice(0, -HELD_WORKERS)) w.retire();
      return;
    }
    this.#released.add(memory);
    for (const w of idle) w.retire();
  }

  /**
   * Resolves true once every worker `memory`'s runtime started has exited or is idle (after `release`: the idle ones
   * retire, but those held for the next runtime), or false after `timeoutMs`. A fork child's carrier waits for it
   * before it serves the next child: a thread's worker still running a job is never handed on.
   */
  settled(memory: WebAssembly.Memory, timeoutMs: number): Promise<boolean> {
    const done = () => [...(this.#live.get(memory) ?? [])].every((w) => w.exited || this.#idle.get(memory)?.includes(w));
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        this.#changed.delete(check);
        resolve(ok);
      };
      const check = () => { if (done()) finish(true); };
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.#changed.add(check);
    });
  }

  #notify(): void {
    for (const f of [...this.#changed]) f();
  }

  idle(w: Pooled): void {
    if (this.#released.has(w.key)) {
      w.retire();
      return;
    }
    const list = this.#idle.get(w.key) ?? [];
    list.push(w);
    this.#idle.set(w.key, list);
    w.rest(this.#held.has(w) || this.#holding.has(w.key) ? undefined : this.idleMs);
    this.#notify();
  }

  forget(w: Pooled): void {
    const list = this.#idle.get(w.key);
    if (!list) return;
    const i = list.indexOf(w);
    if (i >= 0) list.splice(i, 1);
    if (!list.length) this.#idle.delete(w.key);
  }
}

/**
 * What a job left running on its worker's event loop: `watch()` before the job returns a check that, after it,
 * names what is there that was not before (a timer, a socket), or undefined.
 */
export type JobResidue = () => () => string | undefined;

/**
 * A worker entry's side: runs `first`, then, when it came from a pool, each
 * job the pool hands over, until it is retired. `next` resolves with the next
 * message the owner sent (the entry queues them from the start, so none is lost
 * between two jobs). Resolves true when a job left something running
 * (`residue`): its 'done' said the worker is spent, the pool retires it, and
 * the entry ends the worker, which that something would keep alive.
 */
export async function servePool(
  first: WorkerInit, threadId: number, post: (m: WorkerMessage) => void, next: () => Promise<unknown>, residue?: JobResidue,
): Promise<boolean> {
  let init: WorkerInit | undefined = first;
  // this worker serves one memory's runtimes (one after another over it, for a recycled fork carrier): its instances serve every job
  const keep: WorkerKeep = {};
  while (init) {
    let spent = false;
    if ((init as SpareInit).spare) {
      await import(init.job).catch(() => {}); // a failure shows when a job runs here
      post({ type: 'done', value: undefined });
    } else {
      const left = residue?.();
      await runWorker(init, threadId, (m) => {
        if (m.type === 'done' && left?.() !== undefined) spent = true;
        post(spent && m.type === 'done' ? { ...m, spent } : m);
      }, keep);
    }
    if (!first.pooled || spent) return spent;
    const m = (await next()) as PoolMessage | undefined;
    init = m?.type === TASK_MESSAGE ? m.init : undefined;
  }
  return false;
}

/** A queue of messages with a promise for the next one (an entry's `next` for servePool). */
export function messageQueue(): { push(m: unknown): void; next(): Promise<unknown> } {
  const queued: unknown[] = [];
  let waiting: ((m: unknown) => void) | undefined;
  return {
    push(m) {
      if (waiting) {
        const w = waiting;
        waiting = undefined;
        w(m);
      } else queued.push(m);
    },
    next() {
      if (queued.length) return Promise.resolve(queued.shift());
      return new Promise((resolve) => { waiting = resolve; });
    },
  };
}

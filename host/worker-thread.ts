// A worker running a job, as the runtime sees it: registration, result, exit.
import { ERRNO, WorkerError } from './errors.js';
import { waitForRegistering } from './stop.js';
import type { CoreExports } from './core.js';
import { LAYOUT_END, SL_TID, STATE_MASK, ST_DEAD, ST_FREE, handleOf, slotAddr } from './layout.js';
import type { PlatformWorker, WorkerMessage } from './platform.js';

/**
 * A worker gone while still registered must not hold up any stop: its slot
 * is marked DEAD (which also abandons a stop it held, and wakes the waiters of
 * the locks it held: the next acquirer takes each over with E_OWNER_DEAD; the
 * fork path marks the import lock consistent itself). Found by thread id, so
 * this also covers a worker that died before it could report its handle.
 * Never blocks the calling thread (it may be a page's main thread): when the
 * dead thread held the stop and a slot is still REGISTERING, mark_dead_try
 * leaves the rest of the release to calls made as that slot settles.
 */
export function markWorkerDead(core: CoreExports, memory: WebAssembly.Memory, threadId: number): void {
  const i32 = new Int32Array(memory.buffer, 0, LAYOUT_END >> 2);
  const cap = core.capacity();
  for (let i = 0; i < cap; i++) {
    const word = Atomics.load(i32, slotAddr(i) >> 2);
    const st = word & STATE_MASK;
    if (st === ST_FREE || st === ST_DEAD) continue;
    if (Atomics.load(i32, (slotAddr(i) + SL_TID) >> 2) !== threadId) continue;
    const h = handleOf(word, i);
    if (core.mark_dead_try(h) === ERRNO.E_WOULD_BLOCK) void finishMarkDead(core, i32, h);
  }
}

async function finishMarkDead(core: CoreExports, i32: Int32Array, h: number): Promise<void> {
  while (core.mark_dead_try(h) === ERRNO.E_WOULD_BLOCK) await waitForRegistering(i32, core.capacity());
}

/** A worker running a job. */
export class WorkerThread {
  #registered: Promise<number>;
  #result: Promise<unknown>;
  handle = 0;
  exited = false;

  constructor(
    readonly worker: PlatformWorker, onExit: (t: WorkerThread) => void, onSpawn: (job: string, data: unknown) => void,
    onForkServer: () => void = () => {},
  ) {
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
      } else if (m.type === 'fork-server') {
        onForkServer();
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

// A worker's life, platform-neutral: instantiate the core over the shared
// memory, register, run the job attached, then detach and unregister.
import { instantiateCore, type CoreExports } from './core.js';
import { bindLinked } from './modules.js';
import { InvalidArgumentError, check } from './errors.js';
import { moduleUrl, type ThreadOptions } from './options.js';
import { H_HOST_CLOSING, STATE_MASK, ST_ATTACHED } from './layout.js';
import { RegisteredThread } from './thread.js';
import type { WorkerInit, WorkerMessage } from './platform.js';
import type { ForkControl } from './fork/protocol.js';

/** What a job receives: its own registered thread plus the shared pieces. */
export class ThreadContext extends RegisteredThread {
  readonly #closing: Int32Array;
  constructor(
    core: CoreExports, memory: WebAssembly.Memory, handle: number, readonly data: unknown,
    forkControl: ForkControl | undefined, private readonly post: (m: WorkerMessage) => void, options: ThreadOptions,
  ) {
    super(core, memory, handle, false, forkControl, options);
    this.#closing = new Int32Array(memory.buffer, H_HOST_CLOSING, 1);
  }

  /**
   * Asks the runtime (on the main thread) to start another worker running
   * `job`. Fire and forget: the new worker starts when the main thread's event
   * loop next turns; share results through memory (see interp/interpreter.ts).
   */
  spawn(job: string | URL, data?: unknown): void {
    this.post({ type: 'spawn', job: moduleUrl(job, 'spawn(job)').href, data });
  }
  /** The runtime's thread starts the fork server (ForkingThread): this worker's fork waits for it. */
  override requestForkServer(): void {
    this.post({ type: 'fork-server' });
  }

  /** True once the runtime is closing: a long-running job should return. */
  get closing(): boolean {
    return Atomics.load(this.#closing, 0) !== 0;
  }
}

export type Job = (ctx: ThreadContext) => unknown;

function serializeError(e: unknown): { name: string; message: string; stack?: string; code?: string } {
  if (e instanceof Error) {
    return { name: e.name, message: e.message, stack: e.stack, code: (e as { code?: string }).code };
  }
  return { name: 'Error', message: String(e) };
}

/**
 * What a pooled worker keeps from one job to the next: the pool gives a worker
 * the jobs of one runtime only, so the core instance (and the linked modules'
 * instances) of its first job serve the next ones. An instance lives in V8's
 * old generation from birth: one per job on a worker that runs a thread start
 * every millisecond filled the old generation, and the major collections (10
 * to 20 ms) landed in the starts. Nothing of a job is left in an instance:
 * the core keeps no state in globals, a thread's state is in its slot.
 */
export interface WorkerKeep {
  core?: CoreExports;
  /** The memory object the kept instances were made over (each job's init carries its own copy of it). */
  memory?: WebAssembly.Memory;
}

export async function runWorker(
  init: WorkerInit, threadId: number, post: (m: WorkerMessage) => void, keep: WorkerKeep = {},
): Promise<void> {
  let core: CoreExports | undefined;
  let handle = 0;
  try {
    const jobModule = (await import(init.job)) as { default?: Job; job?: Job };
    const job = jobModule.default ?? jobModule.job;
    if (typeof job !== 'function') throw new InvalidArgumentError(`job module ${init.job} exports no function`);
    if (!keep.core) {
      keep.core = await instantiateCore(init.module, init.memory);
      keep.memory = init.memory;
      bindLinked(keep.core, init.memory, init.modules);
    }
    core = keep.core;
    const memory = keep.memory!;
    handle = check(core.register(threadId), 'register', 'thread');
    post({ type: 'registered', handle });
    const ctx = new ThreadContext(core, memory, handle, init.data, init.forkControl, post, init.options);
    ctx.attach();
    let value: unknown;
    try {
      value = await job(ctx);
    } finally {
      if (ctx.attached) ctx.detach();
    }
    check(core.unregister(handle), 'unregister', 'thread');
    post({ type: 'done', value });
  } catch (e) {
    if (core && handle > 0) {
      if ((core.thread_state(handle) & STATE_MASK) === ST_ATTACHED) core.detach(handle);
      core.unregister(handle);
    }
    post({ type: 'failed', error: serializeError(e) });
  }
}

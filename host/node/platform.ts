// Node adapter: worker_threads for workers, the file system for the module.
import { access, readFile } from 'node:fs/promises';
import { Worker, threadId } from 'node:worker_threads';
import { childEngineFlags, warnIfUnsafeTiering } from './engine.js';
import type { ForkServerInit, Platform, WorkerInit, WorkerMessage } from '../platform.js';
import { WorkerPool, type PoolableWorker } from '../worker-pool.js';
import { WORKER_ENTRY, takePrestartedWorker } from './prestart.js';

const BUILD_DIR = new URL('../../../build/', import.meta.url);
const FORK_SERVER = new URL('./fork-server.js', import.meta.url);

class NodeWorker implements PoolableWorker {
  readonly #w: Worker;
  // Node reports -1 once the thread has exited; the exit handler needs the id.
  readonly threadId: number;
  /** `prestarted`: a job worker started before its init (prestart.ts), which it gets as its first message. */
  constructor(entry: URL, init: WorkerInit | ForkServerInit, keepsProcessAlive: boolean, prestarted?: Worker) {
    this.#w = prestarted ?? new Worker(entry, { workerData: init });
    if (prestarted) prestarted.postMessage(init);
    this.threadId = this.#w.threadId;
    // A job worker keeps the process alive like any Node worker (someone may be
    // awaiting its result); the fork server does not, or no process would exit.
    this.keepAlive(keepsProcessAlive);
  }
  onMessage(cb: (msg: WorkerMessage) => void): void {
    this.#w.on('message', cb);
  }
  onError(cb: (err: unknown) => void): void {
    this.#w.on('error', cb);
  }
  onExit(cb: (code: number) => void): void {
    this.#w.on('exit', cb);
  }
  terminate(): Promise<number> {
    return this.#w.terminate();
  }
  post(message: unknown): void {
    this.#w.postMessage(message);
  }
  keepAlive(on: boolean): void {
    if (on) this.#w.ref();
    else this.#w.unref();
  }
}

/** A job worker that serves a pool (its entry runs `init`, then the pool's next jobs). */
export function startNodeWorker(init: WorkerInit): PoolableWorker {
  return new NodeWorker(WORKER_ENTRY, init, true, takePrestartedWorker());
}

// Job workers are started once and reused (host/worker-pool.ts).
const pool = new WorkerPool(startNodeWorker);

export const nodePlatform: Platform = {
  async loadWasm(build) {
    // the core is compiled from these bytes: the last moment to tell an embedder its engine's tiering is unsafe
    warnIfUnsafeTiering();
    const url = build instanceof URL ? build : new URL(build === 'debug' ? 'core.debug.wasm' : 'core.wasm', BUILD_DIR);
    return readFile(url);
  },
  async loadLinkedWasm(name, debug) {
    return readFile(new URL(`${name}${debug ? '.debug' : ''}.wasm`, BUILD_DIR));
  },
  async exists(url) {
    if (url.protocol !== 'file:') return true; // only files can be checked here
    return access(url).then(() => true, () => false);
  },
  spawnWorker(init) {
    return pool.spawn(init);
  },
  warmWorker(init) {
    pool.warm(init);
  },
  releaseWorkers(memory) {
    pool.release(memory);
  },
  holdWorkers(memory, on) {
    pool.hold(memory, on);
  },
  workersSettled(memory, timeoutMs) {
    return pool.settled(memory, timeoutMs);
  },
  startForkServer(init) {
    // flags are read in this thread: the server's worker has its own copy of engine.ts
    return new NodeWorker(FORK_SERVER, { ...init, execArgv: childEngineFlags() }, false);
  },
  exit(code: number): never {
    process.exit(code);
  },
  mainThreadId: threadId,
  mainThreadCanBlock: true,
};

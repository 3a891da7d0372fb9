// Node adapter: worker_threads for workers, the file system for the module.
import { readFile } from 'node:fs/promises';
import { Worker, threadId } from 'node:worker_threads';
import type { Platform, PlatformWorker, WorkerInit, WorkerMessage } from '../platform.js';

const BUILD_DIR = new URL('../../../build/', import.meta.url);
const WORKER_ENTRY = new URL('./worker-entry.js', import.meta.url);

class NodeWorker implements PlatformWorker {
  readonly #w: Worker;
  constructor(init: WorkerInit) {
    this.#w = new Worker(WORKER_ENTRY, { workerData: init });
    // Let a process exit even while workers run; close() joins them.
    this.#w.unref();
  }
  get threadId(): number {
    return this.#w.threadId;
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
}

export const nodePlatform: Platform = {
  async loadWasm(build) {
    const url = build instanceof URL ? build : new URL(build === 'debug' ? 'core.debug.wasm' : 'core.wasm', BUILD_DIR);
    return readFile(url);
  },
  spawnWorker(init) {
    return new NodeWorker(init);
  },
  mainThreadId: threadId,
  mainThreadCanBlock: true,
};

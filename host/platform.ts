// What the platform-neutral runtime needs from its host platform, and what a
// platform may add. host/node/platform.ts and host/browser/platform.ts are
// the two adapters; nothing platform-specific is imported outside them.
import type { LinkedName } from './modules.js';
import type { ForkService } from './fork/service.js';
import type { ForkControl } from './fork/protocol.js';
import type { WasmBuild } from './options.js';
import type { ForkServerInit, PlatformWorker, WorkerInit } from './platform-worker.js';
import type { WaitRelay } from './wait.js';

export type { ForkServerInit, PlatformWorker, WorkerInit, WorkerMessage } from './platform-worker.js';
export type { WaitRelay } from './wait.js';
/** What a fork child needs to rebuild its runtime (JSON inside the snapshot): derived from host/options.ts. */
export type { ForkChildOptions } from './options.js';

export interface Platform {
  /** The compiled core module's bytes for a build name, or from a URL. */
  loadWasm(build: WasmBuild): Promise<BufferSource>;
  /** Compiles (and may cache) the core module; when absent the runtime compiles loadWasm's bytes. */
  compileWasm?(build: WasmBuild): Promise<WebAssembly.Module>;
  /** The bytes of a module linked against the core: build/<name>.wasm (or .debug.wasm). Absent: no linked modules. */
  loadLinkedWasm?(name: LinkedName, debug: boolean): Promise<BufferSource>;
  /** Whether `url` names an existing resource (option validation; absent: not checked). */
  exists?(url: URL): Promise<boolean>;
  /** A worker for `init`: the adapters hand it to an idle worker of their pool (host/worker-pool.ts) or start one. */
  spawnWorker(init: WorkerInit): PlatformWorker;
  /** Starts a worker for `init.memory`'s runtime's next job before that job is asked for (host/worker-pool.ts warm). */
  warmWorker?(init: WorkerInit): void;
  /** The runtime over `memory` closed: its idle pooled workers end now rather than when their idle time runs out. */
  releaseWorkers?(memory: WebAssembly.Memory): void;
  /**
   * `on`: another runtime will follow the one over `memory`, over the same memory (a recycled fork carrier's next
   * child): releaseWorkers keeps a few idle workers for it (host/worker-pool.ts hold). `on` false: they end.
   */
  holdWorkers?(memory: WebAssembly.Memory, on: boolean): void;
  /** After releaseWorkers: resolves true once every worker over `memory` has exited or is idle, false after `timeoutMs`. */
  workersSettled?(memory: WebAssembly.Memory, timeoutMs: number): Promise<boolean>;
  /** Starts the fork server thread of the default fork service (Node: one that owns child processes). */
  startForkServer?(init: ForkServerInit): PlatformWorker;
  /**
   * A platform's own fork service (e.g. a browser's in-page fork, where the
   * child is a worker group over a fresh memory). When absent, the runtime
   * uses WorkerForkService over `startForkServer`.
   */
  createForkService?(init: Omit<ForkServerInit, 'control'>, control: ForkControl): ForkService;
  /** Starts a wait relay (host/wait.ts uses relays where Atomics.waitAsync is missing). Absent: waits poll. */
  startWaitRelay?(): WaitRelay;
  /** Ends this process (a fork child's exit). */
  exit?(code: number): never;
  /** This (main) thread's id, stored in its slot for thread dumps. */
  readonly mainThreadId: number;
  /** Whether the main thread may block in Atomics.wait (Node: yes; browsers: no). */
  readonly mainThreadCanBlock: boolean;
}

// What the platform-neutral runtime needs from its host platform, and what a
// platform may add. host/node/platform.ts and host/browser/platform.ts are
// the two adapters; nothing platform-specific is imported outside them.
import type { LinkedModules, LinkedName } from './modules.js';
import type { ForkService } from './fork/service.js';

/** What a new worker receives. Everything here is structured-cloneable. */
export interface WorkerInit {
  module: WebAssembly.Module;
  /** The compiled modules linked against the core (host/modules.ts). */
  modules?: LinkedModules;
  memory: WebAssembly.Memory;
  /** Module specifier (URL string) of the job; its default export runs. */
  job: string;
  data: unknown;
  /** The fork bridge's control block, when the runtime can fork. */
  forkControl?: SharedArrayBuffer;
}

/** What a fork child needs to rebuild its runtime (JSON inside the snapshot): derived from host/options.ts. */
export type { ForkChildOptions } from './options.js';
import type { ForkChildOptions, WasmBuild } from './options.js';

export interface ForkServerInit {
  /** The parent's memory: a pooled child sizes its own memory like it. */
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  maximumPages: number;
  child: ForkChildOptions;
  /** Executable for children (default: this Node); a testing aid for spawn failures. */
  execPath?: string;
  /** Node: the V8 flags a child process starts with (host/node/engine.ts, childEngineFlags). */
  execArgv?: string[];
}

/** Messages a worker sends to the runtime. */
export type WorkerMessage =
  | { type: 'registered'; handle: number }
  | { type: 'spawn'; job: string; data: unknown }
  /** The worker's first fork found no fork server: the runtime starts it. */
  | { type: 'fork-server' }
  | { type: 'done'; value: unknown }
  | { type: 'failed'; error: { name: string; message: string; stack?: string; code?: string } };

export interface PlatformWorker {
  readonly threadId: number;
  onMessage(cb: (msg: WorkerMessage) => void): void;
  onError(cb: (err: unknown) => void): void;
  onExit(cb: (code: number) => void): void;
  terminate(): Promise<unknown>;
}

/**
 * A helper that blocks in Atomics.wait on the caller's behalf, for engines
 * without Atomics.waitAsync: `done` once the i32 at `index` of `buffer` no
 * longer holds `value`, or after `ms`. One wait at a time.
 */
export interface WaitRelay {
  wait(buffer: SharedArrayBuffer, index: number, value: number, ms: number, done: () => void): void;
}

export interface Platform {
  /** The compiled core module's bytes for a build name, or from a URL. */
  loadWasm(build: WasmBuild): Promise<BufferSource>;
  /** Compiles (and may cache) the core module; when absent the runtime compiles loadWasm's bytes. */
  compileWasm?(build: WasmBuild): Promise<WebAssembly.Module>;
  /** The bytes of a module linked against the core: build/<name>.wasm (or .debug.wasm). Absent: no linked modules. */
  loadLinkedWasm?(name: LinkedName, debug: boolean): Promise<BufferSource>;
  /** Whether `url` names an existing resource (option validation; absent: not checked). */
  exists?(url: URL): Promise<boolean>;
  spawnWorker(init: WorkerInit): PlatformWorker;
  /** Starts the fork server thread of the default fork service (Node: one that owns child processes). */
  startForkServer?(init: ForkServerInit): PlatformWorker;
  /**
   * A platform's own fork service (e.g. a browser's in-page fork, where the
   * child is a worker group over a fresh memory). When absent, the runtime
   * uses WorkerForkService over `startForkServer`.
   */
  createForkService?(init: Omit<ForkServerInit, 'control'>, control: SharedArrayBuffer): ForkService;
  /** Starts a wait relay (host/wait.ts uses relays where Atomics.waitAsync is missing). Absent: waits poll. */
  startWaitRelay?(): WaitRelay;
  /** Ends this process (a fork child's exit). */
  exit?(code: number): never;
  /** This (main) thread's id, stored in its slot for thread dumps. */
  readonly mainThreadId: number;
  /** Whether the main thread may block in Atomics.wait (Node: yes; browsers: no). */
  readonly mainThreadCanBlock: boolean;
}

// What passes between the runtime and the workers a platform starts: a job
// worker's init message and its messages back, a fork server's init, and the
// handle a platform gives for each worker. Types only, shared by the runtime,
// the fork service and the platform adapters.
import type { LinkedModules } from './modules.js';
import type { ForkChildOptions, ThreadOptions } from './options.js';
import type { ForkControl } from './fork/protocol.js';

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
  forkControl?: ForkControl;
  /** The runtime's resolved options the worker's thread applies (its stop and fork deadlines). */
  options: ThreadOptions;
  /** Set by the worker pool (host/worker-pool.ts): after the job the worker waits for the pool's next one. */
  pooled?: boolean;
}

/** What a fork server thread receives. */
export interface ForkServerInit {
  /** The parent's memory: a pooled child sizes its own memory like it. */
  memory: WebAssembly.Memory;
  control: ForkControl;
  maximumPages: number;
  child: ForkChildOptions;
  /** Executable for child processes (default: this Node's). */
  execPath?: string;
  /** Node: the V8 flags a child process starts with (host/node/engine.ts, childEngineFlags). */
  execArgv?: string[];
  /**
   * Tests only: a module of fork test hooks (host/fork/hooks.ts) the server
   * loads, and what the test shares with them (structured-cloneable). No
   * production path sets it.
   */
  testHooks?: { module: string; data?: unknown };
}

/** Messages a worker sends to the runtime. */
export type WorkerMessage =
  | { type: 'registered'; handle: number }
  | { type: 'spawn'; job: string; data: unknown }
  /** The worker's first fork found no fork server: the runtime starts it. */
  | { type: 'fork-server' }
  /** `spent`: the job left something running on a pooled worker, which takes no other job (host/worker-pool.ts). */
  | { type: 'done'; value: unknown; spent?: boolean }
  | { type: 'failed'; error: { name: string; message: string; stack?: string; code?: string } };

export interface PlatformWorker {
  readonly threadId: number;
  onMessage(cb: (msg: WorkerMessage) => void): void;
  onError(cb: (err: unknown) => void): void;
  onExit(cb: (code: number) => void): void;
  terminate(): Promise<unknown>;
}

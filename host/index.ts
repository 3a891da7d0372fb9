// Platform-neutral exports. Node users import host/node/index.js instead.
export { Runtime, WorkerThread, type RuntimeOptions, type ForkConfig, type CloseOptions, type StwStats, type ThreadInfo } from './runtime.js';
export type { ForkOptions, ForkPhase } from './fork/request.js';
export type { ForkOutcome, ForkTimings, AtForkHooks, WaitpidOptions, ForkingThread } from './fork/client.js';
export type { ForkService, ForkStats } from './fork/service.js';
export type { ParentService, ParentServiceCall, ParentServiceChild } from './fork/parent-calls.js';
export { RegisteredThread, type StopOptions, type LockOptions } from './thread.js';
export { CacheEntry, Mutex } from './handles.js';
export { ThreadContext, type Job } from './worker.js';
export { instantiateCore, createSharedMemory, type CoreExports } from './core.js';
export type { Platform, PlatformWorker, WaitRelay, WorkerInit } from './platform.js';
export { WorkerPool, WORKER_IDLE_MS, servePool, messageQueue, type PoolableWorker } from './worker-pool.js';
export {
  interpOf, linked, compileLinked, bindLinked, instantiateLinked,
  type InterpExports, type LinkedModules, type LinkedName,
} from './modules.js';
export * from './errors.js';
export {
  validateRuntimeOptions, resolveRuntimeOptions, InvalidOptionError, RUNTIME_OPTIONS, FORK_OPTIONS, DEFAULT_STOP_TIMEOUT_MS,
  type ResolvedOptions, type ForkChildOptions, type WasmBuild, type ForkIsolation,
} from './options.js';
export { ANSWERS_AFTER_CLOSE } from './closed.js';

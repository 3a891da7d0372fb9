// Instantiating the core module over a shared memory, and its export table.

/** The module's exports (docs/ABI.md). Every i32 result < 0 is an error code. */
export interface CoreExports {
  abi_version(): number;
  layout_end(): number;
  heap_base(): number;
  init(capacity: number): number;
  is_ready(): number;
  capacity(): number;
  register(tid: number): number;
  unregister(h: number): number;
  mark_dead(h: number): number;
  attach(h: number): number;
  try_attach(h: number): number;
  detach(h: number): number;
  poll(h: number): number;
  thread_state(h: number): number;
  slot_word(index: number): number;
  stop(h: number, timeoutMs: number): number;
  start(h: number): number;
  stop_try_begin(h: number): number;
  stop_step(h: number): number;
  stop_abandon(h: number): number;
  is_stopped(): number;
  straggler_count(): number;
  straggler(i: number): number;
  stats_reset(): number;
  lock_create(kind: number): number;
  lock_destroy(id: number): number;
  lock_acquire(h: number, id: number, timeoutMs: number): number;
  lock_try_flagged(h: number, id: number): number;
  lock_release(h: number, id: number): number;
  lock_owner(id: number): number;
  lock_depth(id: number): number;
  lock_addr(id: number): number;
  cache_write(h: number, index: number, typeVersion: number, metaVersion: number, value: number): number;
  cache_invalidate(h: number, index: number): number;
  cache_read(index: number, typeVersion: number, metaVersion: number): bigint;
  record_write(h: number, rec: number, first: number, src: number, n: number): number;
  record_fill(h: number, rec: number, value: number, n: number): number;
  record_read(rec: number, first: number, dst: number, n: number): number;
  after_fork_child(h: number, tid: number): number;
}

export const DEFAULT_INITIAL_PAGES = 4;
export const DEFAULT_MAXIMUM_PAGES = 256;

export function createSharedMemory(initial = DEFAULT_INITIAL_PAGES, maximum = DEFAULT_MAXIMUM_PAGES): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial, maximum, shared: true });
}

/** The `env` imports every build (core and linked modules) takes. */
export function envImports(memory: WebAssembly.Memory): WebAssembly.ModuleImports {
  return {
    memory,
    now_ms: () => performance.now(),
    abort: () => { throw new Error('wasm abort'); },
  };
}

/**
 * One instance of the core over `memory`: one per thread. The result is the
 * instance's own export object, so it can be passed unchanged as the "core"
 * imports of a linked module (host/modules.ts): calls between the modules stay
 * Wasm-to-Wasm.
 */
export async function instantiateCore(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<CoreExports> {
  const instance = await WebAssembly.instantiate(module, { env: envImports(memory) });
  return instance.exports as unknown as CoreExports;
}

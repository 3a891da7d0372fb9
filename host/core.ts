// Instantiating the core module over a shared memory, and its export table.
import { instantiate } from '@assemblyscript/loader';
import type * as loader from '@assemblyscript/loader';

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
  lock_consistent(h: number, id: number): number;
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
  diag_spin(h: number, noPoll: number): number;
  diag_floor_round(workers: number, timeoutMs: number): number;
  diag_cmpxchg_pair_ns(iters: number): number;
  diag_attach_detach_ns(h: number, iters: number): number;
  diag_poll_ns(h: number, iters: number): number;
  diag_cache_read_ns(index: number, tv: number, mv: number, value: number, iters: number, mask: number): number;
  diag_mutex_read_ns(h: number, lock: number, index: number, tv: number, mv: number, iters: number, mask: number): number;
  diag_plain_read_ns(index: number, tv: number, mv: number, iters: number, mask: number): number;
  diag_cache_writer(h: number, index: number, tv: number, mv: number, value: number, lock: number): number;
  diag_record_writer(h: number, rec: number, seed: number, pauseEvery: number, pauseSpins: number): number;
  diag_record_hold(h: number, rec: number, value: number, releaseAddr: number): number;
  diag_register_hold(tid: number, releaseAddr: number): number;
  diag_record_reader(h: number, rec: number, validate: number): number;
  interp_run(h: number, ctx: number, budget: number): number;
  interp_run_nopoll(h: number, ctx: number, budget: number): number;
  interp_ctx_size(): number;
}

export const DEFAULT_INITIAL_PAGES = 4;
export const DEFAULT_MAXIMUM_PAGES = 256;

export function createSharedMemory(initial = DEFAULT_INITIAL_PAGES, maximum = DEFAULT_MAXIMUM_PAGES): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial, maximum, shared: true });
}

/** One instance of the core over `memory`: one per thread. */
export async function instantiateCore(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<CoreExports> {
  const env = { memory, now_ms: () => performance.now() };
  const { exports } = await instantiate<Record<string, unknown>>(module, { env } as loader.Imports);
  return exports as unknown as CoreExports;
}

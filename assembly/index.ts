// The module's ABI: every export, with its error codes, is documented in
// docs/ABI.md. Exports validate their arguments and return a negative error
// code (errors.ts) instead of trapping.

import { ABI_VERSION, LAYOUT_END } from "./layout";
import { E_NOT_INIT, E_ARG } from "./errors";
import * as state from "./state";
import * as registry from "./registry";
import * as world from "./world";
import * as locks from "./locks";
import * as seqlock from "./seqlock";
import * as fork from "./fork";
import * as diag from "./diagnostics";
import * as interp from "./interp/vm";

// ---- module and memory -------------------------------------------------------
export function abi_version(): i32 { return <i32>ABI_VERSION; }
export function layout_end(): i32 { return <i32>LAYOUT_END; }
export function heap_base(): i32 { return <i32>__heap_base; }
export function init(capacity: i32): i32 { return registry.init(capacity); }
export function is_ready(): i32 { return registry.isReady() ? 1 : 0; }
export function capacity(): i32 { return registry.isReady() ? state.capacity() : E_NOT_INIT; }

// ---- registry and thread state ------------------------------------------------
export function register(tid: i32): i32 { return registry.register(tid); }
export function unregister(h: i32): i32 { return registry.unregister(h); }
export function mark_dead(h: i32): i32 { return registry.markDead(h); }
export function attach(h: i32): i32 { return state.attach(h, true); }
export function try_attach(h: i32): i32 { return state.attach(h, false); }
export function detach(h: i32): i32 { return state.detach(h); }
export function poll(h: i32): i32 { return state.poll(h); }
export function thread_state(h: i32): i32 { return registry.stateOfHandle(h); }
export function slot_word(index: i32): i32 { return <i32>registry.slotWord(index); }

// ---- stop-the-world ------------------------------------------------------------
export function stop(h: i32, timeout_ms: i32): i32 { return world.stop(h, timeout_ms); }
export function start(h: i32): i32 { return world.start(h); }
export function stop_try_begin(h: i32): i32 { return world.stopTryBegin(h); }
export function stop_step(h: i32): i32 { return world.stopStep(h); }
export function stop_abandon(h: i32): i32 { return world.stopAbandon(h); }
export function is_stopped(): i32 { return world.isStopped(); }
export function straggler_count(): i32 { return world.stragglerCount(); }
export function straggler(i: i32): i32 { return world.straggler(i); }
export function stats_reset(): i32 {
  if (!registry.isReady()) return E_NOT_INIT;
  world.resetStats();
  return 0;
}

// ---- locks -----------------------------------------------------------------------
export function lock_create(kind: i32): i32 {
  return registry.isReady() ? locks.lockCreate(<u32>kind) : E_NOT_INIT;
}
export function lock_destroy(id: i32): i32 { return locks.lockDestroy(id); }
export function lock_acquire(h: i32, id: i32, timeout_ms: i32): i32 { return locks.lockAcquire(h, id, timeout_ms); }
export function lock_try_flagged(h: i32, id: i32): i32 { return locks.lockTryFlagged(h, id); }
export function lock_release(h: i32, id: i32): i32 { return locks.lockRelease(h, id); }
export function lock_consistent(h: i32, id: i32): i32 { return locks.lockConsistent(h, id); }
export function lock_addr(id: i32): i32 { return locks.lockWordAddr(id); }
export function lock_owner(id: i32): i32 { return locks.lockOwner(id); }
export function lock_depth(id: i32): i32 { return locks.lockDepth(id); }

// ---- seqlock cache and records ---------------------------------------------------
export function cache_write(h: i32, index: i32, type_version: u32, meta_version: u32, value: u32): i32 {
  return registry.isReady() ? seqlock.cacheWrite(h, index, type_version, meta_version, value) : E_NOT_INIT;
}
export function cache_invalidate(h: i32, index: i32): i32 {
  return registry.isReady() ? seqlock.cacheInvalidate(h, index) : E_NOT_INIT;
}
export function cache_read(index: i32, type_version: u32, meta_version: u32): i64 {
  return seqlock.cacheRead(index, type_version, meta_version);
}
export function record_write(h: i32, rec: i32, first: i32, src: usize, n: i32): i32 {
  return registry.isReady() ? seqlock.recordWrite(h, rec, first, src, n) : E_NOT_INIT;
}
export function record_fill(h: i32, rec: i32, value: u32, n: i32): i32 {
  return registry.isReady() ? seqlock.recordFill(h, rec, value, n, 0, 0) : E_NOT_INIT;
}
export function record_read(rec: i32, first: i32, dst: usize, n: i32): i32 {
  return seqlock.recordRead(rec, first, dst, n);
}

// ---- fork --------------------------------------------------------------------------
export function after_fork_child(h: i32, tid: i32): i32 { return fork.afterForkChild(h, tid); }

// ---- diagnostics (not stable ABI) ----------------------------------------------------
export function diag_spin(h: i32, no_poll: i32): i32 { return diag.spin(h, no_poll); }
export function diag_floor_round(workers: i32, timeout_ms: f64): f64 { return diag.floorRound(workers, timeout_ms); }
export function diag_cmpxchg_pair_ns(iters: i32): f64 { return iters > 0 ? diag.cmpxchgPairNs(iters) : E_ARG; }
export function diag_attach_detach_ns(h: i32, iters: i32): f64 { return iters > 0 ? diag.attachDetachNs(h, iters) : E_ARG; }
export function diag_poll_ns(h: i32, iters: i32): f64 { return iters > 0 ? diag.pollNs(h, iters) : E_ARG; }
export function diag_cache_read_ns(index: i32, tv: u32, mv: u32, value: u32, iters: i32, mask: i32): f64 {
  return iters > 0 ? diag.cacheReadNs(index, tv, mv, value, iters, mask) : E_ARG;
}
export function diag_mutex_read_ns(h: i32, lock: i32, index: i32, tv: u32, mv: u32, iters: i32, mask: i32): f64 {
  return iters > 0 ? diag.mutexReadNs(h, lock, index, tv, mv, iters, mask) : E_ARG;
}
export function diag_plain_read_ns(index: i32, tv: u32, mv: u32, iters: i32, mask: i32): f64 {
  return iters > 0 ? diag.plainReadNs(index, tv, mv, iters, mask) : E_ARG;
}
export function diag_cache_writer(h: i32, index: i32, tv: u32, mv: u32, value: u32, lock: i32): i32 {
  return diag.cacheWriter(h, index, tv, mv, value, lock);
}
export function diag_record_writer(h: i32, rec: i32, seed: u32, pause_every: i32, pause_spins: i32): i32 {
  return diag.recordWriter(h, rec, seed, pause_every, pause_spins);
}
export function diag_record_hold(h: i32, rec: i32, value: u32, release_addr: usize): i32 {
  return diag.recordHold(h, rec, value, release_addr);
}
export function diag_register_hold(tid: i32, release_addr: usize): i32 {
  return release_addr >= diag.D_QUIT && release_addr < diag.D_QUIT + 0x1000 ? registry.register(tid, release_addr) : E_ARG;
}
export function diag_record_reader(h: i32, rec: i32, validate: i32): i32 {
  return diag.recordReader(h, rec, validate);
}

// ---- reference interpreter (assembly/interp) ------------------------------------------
export function interp_run(h: i32, ctx: usize, budget: i32): i32 { return interp.run(h, ctx, budget); }
export function interp_run_nopoll(h: i32, ctx: usize, budget: i32): i32 { return interp.runWithoutPoll(h, ctx, budget); }
export function interp_ctx_size(): i32 { return <i32>interp.CTX_SIZE; }

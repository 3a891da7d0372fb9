// The module's ABI: every export, with its error codes, is documented in
// docs/ABI.md. Exports validate their arguments and return a negative error
// code (errors.ts) instead of trapping.

import { ABI_VERSION, LAYOUT_END } from "./layout";
import { E_NOT_INIT } from "./errors";
import * as state from "./state";
import * as registry from "./registry";
import * as world from "./world";
import * as locks from "./locks";
import * as seqlock from "./seqlock";
import * as fork from "./fork";
import * as hooks from "./hooks";

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
export function unregister_try(h: i32): i32 { return registry.unregisterTry(h); }
export function mark_dead_try(h: i32): i32 { return registry.markDeadTry(h); }
export function attach(h: i32): i32 { return state.attach(h, true); }
export function try_attach(h: i32): i32 { return state.attach(h, false); }
export function detach(h: i32): i32 { return state.detach(h); }
export function poll(h: i32): i32 { return state.poll(h); }
export function thread_state(h: i32): i32 { return registry.stateOfHandle(h); }
export function slot_word(index: i32): i32 { return <i32>registry.slotWord(index); }

// ---- stop-the-world ------------------------------------------------------------
export function stop(h: i32, timeout_ms: i32): i32 { return registry.isReady() ? world.stop(h, timeout_ms) : E_NOT_INIT; }
export function start(h: i32): i32 { return world.start(h); }
export function stop_arm(h: i32, timeout_ms: i32): i32 { return world.stopArm(h, timeout_ms); }
export function stop_try_begin(h: i32): i32 { return world.stopTryBegin(h); }
export function stop_wait_addr(h: i32): i32 { return world.stopWaitAddr(h); }
export function stop_step(h: i32): i32 { return world.stopStep(h); }
export function stop_abandon(h: i32): i32 { return world.stopAbandon(h); }
export function start_try(h: i32): i32 { return world.startTry(h); }
export function stop_abandon_try(h: i32): i32 { return world.stopAbandonTry(h); }
export function is_stopped(): i32 { return registry.isReady() ? world.isStopped() : E_NOT_INIT; }
export function straggler_count(): i32 { return registry.isReady() ? world.stragglerCount() : E_NOT_INIT; }
export function straggler(i: i32): i32 { return registry.isReady() ? world.straggler(i) : E_NOT_INIT; }
export function stats_reset(): i32 {
  if (!registry.isReady()) return E_NOT_INIT;
  world.resetStats();
  return 0;
}
export function stop_hook_add(addr: i32, value: i32, kind: i32): i32 {
  return registry.isReady() ? hooks.hookAdd(addr, value, kind) : E_NOT_INIT;
}

// ---- locks -----------------------------------------------------------------------
export function lock_create(kind: i32): i32 {
  return registry.isReady() ? locks.lockCreate(<u32>kind) : E_NOT_INIT;
}
export function lock_destroy(id: i32): i32 { return registry.isReady() ? locks.lockDestroy(id) : E_NOT_INIT; }
export function lock_acquire(h: i32, id: i32, timeout_ms: i32): i32 { return locks.lockAcquire(h, id, timeout_ms); }
export function lock_try_flagged(h: i32, id: i32): i32 { return locks.lockTryFlagged(h, id); }
export function lock_release(h: i32, id: i32): i32 { return locks.lockRelease(h, id); }
export function lock_consistent(h: i32, id: i32): i32 { return locks.lockConsistent(h, id); }
export function lock_addr(id: i32): i32 { return registry.isReady() ? locks.lockWordAddr(id) : E_NOT_INIT; }
export function lock_owner(id: i32): i32 { return registry.isReady() ? locks.lockOwner(id) : E_NOT_INIT; }
export function lock_depth(id: i32): i32 { return registry.isReady() ? locks.lockDepth(id) : E_NOT_INIT; }

// ---- seqlock cache and records ---------------------------------------------------
// Writers name themselves: `h` must be a registered thread (checkHandle also
// answers E_NOT_INIT before init); a writer that meets another writer waits
// while that writer's slot is live (seqlock.ts). Reads need no handle.
export function cache_write(h: i32, index: i32, type_version: u32, meta_version: u32, value: u32): i32 {
  const e = state.checkHandle(h);
  return e < 0 ? e : seqlock.cacheWrite(h, index, type_version, meta_version, value);
}
export function cache_invalidate(h: i32, index: i32): i32 {
  const e = state.checkHandle(h);
  return e < 0 ? e : seqlock.cacheInvalidate(h, index);
}
export function cache_read(index: i32, type_version: u32, meta_version: u32): i64 {
  return registry.isReady() ? seqlock.cacheRead(index, type_version, meta_version) : <i64>E_NOT_INIT;
}
export function record_write(h: i32, rec: i32, first: i32, src: usize, n: i32): i32 {
  const e = state.checkHandle(h);
  return e < 0 ? e : seqlock.recordWrite(h, rec, first, src, n);
}
export function record_fill(h: i32, rec: i32, value: u32, n: i32): i32 {
  const e = state.checkHandle(h);
  return e < 0 ? e : seqlock.recordFill(h, rec, value, n, 0, 0);
}
export function record_read(rec: i32, first: i32, dst: usize, n: i32): i32 {
  return registry.isReady() ? seqlock.recordRead(rec, first, dst, n) : E_NOT_INIT;
}

// ---- fork --------------------------------------------------------------------------
export function after_fork_child(h: i32, tid: i32): i32 { return fork.afterForkChild(h, tid); }

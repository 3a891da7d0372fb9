// diag.wasm: benchmark and stress loops, linked against the core (module
// "core") over the same memory. Not part of the stable ABI; docs/ABI.md,
// "Linked modules", lists its exports. Arguments naming a handle, lock, cache
// entry or record are checked by the core calls the loops make; the loops
// themselves write only this module's control words and the caller's slot
// user words, so `rec` and the slot index are range-checked here.

import { E_ARG } from "../errors";
import { RECORD_COUNT, CACHE_ENTRIES } from "../layout";
import { DIAG_BLOCK, DIAG_HOST_SCRATCH, DIAG_DATA } from "../link/blocks";
import * as loops from "./loops";

export const DIAG_QUIT_ADDR: u32 = <u32>loops.D_QUIT;
export const DIAG_SCRATCH_ADDR: u32 = <u32>DIAG_HOST_SCRATCH;
export const DIAG_BLOCK_ADDR: u32 = <u32>DIAG_BLOCK;
export const DIAG_DATA_ADDR: u32 = <u32>DIAG_DATA;

export function diag_heap_base(): i32 { return <i32>__heap_base; }

// @ts-ignore: decorator
@inline function entryOk(index: i32, mask: i32): bool {
  return <u32>index < <u32>CACHE_ENTRIES && <u32>(index + mask) < <u32>CACHE_ENTRIES && mask >= 0;
}

export function diag_spin(h: i32, no_poll: i32): i32 { return loops.spin(h, no_poll); }
export function diag_floor_round(workers: i32, timeout_ms: f64): f64 {
  return workers > 0 ? loops.floorRound(workers, timeout_ms) : E_ARG;
}
export function diag_cmpxchg_pair_ns(iters: i32): f64 { return iters > 0 ? loops.cmpxchgPairNs(iters) : E_ARG; }
export function diag_attach_detach_ns(h: i32, iters: i32): f64 { return iters > 0 ? loops.attachDetachNs(h, iters) : E_ARG; }
export function diag_poll_ns(h: i32, iters: i32): f64 { return iters > 0 ? loops.pollNs(h, iters) : E_ARG; }
export function diag_cache_read_ns(index: i32, tv: u32, mv: u32, value: u32, iters: i32, mask: i32): f64 {
  return iters > 0 && entryOk(index, mask) ? loops.cacheReadNs(index, tv, mv, value, iters, mask) : E_ARG;
}
export function diag_mutex_read_ns(h: i32, lock: i32, index: i32, tv: u32, mv: u32, iters: i32, mask: i32): f64 {
  return iters > 0 && entryOk(index, mask) ? loops.mutexReadNs(h, lock, index, tv, mv, iters, mask) : E_ARG;
}
export function diag_plain_read_ns(index: i32, tv: u32, mv: u32, iters: i32, mask: i32): f64 {
  return iters > 0 && entryOk(index, mask) ? loops.plainReadNs(index, tv, mv, iters, mask) : E_ARG;
}
export function diag_cache_writer(h: i32, index: i32, tv: u32, mv: u32, value: u32, lock: i32): i32 {
  return loops.cacheWriter(h, index, tv, mv, value, lock);
}
export function diag_record_writer(h: i32, rec: i32, seed: u32): i32 {
  return loops.recordWriter(h, rec, seed);
}
export function diag_record_reader(h: i32, rec: i32, validate: i32): i32 {
  return <u32>rec < <u32>RECORD_COUNT ? loops.recordReader(h, rec, validate) : E_ARG;
}

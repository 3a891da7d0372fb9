// Diagnostic loops for tests and benchmarks. They run inside Wasm so that
// measurements are not dominated by JS↔Wasm calls, and they reach the core the
// way any linked module does: its exports (imported from "core") and the
// documented layout. Not part of the stable ABI. Their control words live in
// this module's own block (assembly/link/blocks.ts), never in the core's layout.

import {
  SLOTS, SLOT_SIZE, SL_USER, CACHE, CACHE_ENTRY_SIZE, CE_TYPE_VERSION, CE_META_VERSION, CE_VALUE,
  RECORDS, RECORD_SIZE, RECORD_DATA,
} from "../layout";
import { DIAG_BLOCK } from "../link/blocks";
import { nowMs } from "../clock";
import { poll, attach, detach, cacheRead, cacheWrite, recordFill, lockAcquire, lockRelease } from "../link/core";

export const D_QUIT: usize = DIAG_BLOCK + 0; // non-zero: diagnostic loops return
export const D_FLOOR_FLAG: usize = DIAG_BLOCK + 64; // bumped by the floor requester
export const D_FLOOR_ACKS: usize = DIAG_BLOCK + 128; // one atomic add per worker per bump
export const D_CAS_WORD: usize = DIAG_BLOCK + 192;

// Progress and tallies live in the caller's slot user words.
// @ts-ignore: decorator
@inline function userWord(h: i32, k: i32): usize {
  return SLOTS + (<usize>(h & 0xff)) * SLOT_SIZE + SL_USER + ((<usize>k) << 2);
}

// @ts-ignore: decorator
@inline function cacheEntry(index: i32): usize {
  return CACHE + (<usize>index) * CACHE_ENTRY_SIZE;
}

// @ts-ignore: decorator
@inline function recordWord(rec: i32, i: i32): usize {
  return RECORDS + (<usize>rec) * RECORD_SIZE + RECORD_DATA + ((<usize>i) << 2);
}

// A spinning worker: counts progress in user word 0, polls unless `noPoll`,
// acknowledges floor bumps. Returns on D_QUIT, or with a poll error.
export function spin(h: i32, noPoll: i32): i32 {
  const progress = userWord(h, 0);
  let seen = atomic.load<u32>(D_FLOOR_FLAG);
  while (atomic.load<u32>(D_QUIT) == 0) {
    if (!noPoll) {
      const r = poll(h);
      if (r < 0) return r;
    }
    atomic.store<u32>(progress, atomic.load<u32>(progress) + 1);
    const f = atomic.load<u32>(D_FLOOR_FLAG);
    if (f != seen) {
      seen = f;
      atomic.add<u32>(D_FLOOR_ACKS, 1);
    }
  }
  return 0;
}

// The physical floor of a stop: bump a flag, spin until `workers` spinning
// threads have seen it and acknowledged. Returns nanoseconds, or -1 on timeout.
export function floorRound(workers: i32, timeoutMs: f64): f64 {
  const acks = atomic.load<u32>(D_FLOOR_ACKS);
  const t0 = nowMs();
  atomic.add<u32>(D_FLOOR_FLAG, 1);
  let k: u32 = 0;
  while (atomic.load<u32>(D_FLOOR_ACKS) - acks < <u32>workers) {
    if ((++k & 1023) == 0 && nowMs() - t0 > timeoutMs) return -1;
  }
  return (nowMs() - t0) * 1e6;
}

export function cmpxchgPairNs(iters: i32): f64 {
  const t0 = nowMs();
  for (let i = 0; i < iters; i++) {
    atomic.cmpxchg<u32>(D_CAS_WORD, 0, 1);
    atomic.cmpxchg<u32>(D_CAS_WORD, 1, 0);
  }
  return (nowMs() - t0) * 1e6 / <f64>iters;
}

// `h` must be attached; it is attached again on return. Calls cross the
// module boundary, as an embedder's do.
export function attachDetachNs(h: i32, iters: i32): f64 {
  const t0 = nowMs();
  for (let i = 0; i < iters; i++) {
    if (detach(h) < 0 || attach(h) < 0) return -1;
  }
  return (nowMs() - t0) * 1e6 / <f64>iters;
}

// The exported poll, called across the module boundary.
export function pollNs(h: i32, iters: i32): f64 {
  const t0 = nowMs();
  for (let i = 0; i < iters; i++) {
    if (poll(h) < 0) return -1;
  }
  return (nowMs() - t0) * 1e6 / <f64>iters;
}

// `mask` is 0 at run time; it keeps the optimiser from hoisting loads.
// Returns ns per read, or -1 if a hit carried a value other than `value`
// (a miss is legitimate: a reader that keeps meeting a writer gives up).
export function cacheReadNs(index: i32, tv: u32, mv: u32, value: u32, iters: i32, mask: i32): f64 {
  let wrong = 0;
  const t0 = nowMs();
  for (let i = 0; i < iters; i++) {
    const r = cacheRead(index + (i & mask), tv, mv);
    if (r > 0 && <u32>r != value) wrong++;
  }
  const ns = (nowMs() - t0) * 1e6 / <f64>iters;
  return wrong == 0 ? ns : -1;
}

export function mutexReadNs(h: i32, lock: i32, index: i32, tv: u32, mv: u32, iters: i32, mask: i32): f64 {
  let hits = 0;
  const t0 = nowMs();
  for (let i = 0; i < iters; i++) {
    if (lockAcquire(h, lock, -1) < 0) return -1;
    const e = cacheEntry(index + (i & mask));
    if (load<u32>(e + CE_TYPE_VERSION) == tv && load<u32>(e + CE_META_VERSION) == mv) {
      hits += <i32>(load<u32>(e + CE_VALUE) != 0xffffffff);
    }
    lockRelease(h, lock);
  }
  const ns = (nowMs() - t0) * 1e6 / <f64>iters;
  return hits == iters ? ns : -1;
}

export function plainReadNs(index: i32, tv: u32, mv: u32, iters: i32, mask: i32): f64 {
  let hits = 0;
  const t0 = nowMs();
  for (let i = 0; i < iters; i++) {
    const e = cacheEntry(index + (i & mask));
    if (load<u32>(e + CE_TYPE_VERSION) == tv && load<u32>(e + CE_META_VERSION) == mv) {
      hits += <i32>(load<u32>(e + CE_VALUE) != 0xffffffff);
    }
  }
  const ns = (nowMs() - t0) * 1e6 / <f64>iters;
  return hits == iters ? ns : -1;
}

// Rewrites cache entry `index` with the same payload until D_QUIT, under the
// lock when `lock` >= 0 (so mutex readers see the same writer). Returns writes;
// user word 2 counts writes that failed (E_BUSY: another writer seen dead).
export function cacheWriter(h: i32, index: i32, tv: u32, mv: u32, value: u32, lock: i32): i32 {
  let n = 0;
  let failed: u32 = 0;
  while (atomic.load<u32>(D_QUIT) == 0) {
    let r = 0;
    if (lock >= 0) {
      if (lockAcquire(h, lock, -1) < 0) return -1;
      r = cacheWrite(h, index, tv, mv, value);
      lockRelease(h, lock);
    } else {
      r = cacheWrite(h, index, tv, mv, value);
    }
    if (r < 0) atomic.store<u32>(userWord(h, 2), ++failed);
    if ((n & 63) == 0 && poll(h) < 0) return -1;
    n++;
  }
  return n;
}

// DPDK test_seqlock writer: one random value into words 0, 16 and 32 of record
// `rec` (three cache lines) via the exported record_fill. Polls between
// writes. Returns the number of writes, or -1 when a write failed.
export function recordWriter(h: i32, rec: i32, seed: u32): i32 {
  let x = seed | 1;
  let n = 0;
  while (atomic.load<u32>(D_QUIT) == 0) {
    if (poll(h) < 0) return -1;
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    if (recordFill(h, rec, x, 33) < 0) return -1;
    n++;
  }
  return n;
}

// Reader (polls between reads): reads words 0, 16, 32 in place until D_QUIT,
// the optimistic way an embedder reads a documented record; with `validate`
// only snapshots the sequence confirms count. Returns torn reads; user word 1
// gets the count of reads compared. Without validation it is the negative control.
export function recordReader(h: i32, rec: i32, validate: i32): i32 {
  let torn = 0;
  let reads: u32 = 0;
  const seq = RECORDS + (<usize>rec) * RECORD_SIZE;
  while (atomic.load<u32>(D_QUIT) == 0) {
    if (poll(h) < 0) return -1;
    const s = atomic.load<u32>(seq);
    if (validate && (s & 1)) continue;
    const a = atomic.load<u32>(recordWord(rec, 0));
    const b = atomic.load<u32>(recordWord(rec, 16));
    const c = atomic.load<u32>(recordWord(rec, 32));
    if (validate && atomic.load<u32>(seq) != s) continue;
    reads++;
    if (a != b || b != c) torn++;
  }
  atomic.store<u32>(userWord(h, 1), reads);
  return torn;
}
